"""Secrets never leave the environment: not into logs, CLI output, or the ledger's files."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tradecrew.cli import app
from tradecrew.config import get_settings

CANARY = "canary-XYZ-123"
SECRET_ENV = (
    "TRADECREW_BROKER__ALPACA_API_KEY",
    "TRADECREW_BROKER__ALPACA_SECRET_KEY",
    "TRADECREW_LLM__API_KEY",
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("TRADECREW_HOME", str(home))
    for name in SECRET_ENV:
        monkeypatch.setenv(name, CANARY)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def _commands() -> set[str]:
    """Top-level command and group names the CLI has today."""
    group = typer.main.get_command(app)
    return set(getattr(group, "commands", {}))


def _run(runner: CliRunner, args: list[str]) -> str:
    result = runner.invoke(app, args)
    text = result.output
    with contextlib.suppress(ValueError):  # stderr already mixed into output
        text += result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += repr(result.exception)
    return text


def _dump_sqlite(path: Path) -> str:
    """Every row of every table, as text."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return "\n".join(
            repr(row) for table in tables for row in con.execute(f'select * from "{table}"')
        )
    finally:
        con.close()


def test_canary_secret_never_appears_in_logs_output_or_ledger(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = get_settings()
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == CANARY  # the canary really is loaded
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    commands = _commands()
    outputs: list[str] = []

    outputs.append(_run(runner, ["config", "check"]))
    outputs.append(_run(runner, ["config", "check", "--json"]))
    outputs.append(_run(runner, ["analyze", "XAUUSD"]))
    outputs.append(_run(runner, ["analyze", "EURUSD", "--json"]))
    outputs.append(_run(runner, ["demo", "--symbols", "XAUUSD,SPX"]))
    if "propose" in commands:
        made = _run(runner, ["propose", "XAUUSD", "buy", "1", "--json"])
        outputs.append(made)
        outputs.append(_run(runner, ["propose", "SPX", "sell", "2"]))
        proposal_id = json.loads(made[made.index("{") :])["proposal_id"]
        if "proposals" in commands:
            for args in (
                ["proposals", "list"],
                ["proposals", "show", proposal_id],
                ["proposals", "approve", proposal_id],
                ["proposals", "approve", proposal_id, "--json"],
                ["proposals", "list", "--json"],
            ):
                outputs.append(_run(runner, args))
        assert "filled" in "".join(outputs)  # the cycle really went through the venue
    for group, args in (
        ("orders", ["orders"]),
        ("positions", ["positions", "--json"]),
        ("account", ["account"]),
        ("risk", ["risk", "status", "--json"]),
        ("risk", ["risk", "kill-switch", "on", "--reason", "drill"]),
        ("risk", ["risk", "kill-switch", "off", "--reason", "drill over"]),
        ("audit", ["audit", "log", "--limit", "200"]),
        ("audit", ["audit", "verify"]),
        ("bogus", ["bogus-command"]),
    ):
        if group in commands or group == "bogus":
            outputs.append(_run(runner, args))

    assert all(outputs)
    for text in outputs:
        assert CANARY not in text
    assert CANARY not in caplog.text
    for record in caplog.records:
        assert CANARY not in str(record.args)

    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "tradecrew.db" for p in files) or "propose" not in commands
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path
        if path.suffix == ".db":
            assert CANARY not in _dump_sqlite(path), path


def test_settings_never_print_their_secrets(home: Path) -> None:
    settings = get_settings()
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert CANARY not in text

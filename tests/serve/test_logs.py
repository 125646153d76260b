"""Structured logs: JSON lines off a terminal, and canary secrets never in them."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.cli.invoke import cli
from tests.serve.helpers import serve_env
from tradecrew.config import Settings, get_settings
from tradecrew.serve.logs import configure, get_logger, known_secrets

CANARY = "canary-XYZ-123-serve"
SECRET_ENV = (
    "TRADECREW_LLM__API_KEY",
    "TRADECREW_BROKER__ALPACA_SECRET_KEY",
    "TRADECREW_MCP_TOKEN",
    "APCA_API_SECRET_KEY",
)


@pytest.mark.parametrize("name", SECRET_ENV)
def test_a_canary_secret_is_masked_in_every_field_and_in_library_logs(
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(name, CANARY)
    settings = Settings(home=tmp_path)
    assert CANARY in known_secrets(settings)
    configure(settings, json_logs=True)
    log = get_logger()
    log.error("job_failed", error=f"401: bad key {CANARY}", nested={"echo": [CANARY, 1]})
    logging.getLogger("tradecrew.brokers.paper").warning("server said %s", CANARY)
    try:
        raise RuntimeError(f"refused {CANARY[:9]}\x1b[0m{CANARY[9:]}")  # split by an escape
    except RuntimeError:
        log.exception("crashed")
    err = capsys.readouterr().err
    assert CANARY not in err and "***" in err
    lines = [json.loads(line) for line in err.splitlines()]
    assert [line["event"] for line in lines] == ["job_failed", "server said ***", "crashed"]
    assert lines[0]["nested"] == {"echo": ["***", 1]}


def test_serve_once_runs_every_job_and_leaks_no_canary(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    for name, value in serve_env(tradecrew_home, **dict.fromkeys(SECRET_ENV, CANARY)).items():
        if name.startswith(("TRADECREW_", "APCA_")):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    done = cli("serve", "--once", "--watchlist", "XAUUSD")
    assert done.exit_code == 0, done.output[-2000:]
    assert CANARY not in done.output
    events = [json.loads(line)["event"] for line in done.output.splitlines()]
    assert "ab_check" in events  # off a terminal, every line is one JSON document

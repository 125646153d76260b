"""Expected broker failures end a command with one line and a documented exit code: a live
account without both opt-ins exits 2 before anything starts, an outage exits 3."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradecrew.cli import app
from tradecrew.errors import EXIT_BAD_INPUT, EXIT_UNAVAILABLE

runner = CliRunner()


def _dead_url() -> str:
    """An address on this machine where nothing listens (the port was just released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _alpaca_env(monkeypatch: pytest.MonkeyPatch, url: str, **extra: str) -> None:
    monkeypatch.setenv("TRADECREW_BROKER__NAME", "alpaca")
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_BASE_URL", url)
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_API_KEY", "PKTESTKEY0123456789")
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_SECRET_KEY", "test-secret-value")
    for name, value in extra.items():
        monkeypatch.setenv(f"TRADECREW_BROKER__{name}", value)


def _one_error_line(out, code: int) -> str:  # type: ignore[no-untyped-def]
    assert out.exit_code == code, (out.exit_code, out.output, out.exception)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "Traceback" not in out.output
    return lines[0]


@pytest.mark.parametrize("args", [["account"], ["proposals", "list"], ["mcp"]])
def test_live_endpoint_labelled_paper_exits_2_naming_the_opt_ins(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    _alpaca_env(monkeypatch, "https://api.alpaca.markets", AUTO_APPROVE_PAPER="true")
    line = _one_error_line(runner.invoke(app, args), EXIT_BAD_INPUT)
    assert "live account" in line and "TRADECREW_BROKER__LIVE_TRADING=true" in line
    assert "--live" in line


@pytest.mark.parametrize(
    "args",
    [
        ["account"],
        ["positions", "--json"],
        ["orders"],
        ["risk"],
        ["propose", "AAPL", "buy", "1"],
        ["risk", "kill-switch", "on", "--reason", "outage drill"],
    ],
)
def test_broker_outage_exits_3_with_one_line(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    _alpaca_env(monkeypatch, _dead_url(), LIVE_TRADING="true", READ_ATTEMPTS="1")
    line = _one_error_line(runner.invoke(app, ["--live", *args]), EXIT_UNAVAILABLE)
    assert "Alpaca unreachable" in line


def test_broker_outage_in_a_real_process_is_one_line_and_exit_3(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TRADECREW_HOME": str(tmp_path / "home"),
        "TRADECREW_BROKER__NAME": "alpaca",
        "TRADECREW_BROKER__ALPACA_BASE_URL": _dead_url(),
        "TRADECREW_BROKER__ALPACA_API_KEY": "PKTESTKEY0123456789",
        "TRADECREW_BROKER__ALPACA_SECRET_KEY": "test-secret-value",
        "TRADECREW_BROKER__LIVE_TRADING": "true",
        "TRADECREW_BROKER__READ_ATTEMPTS": "1",
    }
    out = subprocess.run(
        [sys.executable, "-m", "tradecrew", "--live", "account"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == EXIT_UNAVAILABLE, out.stderr
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert out.stderr.startswith("error: ") and "unreachable" in out.stderr
    assert "secret" not in out.stderr.lower() and out.stdout == ""


def test_a_halt_during_an_outage_says_the_desk_is_halted(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _alpaca_env(monkeypatch, _dead_url(), LIVE_TRADING="true", READ_ATTEMPTS="1")
    out = runner.invoke(app, ["--live", "risk", "kill-switch", "on", "--reason", "outage"])
    line = _one_error_line(out, EXIT_UNAVAILABLE)
    assert "trading is now halted" in line
    from tradecrew.ledger import Ledger
    from tradecrew.models import TradingState

    with Ledger.from_settings() as ledger:
        assert ledger.get_trading_state().state is TradingState.HALTED

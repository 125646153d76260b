"""A server's error text reaches the terminal as one plain line: the escape sequences,
control characters and forged ``error:`` lines a hostile or broken server sends are removed,
and a 100 KB message is capped (Alpaca's trading and market-data APIs, news)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.brokers.fake_alpaca import FakeAlpaca, Fault
from tests.news.fake_alpaca_news import FakeAlpacaNews
from tradecrew.cli import app
from tradecrew.errors import EXIT_BAD_INPUT, EXIT_UNAVAILABLE

runner = CliRunner()

ESCAPES = (
    "\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[31mRED\x1b[0m\x1b]8;;http://evil.example\x07link"
    "\x1b]8;;\x07\r\x1b[1Aoverwritten\u202egnp.exe\x9b2J\x00"
)
HOSTILE = "line1\nerror: second fake line\r\n" + ESCAPES + "Z" * 100_000
KEY, SECRET = "PKTEXTCANARY1234567", "text-secret-Qw7"


def assert_one_clean_line(stderr: str) -> str:
    """stderr is exactly one ``error:`` line, with nothing a terminal would act on."""
    lines = stderr.splitlines()
    assert len(lines) == 1, lines[:3]
    line = lines[0]
    assert line.startswith("error: ")
    assert all(ch.isprintable() for ch in line), repr(line[:200])
    assert "\u202e" not in line and "PWNED" not in line and "[2J" not in line
    assert len(line) <= 1100 and "…" in line  # 100 KB of it, cut
    return line


@pytest.fixture
def broker(tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    venue = FakeAlpaca(KEY, SECRET).start()
    monkeypatch.setenv("TRADECREW_BROKER__NAME", "alpaca")
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_BASE_URL", venue.url)
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_API_KEY", KEY)
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_SECRET_KEY", SECRET)
    monkeypatch.setenv("TRADECREW_BROKER__READ_ATTEMPTS", "1")
    monkeypatch.setenv("TRADECREW_BROKER__LIVE_TRADING", "true")  # 127.0.0.1 is not Alpaca's paper
    yield venue
    venue.stop()


def test_alpaca_broker_error_with_escapes_and_a_forged_line_is_one_capped_line(
    broker: FakeAlpaca,
) -> None:
    broker.reject_next(403, 40310000, HOSTILE + SECRET, method="GET", path="/v2/account")
    out = runner.invoke(app, ["--live", "account"])
    assert out.exit_code == EXIT_BAD_INPUT, (out.output, out.exception)
    line = assert_one_clean_line(out.stderr)
    assert "Alpaca 403: line1 error: second fake line" in line and "RED" in line
    assert SECRET not in line


@pytest.fixture
def data_server(tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpacaNews]:
    from tradecrew.tools.catalog import provider_for

    srv = FakeAlpacaNews(KEY, SECRET).start()
    monkeypatch.setenv("TRADECREW_DATA__ALPACA_DATA_URL", srv.url)
    monkeypatch.setenv("TRADECREW_DATA__MAX_ATTEMPTS", "1")
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    provider_for.cache_clear()
    yield srv
    provider_for.cache_clear()
    srv.stop()


@pytest.mark.parametrize(
    "args", [["analyze", "AAPL", "--source", "alpaca"], ["news", "AAPL", "--source", "alpaca"]]
)
def test_market_data_and_news_errors_with_escapes_are_one_capped_line(
    data_server: FakeAlpacaNews, args: list[str]
) -> None:
    body = json.dumps({"code": 40010001, "message": HOSTILE + " key=" + KEY}).encode()
    data_server.answer_next(body, status=400)
    out = runner.invoke(app, args)
    assert out.exit_code == EXIT_UNAVAILABLE, (out.output, out.exception)
    line = assert_one_clean_line(out.stderr)
    assert "request refused (400: line1 error: second fake line" in line
    assert KEY not in line and len(line) < 300


def test_a_broker_refusing_everything_in_a_real_terminal_session_forges_no_line(
    broker: FakeAlpaca, tradecrew_home: Path
) -> None:
    # Every read refused, reconciliation included: it warns, then the command fails; each
    # is one plain line and the server's "error:" text never starts a line of its own.
    broker.faults.append(Fault("GET", None, 100, 403, {"code": 40310000, "message": HOSTILE}))
    proc = subprocess.run(
        [sys.executable, "-m", "tradecrew", "--live", "account"],
        env={**os.environ, "TERM": "xterm-256color"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] in (["error"], ["reconcile", "error"]), lines
    assert len(proc.stderr) < 3000
    for line in lines:
        assert line.isprintable() and "PWNED" not in line, repr(line[:300])

"""Shared fixtures: the real data files in ../shared/data and an isolated TRADECREW_HOME."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings as hypothesis_settings

from tests.alerts.fake_telegram import HOOK_SECRET, TOKEN, FakeTelegram

# CI explores new random examples on every run (a fixed seed would only ever re-check the
# same ones), within a fixed budget: at most 50 examples a property unless the test asks
# for its own count, no per-example deadline on a shared machine. A failure prints the
# @reproduce_failure blob that replays it. "derandomized" replays a fixed set of examples,
# for bisecting locally: TRADECREW_HYPOTHESIS_PROFILE=derandomized uv run pytest ...
hypothesis_settings.register_profile(
    "ci", derandomize=False, deadline=None, print_blob=True, max_examples=50
)
hypothesis_settings.register_profile(
    "derandomized", derandomize=True, deadline=None, print_blob=True, max_examples=50
)
_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
_PROFILE = os.environ.get("TRADECREW_HYPOTHESIS_PROFILE") or ("ci" if _CI else None)
if _PROFILE:
    hypothesis_settings.load_profile(_PROFILE)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_file(name: str) -> Path:
    """A file of ../shared/data; missing, it skips the test locally but fails it in CI, where
    a skip would hide that the real-data tests never ran."""
    path = SHARED_DATA / name
    if not path.is_file():
        message = f"shared test data {name} not found beside the checkout ({SHARED_DATA})"
        if _CI:
            pytest.fail(f"{message}; CI must provide it", pytrace=False)
        pytest.skip(message)
    return path


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    df.columns = [c.lower() for c in df.columns]
    df.index = pd.DatetimeIndex(df.index).tz_localize("UTC")
    df.index.name = "timestamp"
    return df[["open", "high", "low", "close", "volume"]].astype("float64")


@pytest.fixture(scope="session")
def xauusd_d1() -> pd.DataFrame:
    """Gold daily bars from a MetaTrader export, as the canonical OHLCV frame."""
    raw = pd.read_csv(shared_file("XAUUSD_D1_mt5.csv"), sep=";")
    raw.index = pd.to_datetime(raw.pop("Date"), format="%Y.%m.%d %H:%M")
    return _canonical(raw)


@pytest.fixture(scope="session")
def eurusd_h1() -> pd.DataFrame:
    raw = pd.read_csv(shared_file("EURUSD_H1.csv"), index_col=0, parse_dates=True)
    return _canonical(raw)


@pytest.fixture(scope="session")
def goog_d1() -> pd.DataFrame:
    raw = pd.read_csv(shared_file("GOOG_D1.csv"), index_col=0, parse_dates=True)
    return _canonical(raw)


@pytest.fixture
def tradecrew_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty TRADECREW_HOME for one test, with settings re-read from the environment."""
    from tradecrew.config import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("TRADECREW_HOME", str(home))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    """A Telegram Bot API stand-in on 127.0.0.1 that knows the alert tests' canary secrets."""
    fake = FakeTelegram(token=TOKEN, webhook_path=f"/hook/{HOOK_SECRET}").start()
    yield fake
    fake.stop()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A local port that refuses connections for the whole test: bound, never listening.

    A port merely closed after a bind may be taken by another xdist worker's stand-in server
    a moment later, which then answers requests meant to be refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@pytest.fixture
def own_provided_instruments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Instruments a data provider derives during the test stay in that test."""
    import tradecrew.instruments

    monkeypatch.setattr(tradecrew.instruments, "_PROVIDED", {})


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh ledger database on each backend: a new SQLite file, and a PostgreSQL database
    as a fresh migration leaves it (``tests.pgdb``; skipped without
    TRADECREW_TEST_DATABASE_URL, failed in CI). TRADECREW_HOME points at the test's folder,
    where a server ledger keeps its audit key and anchor."""
    from tests.pgdb import fresh_database
    from tradecrew.config import get_settings

    monkeypatch.setenv("TRADECREW_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(mode=0o700, exist_ok=True)
    get_settings.cache_clear()
    try:
        if request.param == "sqlite":
            yield f"sqlite:///{tmp_path / 'ledger.db'}"
        else:
            with fresh_database() as url:
                yield url
    finally:
        get_settings.cache_clear()


@pytest.fixture
def desk_home(ledger_url: str, tmp_path: Path) -> Path:
    """A folder for ``tests.desk.helpers.build_desk`` whose ledger is on each backend in turn
    (SQLite's default file, or the PostgreSQL database named in ``ledger.url``)."""
    if not ledger_url.startswith("sqlite"):
        (tmp_path / "ledger.url").write_text(ledger_url)
    return tmp_path

"""``tradecrew serve`` refuses bad input in one line with exit code 2, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.invoke import cli
from tradecrew.config import get_settings


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--http", "nonsense"], {}, "--http takes HOST:PORT"),
        (["--http", "127.0.0.1:99999"], {}, "--http takes HOST:PORT"),
        (["--http", "0.0.0.0:9108"], {}, "not a loopback address"),
        ([], {"TRADECREW_SERVE__CREW": '{"H7": 60}'}, "H7"),
        ([], {"TRADECREW_SERVE__WATCH_SECONDS": "-1"}, "watch_seconds"),
        ([], {"TRADECREW_SERVE__SHUTDOWN_SECONDS": "30"}, "shutdown_seconds"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    args: list[str],
    env: dict[str, str],
    says: str,
    tradecrew_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    result = cli("serve", "--once", *args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0]
    assert not (tradecrew_home / "serve.lock").exists()  # refused before anything started


def test_an_unknown_symbol_in_the_watchlist_is_refused_and_the_home_is_free_again(
    tradecrew_home: Path, restore_logging: None
) -> None:
    result = cli("serve", "--once", "--watchlist", "XAUUSD,NOSUCHTHING")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "NOSUCHTHING" in lines[0]
    from tradecrew.serve.lock import HomeLock

    HomeLock(tradecrew_home).acquire().release()  # the refused run let go of the lock


def test_an_empty_watchlist_is_refused(tradecrew_home: Path) -> None:
    result = cli("serve", "--once", "--watchlist", " , ")
    assert result.exit_code == 2 and "names no symbol" in result.output

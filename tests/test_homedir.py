"""The home folder is the user's alone: a home another user can write (or owns) is refused
with one line saying how to fix it, and the desk creates its home 0700 and its databases 0600
whatever the umask, so no other local user can read the ledger or swap a database."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradecrew.cli import app
from tradecrew.errors import EXIT_BAD_INPUT

runner = CliRunner()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that would make every file world-readable: the desk must not rely on it."""
    old = os.umask(0o002)
    yield
    os.umask(old)


def one_error_line(args: list[str]) -> str:
    out = runner.invoke(app, args)
    assert out.exit_code == EXIT_BAD_INPUT, (out.output, out.exception)
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    return lines[0]


@pytest.mark.parametrize("loose", [0o777, 0o1777, 0o770])
@pytest.mark.parametrize("args", [["account"], ["proposals", "list"]])
def test_a_home_others_can_write_is_refused_before_any_database_is_read(
    tradecrew_home: Path, loose: int, args: list[str]
) -> None:
    tradecrew_home.mkdir()
    # What another user left there: a paper book of their own, with their numbers in it.
    sqlite3.connect(tradecrew_home / "paper.db").close()
    tradecrew_home.chmod(loose)
    line = one_error_line(args)
    assert f"run chmod 700 {tradecrew_home}" in line and "other users" in line
    assert mode(tradecrew_home) == loose  # reported, not changed behind the user's back


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a folder to another user needs root")
def test_a_home_another_user_owns_is_refused(tradecrew_home: Path) -> None:
    tradecrew_home.mkdir(mode=0o700)
    os.chown(tradecrew_home, 65534, 65534)
    line = one_error_line(["account"])
    assert "belongs to another user (uid 65534)" in line


def test_a_fresh_home_is_0700_and_its_databases_0600(
    tradecrew_home: Path, loose_umask: None
) -> None:
    from tradecrew.config import get_settings
    from tradecrew.desk import Desk
    from tradecrew.news.store import HeadlineStore

    out = runner.invoke(app, ["propose", "EURUSD", "buy", "1000"])
    assert out.exit_code == 0, out.output
    assert mode(tradecrew_home) == 0o700
    HeadlineStore(tradecrew_home / "news.db")
    # While a desk is open its WAL files exist: SQLite gives them the main file's mode.
    desk = Desk.from_settings(get_settings())
    try:
        desk.proposals()
        desk.orders()
        files = sorted(p.name for p in tradecrew_home.iterdir() if p.suffix.startswith(".db"))
        assert {"tradecrew.db", "paper.db", "news.db", "tradecrew.db-wal"} <= set(files), files
        for name in files:
            assert mode(tradecrew_home / name) == 0o600, name
    finally:
        desk.close()


def test_databases_an_older_desk_left_readable_are_made_private(
    tradecrew_home: Path, loose_umask: None
) -> None:
    tradecrew_home.mkdir(mode=0o700)
    for name in ("tradecrew.db", "paper.db"):
        sqlite3.connect(tradecrew_home / name).close()
        (tradecrew_home / name).chmod(0o644)
    out = runner.invoke(app, ["account"])
    assert out.exit_code == 0, out.output
    assert mode(tradecrew_home / "tradecrew.db") == 0o600
    assert mode(tradecrew_home / "paper.db") == 0o600


def test_a_home_of_ones_own_that_others_may_only_read_is_used(tradecrew_home: Path) -> None:
    tradecrew_home.mkdir()
    tradecrew_home.chmod(0o755)  # what an older desk (or mkdir) made: kept, databases private
    out = runner.invoke(app, ["account"])
    assert out.exit_code == 0, out.output
    assert mode(tradecrew_home / "tradecrew.db") == 0o600

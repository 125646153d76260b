"""The audit key: made owner-only on first use, refused when others may read it, taken from
the environment when set, and never shown."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from tradecrew.data.audit_key import ENV_VAR, load_key
from tradecrew.ledger import Ledger
from tradecrew.ledger._anchor import anchor_path
from tradecrew.ledger.errors import AuditKeyError

SECRET = "s3cr3t-audit-key-" + "x" * 32


def test_the_key_file_is_created_owner_only_on_first_use(db_url: str, tmp_path: Path) -> None:
    old_umask = os.umask(0)  # even a permissive umask must not widen it
    try:
        with Ledger(db_url) as ledger:
            ledger.audit("tester", "note.added", "note", "n1")
    finally:
        os.umask(old_umask)
    key_file = tmp_path / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    with Ledger(db_url) as ledger:  # the same key is read back: the log still verifies
        assert ledger.verify_audit_chain().ok


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_may_read_is_refused(db_url: str, tmp_path: Path, mode: int) -> None:
    with Ledger(db_url):
        pass
    key_file = tmp_path / "audit.key"
    key_file.chmod(mode)
    with pytest.raises(AuditKeyError, match="chmod 600") as raised:
        Ledger(db_url)
    assert key_file.read_text().strip() not in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_key_file_owned_by_someone_else_is_refused(db_url: str, tmp_path: Path) -> None:
    with Ledger(db_url):
        pass
    os.chown(tmp_path / "audit.key", 54321, -1)
    with pytest.raises(AuditKeyError, match="not owned by this user"):
        Ledger(db_url)


def test_the_environment_key_is_used_instead_of_a_file(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, SECRET)
    with Ledger(db_url) as ledger:
        ledger.audit("tester", "note.added", "note", "n1")
        assert ledger.verify_audit_chain().ok
    assert not (tmp_path / "audit.key").exists()
    monkeypatch.setenv(ENV_VAR, SECRET.replace("x", "y"))
    with Ledger(db_url) as ledger:
        result = ledger.verify_audit_chain()
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert any("written with audit key id" in p for p in result.problems)


@pytest.mark.parametrize("value", ["short", " " * 40, "k" * 31])
def test_a_short_environment_key_is_refused_without_echoing_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ENV_VAR, value)
    with pytest.raises(AuditKeyError, match="at least 32 characters") as raised:
        Ledger(db_url)
    assert value.strip() == "" or value not in str(raised.value)


def test_the_key_never_shows_in_reprs_or_logs(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(ENV_VAR, SECRET)
    caplog.set_level(logging.DEBUG)
    key = load_key(None)
    with Ledger(db_url) as ledger:
        ledger.audit("tester", "note.added", "note", "n1")
        shown = [repr(key), str(key), repr(ledger), ledger.verify_audit_chain().model_dump_json()]
        shown += [e.model_dump_json() for e in ledger.audit_log(10)]
    shown.append(caplog.text)
    assert not any(SECRET in text for text in shown)
    with pytest.raises(TypeError):
        __import__("pickle").dumps(key)


def test_the_anchor_is_named_after_the_database_never_its_password() -> None:
    home = Path("/h")
    assert anchor_path(home, "sqlite:////data/trade.db") == home / "audit-trade.db.anchor"
    server = anchor_path(home, "postgresql+psycopg://bob:pa55word@db.example:5432/desk")
    assert server == home / "audit-postgresql-db.example-5432-desk.anchor"


@pytest.mark.parametrize("how", ["file replaced", "environment key differs"])
def test_a_replaced_key_writes_nothing(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    with Ledger(db_url) as ledger:
        ledger.audit("tester", "note.added", "note", "n1")
    if how == "file replaced":
        key_file = tmp_path / "audit.key"
        key_file.unlink()
        key_file.write_text("another key, just as long as the first one was\n")
        key_file.chmod(0o600)
    else:
        monkeypatch.setenv(ENV_VAR, SECRET)
    with Ledger(db_url) as ledger:
        with pytest.raises(AuditKeyError) as raised:
            ledger.audit("tester", "note.added", "note", "n2")
        assert str(raised.value).startswith(
            "the audit key differs from the one that signed this ledger"
        )
        assert "\n" not in str(raised.value)
        assert ledger.audit_count() == 1
        assert any("written with audit key id" in p for p in ledger.verify_audit_chain().problems)


def test_a_directory_in_place_of_the_key_file_is_named_as_such(db_url: str, tmp_path: Path) -> None:
    (tmp_path / "audit.key").mkdir()
    with pytest.raises(AuditKeyError, match=r"audit\.key is not a file"):
        Ledger(db_url)

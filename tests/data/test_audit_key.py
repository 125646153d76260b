"""The audit key file on its own: made once, 0600, read back the same; the ledger's use of
it (refusals of loose or foreign files, the environment key) is tested in tests/ledger."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tradecrew.data.audit_key import AuditKeyError, load_key


def test_the_key_is_made_once_and_read_back(tmp_path: Path) -> None:
    keys = [load_key(tmp_path) for _ in range(3)]
    assert len({k.key_id for k in keys}) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["audit.key"]  # no temporary file left
    assert stat.S_IMODE((tmp_path / "audit.key").stat().st_mode) == 0o600


def test_a_key_file_others_may_read_is_refused_without_a_ledger(tmp_path: Path) -> None:
    load_key(tmp_path)
    (tmp_path / "audit.key").chmod(0o644)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        load_key(tmp_path)


def test_without_a_home_the_key_is_this_process_own() -> None:
    assert load_key(None, environ={}).key_id != load_key(None, environ={}).key_id

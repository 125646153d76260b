"""Fixtures for ledger tests: a fresh file-backed ledger per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tradecrew.ledger import Ledger


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    with Ledger(db_url) as opened:
        yield opened

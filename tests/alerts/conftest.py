"""Alert tests: desks whose alerts go to the Bot API stand-in (the ``telegram`` fixture of
the tests' root conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path

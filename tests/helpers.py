"""Building blocks shared by the top-level tests."""

from __future__ import annotations

from pathlib import Path

import pytest


def crew_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *unset: str) -> Path:
    """An empty current folder, where a ``crew.yaml`` is picked up, with no crew file named in
    the environment and none of the variables ``unset``."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name in ("TRADECREW_CREW_FILE", *unset):
        monkeypatch.delenv(name, raising=False)
    return folder

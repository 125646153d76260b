"""Every script in bench/ runs in its quick mode, so none rots unnoticed.

Quick mode shrinks the sizes and never fails on a missed target (figures from a shared
machine in a test run are not measurements); a script that no longer runs fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "bench").glob("bench_*.py"))


def test_the_bench_folder_has_scripts() -> None:
    assert len(SCRIPTS) >= 10


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_bench_script_runs_in_quick_mode(script: Path, tmp_path: Path) -> None:
    env = {**os.environ, "TRADECREW_HOME": str(tmp_path / "home")}
    env.pop("TRADECREW_DATA_SOURCE", None)
    done = subprocess.run(
        [sys.executable, str(script), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    # A bench prints figures: at least one number beside a unit or a ratio.
    assert re.search(r"\d+(\.\d+)?\s*(ms|us|µs|s|x|%|bars/s|/s)\b", done.stdout), done.stdout[
        -2000:
    ]

"""Allocator tuning is opt-in for applications and harmless where glibc is absent."""

from __future__ import annotations

import subprocess
import sys


def test_tune_allocator_reports_whether_it_applied():
    code = "from tradecrew.runtime import tune_allocator; print(tune_allocator())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() in {"True", "False"}
    if sys.platform.startswith("linux"):
        assert out.stdout.strip() == "True"

"""The built wheel carries what an installed desk needs: the default crew, the examples and
the sample calendar.

Built with ``uv build --wheel`` from this checkout; the wheel's package is then run on its
own (from a folder without a crew.yaml), as an installed desk would be.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.agents.scripts import TASK_TOOLS, DeskScript
from tests.fakes.llm_server import ScriptedLLMServer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("tradecrew-*.whl"))


def test_the_wheel_holds_the_default_crew_and_the_examples(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tradecrew/crew.yaml" in names
    for example in ("XAUUSD_D1_mt5.csv", "EURUSD_H1.csv", "headlines.jsonl"):
        assert f"tradecrew/data/examples/{example}" in names
    assert "tradecrew/data/sample_calendar.csv" in names  # the offline calendar
    packaged = zipfile.ZipFile(wheel).read("tradecrew/crew.yaml")
    assert packaged == (REPO / "crew.yaml").read_bytes()


def test_an_installed_llm_run_uses_the_packaged_crew(wheel: Path, tmp_path: Path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    elsewhere = tmp_path / "work"  # no crew.yaml here
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADECREW_", "OPENAI_"))}
    env.update(PYTHONPATH=str(site), TRADECREW_HOME=str(tmp_path / "home"))

    def tradecrew(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tradecrew", *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    checked = tradecrew("config", "check", "--json")
    assert checked.returncode == 0, checked.stderr
    config = json.loads(checked.stdout)
    assert config["crew_file"] == str(site / "tradecrew" / "crew.yaml")
    assert config["crew_file_origin"] == "packaged default" and config["tasks"]
    script = DeskScript()
    with ScriptedLLMServer(responder=script) as llm:
        ran = tradecrew(
            "crew",
            "run",
            "--symbols",
            "XAUUSD",
            "--llm",
            "scripted-model",
            "--base-url",
            llm.base_url,
            "--dry-run",
            "--no-remember",
            "--json",
        )
    assert ran.returncode == 0, ran.stderr
    run = json.loads(ran.stdout)
    assert run["mode"] == "llm" and "defines no tasks" not in run["message"], run["message"]
    (outcome,) = run["outcomes"]
    assert outcome["status"] == "ok", outcome["message"]
    # Every task of the packaged crew answered, each after calling its desk tool.
    assert {seen for seen in script.seen if ":" not in seen} == set(TASK_TOOLS)
    assert {seen for seen in script.seen if ":" in seen} == {
        f"{task}:{tool}" for task, tool in TASK_TOOLS.items() if tool
    }

"""Every ``tradecrew`` command in the README's bash blocks runs as written.

The commands are read from the README itself, in order, and run in one fresh home from a
folder holding only what ``tradecrew data example`` writes, as a person on a fresh clone
would type them. A command that needs the network, a model or a client is skipped for a
stated reason; placeholders (``prp_...``, ``run_...``) become the ids the commands before
them produced. A README command that breaks fails here.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from tests.cli.invoke import cli

REPO = Path(__file__).resolve().parents[1]
# The README to check (the repository's unless a test run names another copy).
README = Path(os.environ.get("TRADECREW_README_UNDER_TEST") or REPO / "README.md")
PREFIX = ("uv", "run", "tradecrew")

# Why a command is not run here: it reaches the network, needs a model, or waits for a client.
SKIPS: tuple[tuple[str, str], ...] = (
    ("--source alpaca", "needs Alpaca's servers"),
    ("--llm", "needs a language model"),
    ("--base-url", "needs a language model"),
    ("mcp", "serves a client until stopped"),
    ("serve", "runs until stopped"),
)


def readme_commands(text: str) -> list[list[str]]:
    """The ``uv run tradecrew ...`` lines of the bash blocks, as argument lists (after the
    program name), comments removed."""
    commands: list[list[str]] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if tuple(words[:3]) == PREFIX:
                commands.append(words[3:])
    return commands


def skip_reason(args: list[str]) -> str | None:
    line = " ".join(args)
    for needle, why in SKIPS:
        if needle in line.split() or (" " in needle and needle in line):
            return why
    return None


def _newest_proposal() -> str:
    import json

    listed = cli("proposals", "--json")
    assert listed.exit_code == 0, listed.output
    pending = [p["id"] for p in json.loads(listed.stdout) if p["status"] == "pending"]
    return (pending or [p["id"] for p in json.loads(listed.stdout)])[0]


def _newest_run(home: Path) -> str:
    return sorted((home / "runs").glob("run_*.json"))[-1].stem


def test_the_readme_has_commands_to_check():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 20
    assert all(cmd for cmd in commands), "a bare `uv run tradecrew` line"


def test_every_readme_command_runs_as_written(
    tradecrew_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    work = tmp_path / "clone"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert cli("data", "example").exit_code == 0
    ran, skipped, failures = [], [], []
    for args in readme_commands(README.read_text(encoding="utf-8")):
        if (why := skip_reason(args)) is not None:
            skipped.append((args, why))
            continue
        if any(a.startswith("prp_") for a in args):
            args = [_newest_proposal() if a.startswith("prp_") else a for a in args]
        if any(a.startswith("run_") for a in args):
            args = [_newest_run(tradecrew_home) if a.startswith("run_") else a for a in args]
        if args[:2] == ["crew", "run"]:
            args = [*args, "--no-remember"]  # the memory's embedding model is not the point
        result = cli(*args)
        ran.append(args)
        if result.exit_code != 0 or "Traceback" in result.output:
            failures.append(f"tradecrew {shlex.join(args)} -> {result.exit_code}: {result.output}")
    assert not failures, "\n".join(failures)
    assert len(ran) >= 15, (ran, skipped)


def test_every_readme_example_script_runs_as_written(tradecrew_home: Path) -> None:
    """Every ``uv run python examples/...`` the README names (in a code block or inline) runs
    from the repository as written."""
    import subprocess
    import sys

    text = README.read_text(encoding="utf-8")
    named = {m.strip() for m in re.findall(r"uv run python examples/[^`\n#]+", text)}
    lines = [shlex.split(m)[3:] for m in sorted(named)]
    assert lines, "the README names no example script"
    for args in lines:
        ran = subprocess.run(
            [sys.executable, *args],
            cwd=REPO,
            env={**os.environ, "TRADECREW_HOME": str(tradecrew_home)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert ran.returncode == 0, f"{' '.join(args)}: {ran.stderr[-2000:]}"
        assert "Traceback" not in ran.stderr

"""An LLM run whose server is not there: one line, exit 3, in seconds; no library chatter.

Real processes against real sockets on 127.0.0.1: a port nobody listens on, and a server
that answers every model call with 401 (the run starts, then loses its LLM).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.llm_server import ScriptedLLMServer, fault

THIRD_PARTY = ("ERROR:", "WARNING:", "CrewAI", "LiteLLM", "litellm", "httpx", "Traceback")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADECREW_", "OPENAI_"))}
    env["TRADECREW_HOME"] = str(home)
    env["COLUMNS"] = "120"
    return env


def _tradecrew(home: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tradecrew", *args],
        env=_env(home),
        cwd=home.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, time.perf_counter() - started


def _crew_run(
    home: Path, base_url: str, *extra: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """``tradecrew crew run`` on XAUUSD with an LLM at ``base_url``."""
    return _tradecrew(
        home, "crew", "run", "--symbols", "XAUUSD", "--llm", "m", "--base-url", base_url, *extra
    )


def _no_third_party(text: str) -> None:
    for line in text.splitlines():
        assert not any(mark in line for mark in THIRD_PARTY), line


def test_a_closed_port_fails_fast_with_one_line_and_exit_3(tmp_path: Path, refused_port: int):
    home = tmp_path / "home"
    # What starting the interpreter and the CLI costs on this machine now (a shared CI
    # runner varies): the failure itself must add only a connection attempt.
    _, startup = _tradecrew(home, "--help")
    url = f"http://127.0.0.1:{refused_port}/v1"
    done, elapsed = _crew_run(home, url)
    assert done.returncode == 3, done.stderr
    assert elapsed < startup + 5.0, (elapsed, startup)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: LLM server at"), done.stderr
    assert "--fallback deterministic" in lines[0]
    assert done.stdout == ""
    assert not (home / "runs").exists()  # nothing ran, nothing filed


def test_fallback_deterministic_says_so_and_exits_0(tmp_path: Path, refused_port: int):
    home = tmp_path / "home"
    url = f"http://127.0.0.1:{refused_port}/v1"
    done, _ = _crew_run(home, url, "--fallback", "deterministic", "--no-remember")
    assert done.returncode == 0, done.stderr
    assert "deterministic fallback" in done.stdout and "cannot be reached" in done.stdout
    _no_third_party(done.stderr)
    _no_third_party(done.stdout)


@pytest.fixture
def refusing_llm() -> Iterator[str]:
    """A server that accepts connections and answers every request with 401."""
    with ScriptedLLMServer(responder=lambda _body: fault(401)) as server:
        yield server.base_url


def test_an_llm_lost_during_the_run_exits_3_files_nothing_and_prints_no_library_lines(
    tmp_path: Path, refusing_llm: str
):
    home = tmp_path / "home"
    done, _ = _crew_run(home, refusing_llm, "--no-remember")
    assert done.returncode == 3, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the LLM became unavailable"), lines
    _no_third_party(done.stdout)
    assert "not filed" in done.stdout
    import json

    record = json.loads(next((home / "runs").glob("run_*.json")).read_text())
    assert [o["proposal_id"] for o in record["outcomes"]] == [None]


def test_a_refused_connection_is_not_retried(refused_port: int):
    from tradecrew.agents.gateway import LLMGateway, LLMUnavailable
    from tradecrew.agents.recorder import RunRecorder

    sleeps: list[float] = []
    gateway = LLMGateway(
        cache_dir=Path("/nonexistent"),
        base_url="http://127.0.0.1:1/v1",
        recorder=RunRecorder(),
        max_tokens=10**6,
        max_cost=1.0,
        max_concurrency=1,
        max_retries=3,
        use_cache=False,
        sleep=sleeps.append,
    )
    request = httpx.Request(
        "POST", f"http://127.0.0.1:{refused_port}/v1/chat/completions", json={"model": "m"}
    )
    with pytest.raises(LLMUnavailable):
        gateway.handle(request, gateway._forward)
    gateway.close()
    assert sleeps == []


def test_library_log_lines_and_prints_stay_out_of_the_terminal(capsys):
    from tradecrew.cli.quiet import third_party_quiet

    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = []  # as in a fresh CLI process: logging.error() would install stderr
    try:
        with third_party_quiet():
            logging.error("Failed to connect to OpenAI API")
            logging.getLogger("crewai.flow.runtime").error("Error executing listener")
            print("[CrewAIEventsBus] Warning: Event pairing mismatch")
        assert root.handlers == []
    finally:
        root.handlers = saved
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""

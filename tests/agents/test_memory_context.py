"""The crew recalls similar past situations from memory, and replays stay exact."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agents.conftest import ProposalBox
from tests.agents.scripts import DeskScript
from tests.fakes.llm_server import ScriptedLLMServer
from tradecrew.agents import replay, run_crew
from tradecrew.memory import DeskMemory

PAST = "XAUUSD long stopped out in a volatile week; lesson: halve size when ADX is falling"


def test_past_situations_reach_the_crew_and_replay_keeps_them(
    home: Path, script: DeskScript, proposals: ProposalBox
) -> None:
    DeskMemory(home / "memory").reflect(
        "prp_past",
        "a trend continuation",
        "a reversal",
        -120.0,
        PAST,
        symbol="XAUUSD",
        regime="volatile",
    )
    with ScriptedLLMServer(responder=script) as srv:
        first = run_crew(["XAUUSD"], llm="scripted-model", base_url=srv.base_url, propose=proposals)
        prompts = json.dumps(srv.requests)
    assert first.inputs.memories["XAUUSD"] and PAST in first.inputs.memories["XAUUSD"][0]
    assert "halve size when ADX is falling" in prompts
    # a later memory must not change what the recorded run replays
    DeskMemory(home / "memory").remember_report("XAUUSD", "trending_bull", "a newer report")
    replayed = replay(first.run_id)
    assert replayed.outcomes[0].status == "ok", replayed.outcomes[0].message
    assert replayed.decisions[0].model_dump() == first.decisions[0].model_dump()


def test_deterministic_mode_does_not_touch_memory(home: Path, proposals: ProposalBox) -> None:
    result = run_crew(["XAUUSD"], propose=proposals)
    assert result.mode == "deterministic" and result.inputs.memories == {}

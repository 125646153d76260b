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


def test_deterministic_mode_recalls_nothing(home: Path, proposals: ProposalBox) -> None:
    result = run_crew(["XAUUSD"], propose=proposals)
    assert result.mode == "deterministic" and result.inputs.memories == {}


def test_a_run_is_recorded_in_the_ledger_and_remembered(home: Path, proposals: ProposalBox) -> None:
    from tradecrew.ledger import Ledger

    result = run_crew(["XAUUSD", "SPX"], propose=proposals)
    with Ledger.from_settings() as ledger:
        runs = [e for e in ledger.audit_log(50, entity="run")]
        assert runs, "the run left no row in the ledger"
        record = ledger.get_run(runs[0].entity_id)
    assert record.status.value == "succeeded"
    assert record.detail["run_id"] == result.run_id
    assert [o["symbol"] for o in record.summary["outcomes"]] == ["XAUUSD", "SPX"]
    remembered = DeskMemory(home / "memory").recall("XAUUSD", symbol="XAUUSD", kind="decision")
    assert remembered and remembered[0].regime == result.outcomes[0].regime
    assert result.outcomes[0].regime is not None


def test_replay_and_opt_out_write_nothing(home: Path, proposals: ProposalBox) -> None:
    result = run_crew(["XAUUSD"], propose=proposals, remember=False)
    assert DeskMemory(home / "memory").count() == 0
    replay(result.run_id)
    assert DeskMemory(home / "memory").count() == 0

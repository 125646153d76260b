"""DeskMemory: persistence, ranking, filters, idempotence and refusals of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradecrew.memory import DeskMemory, MemoryEntry, MemoryItem, MemoryKind
from tradecrew.models import Regime

GOLD_REPORT = (
    "Gold broke out above the 2,300 resistance on strong momentum; RSI near 68, MACD above "
    "signal, volume rising. Regime trending bull with high confidence."
)
UNRELATED = [
    "Euro stuck in a narrow range ahead of the central bank meeting; volatility subdued.",
    "Bitcoin swings wildly after exchange outage; funding rates flip negative.",
    "S&P 500 earnings season: tech leads, utilities lag, breadth narrowing.",
]


@pytest.fixture
def memory(tmp_path: Path) -> DeskMemory:
    return DeskMemory(tmp_path / "mem")


def _ids(items: list[MemoryItem]) -> list[str]:
    return [i.id for i in items]


def test_matching_report_ranks_above_unrelated_ones(memory: DeskMemory) -> None:
    for text, sym in zip(UNRELATED, ["EURUSD", "BTCUSD", "SPX"], strict=True):
        memory.remember_report(sym, "ranging", text)
    gold = memory.remember_report("XAUUSD", Regime.TRENDING_BULL, GOLD_REPORT)
    hits = memory.recall("gold breakout momentum above resistance", k=4)
    assert hits[0].id == gold
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)  # type: ignore[type-var]
    assert hits[0].kind is MemoryKind.REPORT and hits[0].regime == "trending_bull"


def test_filters_by_symbol_regime_and_kind(memory: DeskMemory) -> None:
    memory.remember_report("XAUUSD", "trending_bull", GOLD_REPORT)
    memory.remember_report("XAUUSD", "ranging", "Gold drifts sideways in a range.")
    memory.remember_decision("XAUUSD", "trending_bull", "Buy 10 oz gold on the breakout.")
    memory.remember_report("EURUSD", "trending_bull", "Euro trends up on a weak dollar.")

    by_symbol = memory.recall("gold", symbol="xauusd", k=10)
    assert len(by_symbol) == 3 and {h.symbol for h in by_symbol} == {"XAUUSD"}
    by_regime = memory.recall("gold", regime=Regime.TRENDING_BULL, k=10)
    assert len(by_regime) == 3 and {h.regime for h in by_regime} == {"trending_bull"}
    both = memory.recall("gold", symbol="XAUUSD", regime="trending_bull", kind="report", k=10)
    assert [h.text for h in both] == [GOLD_REPORT]
    assert memory.recall("gold", kind=MemoryKind.OUTCOME) == []


def test_remembering_the_same_content_twice_stores_it_once(memory: DeskMemory) -> None:
    first = memory.remember_report("XAUUSD", "trending_bull", GOLD_REPORT, {"score": 0.64})
    created = memory.get(first)
    again = memory.remember_report("xauusd", "trending_bull", GOLD_REPORT, {"score": 0.64})
    assert again == first
    assert memory.count() == 1
    assert memory.get(first) == created  # the original timestamp is kept
    other = memory.remember_report("XAUUSD", "trending_bull", GOLD_REPORT, {"score": 0.65})
    assert other != first and memory.count() == 2


def test_memory_persists_across_processes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "TRADECREW_HOME": str(home)}
    write = (
        "from tradecrew.memory import DeskMemory;"
        "m = DeskMemory();"
        f"print(m.remember_report('XAUUSD', 'trending_bull', {GOLD_REPORT!r}));"
        "m.remember_outcome('XAUUSD', 'trending_bull', 'Closed +2R at target.', pnl=250.0,"
        " proposal_id='prp_a')"
    )
    read = (
        "import json; from tradecrew.memory import DeskMemory;"
        "m = DeskMemory(); hits = m.recall('gold breakout', k=1);"
        "print(json.dumps([m.count(), hits[0].id, m.count('outcome')]))"
    )
    run = {"capture_output": True, "text": True, "check": True, "env": env, "timeout": 120}
    written = subprocess.run([sys.executable, "-c", write], **run).stdout.strip()
    count, top, outcomes = json.loads(subprocess.run([sys.executable, "-c", read], **run).stdout)
    assert (count, top, outcomes) == (2, written, 1)
    assert (home / "memory").is_dir()


def test_reflection_takes_symbol_and_regime_from_the_decision(memory: DeskMemory) -> None:
    memory.remember_decision(
        "XAUUSD", "trending_bull", "Buy gold on breakout.", proposal_id="prp_7"
    )
    rid = memory.reflect(
        "prp_7",
        expected="continuation to 2,350",
        happened="reversed at 2,320 and hit the stop",
        pnl=-180.0,
        lesson="wait for a daily close above resistance",
    )
    item = memory.get(rid)
    assert item is not None and item.kind is MemoryKind.REFLECTION
    assert (item.symbol, item.regime) == ("XAUUSD", "trending_bull")
    assert item.metadata == {"proposal_id": "prp_7", "pnl": -180.0}
    assert "Expected: continuation" in item.text and "Happened: reversed" in item.text
    assert "Lesson: wait" in item.text


def test_similar_situations_prefers_the_symbol_and_skips_reports(memory: DeskMemory) -> None:
    memory.remember_report("XAUUSD", "trending_bull", GOLD_REPORT)
    memory.remember_decision("EURUSD", "trending_bull", "Bought euro into the trend.")
    memory.remember_outcome("XAUUSD", "trending_bull", "Gold long closed at target.", pnl=300)
    memory.remember_outcome("XAUUSD", "ranging", "Gold long stopped out in the range.", pnl=-90)
    found = memory.similar_situations("XAUUSD", Regime.TRENDING_BULL, k=3)
    assert [(f.symbol, f.kind) for f in found] == [
        ("XAUUSD", MemoryKind.OUTCOME),
        ("EURUSD", MemoryKind.DECISION),
    ]


def test_metadata_scalars_round_trip_and_structures_become_json(memory: DeskMemory) -> None:
    mid = memory.remember_decision(
        "XAUUSD",
        None,
        "Skip: correlation veto.",
        {"approved": False, "qty": 3, "score": 0.5, "vetoes": ["DXY"], "empty": None},
    )
    item = memory.get(mid)
    assert item is not None and item.regime is None
    assert item.metadata == {"approved": False, "qty": 3, "score": 0.5, "vetoes": '["DXY"]'}


def test_empty_memory_recalls_nothing(memory: DeskMemory) -> None:
    assert memory.recall("anything") == []
    assert memory.similar_situations("XAUUSD", "ranging") == []
    assert memory.count() == 0 and memory.get("mem_missing") is None


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text_is_refused(memory: DeskMemory, text: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        memory.remember_report("XAUUSD", "ranging", text)
    with pytest.raises(ValueError, match="empty"):
        memory.recall(text)
    assert memory.count() == 0


def test_bad_inputs_are_refused(memory: DeskMemory) -> None:
    with pytest.raises(ValueError, match="symbol"):
        memory.remember_report("", "ranging", "text")
    with pytest.raises(ValueError, match="reserved"):
        memory.remember_report("XAUUSD", "ranging", "text", {"kind": "decision"})
    with pytest.raises(ValueError, match="finite"):
        memory.remember_report("XAUUSD", "ranging", "text", {"score": float("nan")})
    with pytest.raises(ValueError, match="pnl"):
        memory.reflect("prp_1", "a", "b", float("inf"), "c")
    with pytest.raises(ValueError, match="empty"):
        memory.reflect("prp_1", "a", "b", 1.0, "")
    with pytest.raises(ValueError, match="kind"):
        memory.recall("gold", kind="rumour")
    with pytest.raises(ValueError, match="k must"):
        memory.recall("gold", k=0)
    with pytest.raises(TypeError):
        memory.remember_report("XAUUSD", "ranging", 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown embedding"):
        DeskMemory(memory.path, embedding="word2vec")


def test_embedding_spaces_are_kept_in_separate_collections(tmp_path: Path) -> None:
    small = DeskMemory(tmp_path, embedding="hashing:64")
    small.remember_report("XAUUSD", "ranging", "Gold quiet.")
    default = DeskMemory(tmp_path)
    assert default.collection_name != small.collection_name
    assert default.count() == 0 and small.count() == 1


def test_auto_embedding_never_downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    from tradecrew.memory import embedding

    # Empty caches everywhere: "auto" must settle on hashing rather than fetch a model.
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "DOWNLOAD_PATH", tmp_path / "onnx")
    assert isinstance(embedding.resolve_embedding("auto"), embedding.HashingEmbedding)
    with pytest.raises(ValueError, match="not cached"):
        embedding.resolve_embedding("onnx")
    assert not (tmp_path / "onnx").exists()


def test_several_items_are_remembered_at_once_as_one_by_one_would(memory: DeskMemory) -> None:
    known = memory.remember_decision("XAUUSD", "trending_up", "bought the breakout")
    entries = [
        MemoryEntry(MemoryKind.DECISION, "bought the breakout", "XAUUSD", "trending_up"),
        MemoryEntry("report", "euro ranges", "eurusd", Regime.RANGING, {"run_id": "r1"}),
        MemoryEntry("report", "euro ranges", "eurusd", Regime.RANGING, {"run_id": "r1"}),
    ]
    ids = memory.remember_all(entries)
    assert ids[0] == known and ids[1] == ids[2]
    assert memory.count() == 2
    (euro,) = memory.recall("euro", symbol="EURUSD")
    assert (euro.id, euro.kind, euro.regime, euro.metadata) == (
        ids[1],
        MemoryKind.REPORT,
        "ranging",
        {"run_id": "r1"},
    )
    assert memory.remember_all([]) == []


def test_one_bad_entry_stores_none_of_a_batch(memory: DeskMemory) -> None:
    with pytest.raises(ValueError, match="reserved"):
        memory.remember_all(
            [
                MemoryEntry("report", "fine", "XAUUSD"),
                MemoryEntry("report", "bad", "XAUUSD", metadata={"kind": "decision"}),
            ]
        )
    assert memory.count() == 0

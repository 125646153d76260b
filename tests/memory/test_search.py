"""Plain-words search: catalogue aliases, BM25 and the embedding fused; filters; the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradecrew.cli import app
from tradecrew.memory import DeskMemory
from tradecrew.memory.recall import query_symbols

runner = CliRunner()


@pytest.mark.parametrize(
    ("query", "symbols"),
    [
        ("gold trending", ["XAUUSD"]),
        ("the yellow metal", ["XAUUSD"]),
        ("bullion", ["XAUUSD"]),
        ("euro dollar", ["EURUSD"]),
        ("single currency weakness", ["EURUSD"]),
        ("S&P 500 volatile", ["SPX"]),
        ("US stocks and bitcoin", ["SPX", "BTCUSD"]),
        ("nasdaq", ["NDX"]),
        ("dollar", ["DXY"]),
        ("nothing named here", []),
    ],
)
def test_everyday_names_map_to_catalogue_symbols(query: str, symbols: list[str]) -> None:
    assert query_symbols(query) == symbols


@pytest.fixture
def crew_home(tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home after a deterministic dry run of the crew on XAUUSD, EURUSD and SPX."""
    monkeypatch.setenv("TRADECREW_MEMORY__EMBEDDING", "hashing")
    for name in ("TRADECREW_LLM__MODEL", "OPENAI_API_KEY", "TRADECREW_LLM__BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    out = runner.invoke(app, ["crew", "run", "--symbols", "XAUUSD,EURUSD,SPX", "--dry-run"])
    assert out.exit_code == 0, out.output
    return tradecrew_home


QUERIES = [
    ("gold trending", "XAUUSD"),
    ("euro dollar", "EURUSD"),
    ("S&P 500 volatile", "SPX"),
    ("yellow metal", "XAUUSD"),
    ("US stocks", "SPX"),
]


def test_cli_search_after_a_crew_run_ranks_the_named_symbol_first(crew_home: Path) -> None:
    for query, symbol in QUERIES:
        out = runner.invoke(app, ["memory", "search", query, "--json"])
        assert out.exit_code == 0, out.output
        items = json.loads(out.stdout)
        assert items[0]["symbol"] == symbol, (query, items)
        assert len({i["symbol"] for i in items}) == 3
        assert len({i["score"] for i in items}) == len(items)  # not all the same
        assert len({round(i["distance"], 6) for i in items}) > 1
        text = runner.invoke(app, ["memory", "search", query])
        assert text.exit_code == 0 and text.stdout.splitlines()[0].split()[1] == symbol


def test_cli_search_refuses_bad_filters_with_one_line(tradecrew_home: Path) -> None:
    for args in (
        ["--outcome", "maybe"],
        ["--since", "yesterday"],
        ["--kind", "gossip"],
        ["--since", "2026-02-01", "--until", "2026-01-01"],
    ):
        out = runner.invoke(app, ["memory", "search", "gold", *args])
        assert out.exit_code == 2, (args, out.output)
        assert out.stderr.startswith("error: ") and "Traceback" not in out.output


def test_structured_filters_narrow_the_search(tmp_path: Path) -> None:
    mem = DeskMemory(tmp_path / "m")
    mem.remember_outcome("XAUUSD", "trending_bull", "gold long closed", pnl=50.0, metadata={"a": 1})
    mem.remember_outcome("XAUUSD", "volatile", "gold short stopped out", pnl=-20.0)
    mem.remember_decision("XAUUSD", "ranging", "gold flat decision")
    mem.remember_report("EURUSD", "ranging", "euro report")
    assert [i.text for i in mem.search("gold", outcome="win")] == ["gold long closed"]
    assert [i.text for i in mem.search("gold", outcome="loss")] == ["gold short stopped out"]
    assert {i.symbol for i in mem.search("anything", symbol="eurusd", k=10)} == {"EURUSD"}
    assert {i.kind.value for i in mem.search("gold", kind="decision", k=10)} == {"decision"}
    later = datetime.now(UTC) + timedelta(days=1)
    assert mem.search("gold", since=later) == []
    assert len(mem.search("gold", until=later, k=10)) == 4
    with pytest.raises(ValueError, match="timezone"):
        mem.search("gold", since=datetime(2026, 1, 1))


def test_search_fuses_words_the_embedding_misses(tmp_path: Path) -> None:
    """The hashing embedding alone does not know gold is XAUUSD; the fused search does."""
    mem = DeskMemory(tmp_path / "m")
    mem.remember_decision("SPX", "trending_bull", "SPX trending higher, long 1 lot")
    gold = mem.remember_decision("XAUUSD", "ranging", "XAUUSD range bound, flat")
    # The embedding ranker alone: no shared word, so both are as far as can be.
    assert all(h.distance is not None and h.distance > 0.95 for h in mem.recall("gold", k=2))
    assert mem.search("gold", k=1)[0].id == gold

"""The one tool registry: every entry describes itself and runs on validated arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.tools.front_end import registry
from tradecrew.config import get_settings
from tradecrew.data import DataError
from tradecrew.data.calendars import calendar_loader
from tradecrew.tools.catalog import get_tool

ARGS = {
    "analyze_symbol": {"symbol": "EURUSD"},
    "indicators": {"symbol": "XAUUSD"},
    "market_regime": {"symbol": "SPX"},
    "multi_timeframe": {"symbol": "EURUSD", "timeframe": "M5"},
    "correlation": {"symbol": "XAUUSD", "peers": ["DXY", "SPX"]},
    "news_sentiment": {"texts": ["Profit rises 20%"]},
    "forex_sessions": {"timestamp": "2024-03-12T13:00:00Z"},
    "economic_calendar": {"symbol": "EURUSD", "timestamp": "2024-03-12T13:00:00Z"},
    "get_quote": {"symbol": "BTCUSD"},
    "get_bars": {"symbol": "NDX", "max_bars": 5},
    "order_book": {"symbol": "XAUUSD"},
    "slippage_estimate": {"symbol": "XAUUSD", "side": "buy", "quantity": 50},
    "time_and_sales": {"symbol": "EURUSD"},
}


def test_every_tool_has_a_name_description_and_json_schema():
    tools = registry()
    assert set(ARGS) <= set(tools)
    for name, spec in tools.items():
        described = spec.describe()
        assert described["name"] == name and len(described["description"]) > 20
        assert described["parameters"]["type"] == "object"
        json.dumps(described)  # serialisable as frameworks need it


@pytest.mark.parametrize("name", sorted(ARGS))
def test_each_tool_runs_and_returns_its_output_model(name: str):
    spec = registry()[name]
    out = spec.run(ARGS[name])
    assert isinstance(out, spec.output_model)
    json.loads(out.model_dump_json())


def test_tools_import_no_framework():
    import subprocess
    import sys

    code = (
        "import sys; import tradecrew.tools.catalog as c; from tradecrew.config import Settings; "
        "from tradecrew.tools.calendar import Calendar; "
        "c.build_registry(Settings(), calendar=lambda: Calendar([])); "
        "names=('crewai','mcp','langchain_core','alpaca','chromadb');"
        "bad=[m for m in names if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("indicators", {}),
        ("indicators", {"symbol": "XAUUSD", "timeframe": "H7"}),
        ("news_sentiment", {"texts": []}),
        ("slippage_estimate", {"symbol": "XAUUSD", "side": "buy", "quantity": -1}),
        ("get_bars", {"symbol": "XAUUSD", "max_bars": 0}),
        ("analyze_symbol", {"symbol": "XAUUSD", "unexpected": 1}),
    ],
)
def test_bad_arguments_are_rejected_before_running(name: str, args: dict):
    with pytest.raises(ValidationError):
        registry()[name].run(args)


def test_unknown_tool_names_the_available_ones():
    settings = get_settings()
    with pytest.raises(KeyError, match="analyze_symbol"):
        get_tool("nope", settings, calendar=calendar_loader(settings))


def test_the_tools_run_with_the_settings_they_are_given(tradecrew_home: Path) -> None:
    """Not the process settings: the data source and correlation peers of the settings a
    caller passes are what its registry's tools read."""
    process = get_settings()
    missing = process.model_copy(update={"data_source": f"csv:{tradecrew_home / 'none.csv'}"})
    with pytest.raises(DataError, match=r"none\.csv"):
        registry(missing)["get_bars"].run({"symbol": "XAUUSD"})
    assert registry(process)["get_bars"].run({"symbol": "XAUUSD", "max_bars": 2}).synthetic
    correlation = process.components.correlation.model_copy(update={"peers": ["SPX"]})
    components = process.components.model_copy(update={"correlation": correlation})
    mine = process.model_copy(update={"components": components})
    report = registry(mine)["correlation"].run({"symbol": "XAUUSD"})
    assert [p.peer for p in report.peers] == ["SPX"]
    default = registry(process)["correlation"].run({"symbol": "XAUUSD"})
    assert len(default.peers) > 1

"""The analysis commands as a user runs them: output shapes, causality, bad input."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import shared_file
from tradecrew.cli import app
from tradecrew.tools.regime import market_regime, warmup_bars

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_analyze_json_has_every_analyzer_and_the_fused_signal():
    result = invoke("analyze", "XAUUSD", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["symbol"] == "XAUUSD"
    assert report["synthetic"] is True
    for key in ("indicators", "regime", "correlation", "session", "blackout", "signal"):
        assert report[key] is not None, key
    signal = report["signal"]
    assert signal["direction"] in {"long", "short", "flat"}
    names = {c["name"] for c in signal["components"]}
    assert {"trend", "momentum", "regime"} <= names
    assert abs(sum(c["contribution"] for c in signal["components"]) - signal["score"]) < 1e-9


def test_analyze_labels_the_packaged_calendar_synthetic():
    report = json.loads(invoke("analyze", "EURUSD", "--json").stdout)
    assert report["blackout"]["synthetic"] is True
    assert "sample calendar (synthetic)" in report["blackout"]["reason"]
    table = invoke("analyze", "EURUSD")
    assert table.exit_code == 0, table.output
    flat = "".join(c for c in table.stdout if c not in "│ \n")  # the cell may wrap
    assert "samplecalendar(synthetic)" in flat


def test_analyze_accepts_an_alias_and_renders_a_table():
    result = invoke("analyze", "gold")
    assert result.exit_code == 0, result.output
    assert "XAUUSD" in result.stdout and "Signal fusion" in result.stdout


def test_analyze_real_index_is_not_labelled_synthetic():
    report = json.loads(invoke("analyze", "SPX", "--json").stdout)
    assert report["synthetic"] is False


def test_analyze_intraday_includes_multi_timeframe():
    report = json.loads(invoke("analyze", "EURUSD", "--timeframe", "M5", "--json").stdout)
    tfs = {t["timeframe"]: t for t in report["multi_timeframe"]["timeframes"]}
    assert set(tfs) == {"M5", "M15", "H1", "H4"}
    assert all(t["available"] for t in tfs.values())


def test_regime_history_from_a_metatrader_csv_is_causal():
    path = shared_file("XAUUSD_D1_mt5.csv")
    result = invoke("regime", "XAUUSD", "--source", f"csv:{path}", "--history", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 5391
    assert set(rows[0]) == {"timestamp", "regime", "confidence"}
    assert rows[0]["regime"] == "unknown" and rows[0]["confidence"] is None
    from tradecrew.data.csv import CsvProvider

    bars = CsvProvider(path).bars("XAUUSD", "D1")
    rng = random.Random(7)
    for t in rng.sample(range(warmup_bars(), len(bars)), 5):
        prefix = market_regime(bars.iloc[: t + 1])
        assert rows[t]["regime"] == prefix.regime.value
        assert rows[t]["confidence"] == pytest.approx(prefix.confidence, abs=1e-12)


def test_regime_without_history_prints_one_line():
    result = invoke("regime", "SPX", "--json")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and len(lines) == 1
    assert json.loads(lines[0])["regime"] in {
        "trending_bull",
        "trending_bear",
        "ranging",
        "volatile",
    }


def test_sentiment_json_lines_keep_input_order(tmp_path: Path):
    jsonl = tmp_path / "news.jsonl"
    jsonl.write_text(
        json.dumps({"text": "Profit rose to $12m from $10m"})
        + "\n\n"
        + json.dumps({"text": "Company X shares slump after profit warning"})
        + "\n"
    )
    result = invoke("sentiment", "Revenue beats forecasts", "--file", str(jsonl), "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == [
        "Revenue beats forecasts",
        "Profit rose to $12m from $10m",
        "Company X shares slump after profit warning",
    ]
    assert all(set(r) == {"text", "label", "score", "confidence"} for r in rows)
    assert [r["label"] for r in rows] == ["positive", "positive", "negative"]


def test_sentiment_reads_plain_lines(tmp_path: Path):
    plain = tmp_path / "news.txt"
    plain.write_text("Shares jump on record sales\nBank fined over misconduct\n")
    rows = [
        json.loads(x)
        for x in invoke("sentiment", "-f", str(plain), "--json").stdout.split("\n")
        if x
    ]
    assert [r["label"] for r in rows] == ["positive", "negative"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["analyze", "NOPE"], "no data for symbol"),
        (["analyze", "XAUUSD", "--timeframe", "H7"], "timeframe"),
        (["analyze", "XAUUSD", "--source", "ftp:x"], "data source"),
        (["analyze", "XAUUSD", "--source", "csv:/no/such/file.csv"], "no such"),
        (["regime", "XAUUSD", "--source", "csv:"], "csv source needs a path"),
        (["sentiment", "--json"], "give headlines"),
        (["sentiment", "x", "--backend", "magic"], "unknown backend"),
        (["sentiment", "--file", "/no/such.txt"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args: list[str], needle: str):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr.lower()
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_bad_csv_row_is_named_in_the_error(tmp_path: Path):
    bad = tmp_path / "EURUSD_H1.csv"
    bad.write_text(
        "time,open,high,low,close,volume\n"
        "2024-01-01 00:00,1.1,1.2,1.0,1.15,10\n"
        "2024-01-01 01:00,1.1,1.0,1.2,1.15,10\n"
    )
    result = runner.invoke(app, ["analyze", "EURUSD", "--source", f"csv:{bad}"])
    assert result.exit_code == 2
    assert "EURUSD_H1.csv" in result.stderr and "3" in result.stderr
    assert "high" in result.stderr.lower()


def test_malformed_jsonl_line_is_reported_with_its_number(tmp_path: Path):
    bad = tmp_path / "news.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": \n')
    result = runner.invoke(app, ["sentiment", "--file", str(bad)])
    assert result.exit_code == 2 and ":2:" in result.stderr


def test_config_check_reports_the_crew():
    result = invoke("config", "check", "--json")
    data = json.loads(result.stdout)
    assert "risk_manager" in data["agents"] and data["broker"] == "paper"


def test_demo_runs_offline_and_summarises_the_watchlist():
    result = invoke("demo", "--symbols", "XAUUSD,SPX")
    assert result.exit_code == 0, result.output
    assert "XAUUSD" in result.stdout and "SPX" in result.stdout
    assert "synthetic" in result.stdout and "real" in result.stdout

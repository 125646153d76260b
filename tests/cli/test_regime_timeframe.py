"""``regime --source csv:FILE`` reads the file's own timeframe, and says when it resamples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.invoke import cli

pytestmark = pytest.mark.usefixtures("tradecrew_home")


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    assert cli("data", "example", "--out", str(tmp_path)).exit_code == 0
    return tmp_path


def _rows(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_hourly_data_gives_an_hourly_regime_by_default(examples: Path):
    out = cli(
        "regime", "EURUSD", "--source", f"csv:{examples / 'EURUSD_H1.csv'}", "--history", "--json"
    )
    assert out.exit_code == 0, out.output
    rows = _rows(out.stdout)
    assert len(rows) == 500  # one per hourly bar, none resampled away
    assert rows[-1]["timestamp"] == "2018-12-31T21:00:00+00:00"
    assert out.stderr == ""


def test_asking_for_a_coarser_timeframe_says_it_resamples(examples: Path):
    out = cli(
        "regime", "EURUSD", "-t", "D1", "--source", f"csv:{examples / 'EURUSD_H1.csv'}", "--json"
    )
    assert out.exit_code == 0, out.output
    assert "resampling H1 bars to D1" in out.stderr
    assert _rows(out.stdout)[-1]["timestamp"] == "2018-12-31T00:00:00+00:00"


def test_daily_data_stays_daily_and_says_nothing(examples: Path):
    out = cli("regime", "XAUUSD", "--source", f"csv:{examples / 'XAUUSD_D1_mt5.csv'}", "--json")
    assert out.exit_code == 0 and out.stderr == ""
    assert _rows(out.stdout)[-1]["timestamp"] == "2018-12-31T00:00:00+00:00"


def test_the_sample_source_keeps_d1_as_the_default():
    out = cli("regime", "SPX", "--json")
    assert out.exit_code == 0 and out.stderr == ""
    assert _rows(out.stdout)[-1]["timestamp"].endswith("T00:00:00+00:00")


def test_analyze_reads_an_hourly_file_as_hourly_and_says_when_it_resamples(examples: Path):
    source = f"csv:{examples / 'EURUSD_H1.csv'}"
    own = cli("analyze", "EURUSD", "--source", source, "--json")
    assert own.exit_code == 0, own.output
    assert json.loads(own.stdout)["timeframe"] == "H1" and own.stderr == ""
    # 500 hourly bars make 21 daily ones: the note says why the indicators then refuse.
    daily = cli("analyze", "EURUSD", "-t", "D1", "--source", source, "--json")
    assert "resampling H1 bars to D1" in daily.stderr
    assert daily.exit_code == 2 and "needs at least" in daily.stderr

"""``tradecrew data example``: the files the README's commands read, written from the package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.invoke import cli
from tradecrew.cli.examples import EXAMPLES, example_bytes

pytestmark = pytest.mark.usefixtures("tradecrew_home")


def test_every_example_is_packaged_and_written_into_data(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = cli("data", "example")
    assert out.exit_code == 0, out.output
    for name in EXAMPLES:
        assert (tmp_path / "data" / name).read_bytes() == example_bytes(name)
    again = cli("data", "example", "--json")
    assert {row["status"] for row in json.loads(again.stdout)} == {"unchanged"}


def test_the_examples_are_what_they_say(tmp_path: Path):
    assert cli("data", "example", "--out", str(tmp_path)).exit_code == 0
    bars = (tmp_path / "XAUUSD_D1_mt5.csv").read_text().splitlines()
    assert bars[0] == "Date;Open;High;Low;Close;Volume" and len(bars) == 301
    assert bars[1].split(";")[0].count(".") == 2  # 2017.11.07 00:00, MetaTrader's format
    lines = (tmp_path / "headlines.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 20 and {r["label"] for r in rows} == {"positive", "negative", "neutral"}
    analysed = cli(
        "analyze", "XAUUSD", "--source", f"csv:{tmp_path / 'XAUUSD_D1_mt5.csv'}", "--json"
    )
    assert analysed.exit_code == 0, analysed.output
    assert json.loads(analysed.stdout)["bars"] == 300


def test_one_example_by_short_name(tmp_path: Path):
    out = cli("data", "example", "headlines", "--out", str(tmp_path))
    assert out.exit_code == 0, out.output
    assert [p.name for p in tmp_path.iterdir()] == ["headlines.jsonl"]


def test_a_different_file_is_not_overwritten_without_force(tmp_path: Path):
    mine = tmp_path / "headlines.jsonl"
    mine.write_text('{"text": "my own"}\n')
    refused = cli("data", "example", "--out", str(tmp_path))
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert mine.read_text() == '{"text": "my own"}\n'
    assert not (tmp_path / "XAUUSD_D1_mt5.csv").exists()  # refused before writing any
    assert cli("data", "example", "--out", str(tmp_path), "--force").exit_code == 0
    assert mine.read_bytes() == example_bytes("headlines.jsonl")


@pytest.mark.parametrize("args", [["nope"], ["--out", "{file}"]])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str]):
    afile = tmp_path / "afile"
    afile.write_text("x")
    out = cli("data", "example", *[a.replace("{file}", str(afile)) for a in args])
    assert out.exit_code == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error:")

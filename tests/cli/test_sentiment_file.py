"""`tradecrew sentiment --file`: the format is decided per file, labels give an evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.invoke import cli


def _rows(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_a_plain_file_stays_plain_even_when_a_line_starts_with_a_brace(tmp_path: Path) -> None:
    plain = tmp_path / "news.txt"
    plain.write_text(
        "Shares jump on record sales\n"
        "{Breaking} Bank fined over misconduct\n"
        '{"text": "a headline that quotes JSON"}\n'
    )
    result = cli("sentiment", "--file", str(plain), "--json")
    assert result.exit_code == 0, result.stderr
    assert [r["text"] for r in _rows(result.stdout)] == [
        "Shares jump on record sales",
        "{Breaking} Bank fined over misconduct",
        '{"text": "a headline that quotes JSON"}',
    ]


def test_every_line_json_makes_json_lines_whatever_the_extension(tmp_path: Path) -> None:
    data = tmp_path / "news.txt"
    data.write_text(
        json.dumps({"text": "Shares jump on record sales"})
        + "\n\n"
        + json.dumps({"text": "Bank fined over misconduct", "source": "x"})
        + "\n"
    )
    rows = _rows(cli("sentiment", "-f", str(data), "--json").stdout)
    assert [r["text"] for r in rows] == [
        "Shares jump on record sales",
        "Bank fined over misconduct",
    ]
    assert all("expected" not in r for r in rows)  # no labels, no evaluation


def test_labels_give_accuracy_recall_and_confusion(tmp_path: Path) -> None:
    data = tmp_path / "labelled.jsonl"
    lines = [
        {"text": "Shares jump on record sales", "label": "positive"},
        {"text": "Bank fined over misconduct", "label": "negative"},
        {"text": "Company X shares slump after profit warning", "label": "negative"},
        {"text": "Acme holds annual meeting in Paris", "label": "neutral"},
        {"text": "Profit rose to $12m from $10m", "label": "NEGATIVE"},  # a wrong label
    ]
    data.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    result = cli("sentiment", "--file", str(data), "--json")
    assert result.exit_code == 0, result.stderr
    *rows, last = _rows(result.stdout)
    ev = last["evaluation"]
    predicted = [r["label"] for r in rows]
    expected = [r["expected"] for r in rows]
    assert expected == ["positive", "negative", "negative", "neutral", "negative"]
    hits = sum(p == e for p, e in zip(predicted, expected, strict=True))
    assert ev["n"] == 5 and ev["accuracy"] == pytest.approx(hits / 5)
    assert ev["support"] == {"positive": 1, "negative": 3, "neutral": 1}
    assert sum(ev["confusion"]["negative"].values()) == 3
    assert ev["confusion"]["negative"]["positive"] >= 1  # the mislabelled profit line
    assert ev["recall"]["negative"] == pytest.approx(ev["confusion"]["negative"]["negative"] / 3)
    text = cli("sentiment", "--file", str(data))
    assert text.exit_code == 0
    assert f"accuracy {hits / 5:.1%}" in text.stdout and "confusion matrix" in text.stdout
    assert "recall: positive" in text.stdout


def test_csv_with_label_codes(tmp_path: Path) -> None:
    data = tmp_path / "tweets.csv"
    data.write_text(
        'text,label\n"$ACME - Acme beats estimates, raises outlook",1\n'
        "$BANK: Bank fined over misconduct,0\nAcme to present at conference,2\n"
    )
    result = cli("sentiment", "--file", str(data), "--json")
    assert result.exit_code == 0, result.stderr
    *rows, last = _rows(result.stdout)
    assert [r["expected"] for r in rows] == ["positive", "negative", "neutral"]
    assert rows[0]["text"] == "$ACME - Acme beats estimates, raises outlook"
    assert last["evaluation"]["n"] == 3


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("a.jsonl", '{"text": "ok"}\nnot json\n', "a.jsonl:2: not valid json"),
        ("a.jsonl", '{"text": "ok"}\n{"headline": "x"}\n', "a.jsonl:2: a json line needs"),
        ("a.jsonl", '{"text": "ok", "label": "great"}\n', "a.jsonl:1: label 'great'"),
        ("a.json", '[{"text": "ok"}, 3]', "a.json:2: a json line needs"),
        ("a.csv", "headline,label\nx,1\n", "needs a 'text' column"),
        ("a.csv", "text,label\nx,1,extra\n", "a.csv:2: 3 fields"),
        ("a.csv", "text,label\nx,7\n", "a.csv:2: label '7'"),
        ("a.txt", "\n\n  \n", "give headlines"),
    ],
)
def test_bad_files_are_one_line_and_exit_2(
    tmp_path: Path, name: str, content: str, needle: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = cli("sentiment", "--file", str(path))
    assert result.exit_code == 2, result.output
    assert needle in result.stderr.lower() and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_binary_file_and_folder_are_refused(tmp_path: Path) -> None:
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81 not text")
    result = cli("sentiment", "--file", str(binary))
    assert result.exit_code == 2 and "not utf-8" in result.stderr.lower()
    result = cli("sentiment", "--file", str(tmp_path))
    assert result.exit_code == 2 and "folder" in result.stderr

"""`tradecrew audit verify` as a person runs it: exit 0 on an intact log, exit 1 with one line
per problem after tampering, exit 2 with one line for an unusable key; the key never shown."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.invoke import cli


def test_verify_reports_a_lifted_kill_switch_one_line_per_problem(tradecrew_home: Path) -> None:
    assert cli("risk", "kill-switch", "on", "--reason", "news").exit_code == 0
    ok = cli("audit", "verify")
    assert ok.exit_code == 0 and "intact" in ok.stdout, ok.output
    conn = sqlite3.connect(tradecrew_home / "tradecrew.db")
    with conn:
        conn.execute("UPDATE trading_state SET state = 'active'")
    conn.close()
    proposal = json.loads(cli("propose", "gold", "buy", "1", "--json").stdout)
    sent = cli("proposals", "approve", proposal["proposal_id"])
    assert sent.exit_code == 1 and "audit log" in sent.output
    assert json.loads(cli("orders", "--json").stdout) == []
    out = cli("audit", "verify")
    assert out.exit_code == 1
    lines = out.stderr.splitlines()
    assert lines and all(line.startswith("error: audit: ") for line in lines), out.stderr
    assert any("trading_state row 1: state is 'active'" in line for line in lines)
    assert "Traceback" not in out.output
    as_json = json.loads(cli("audit", "verify", "--json").stdout)
    assert as_json["ok"] is False and as_json["problems"] == [
        line.removeprefix("error: audit: ") for line in lines
    ]


def test_a_key_file_others_may_read_is_one_line_and_exit_2(tradecrew_home: Path) -> None:
    assert cli("audit", "verify").exit_code == 0  # first use makes the key
    key_file = tradecrew_home / "audit.key"
    key_file.chmod(0o644)
    out = cli("audit", "verify")
    assert out.exit_code == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "chmod 600" in lines[0]
    assert key_file.read_text().strip() not in out.output


@pytest.mark.parametrize("from_env", [False, True], ids=["key-file", "env-key"])
def test_the_key_never_appears_in_any_output(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch, from_env: bool
) -> None:
    if from_env:
        monkeypatch.setenv("TRADECREW_AUDIT_KEY", "env-secret-" + "z" * 40)
    outputs = []
    for args in (
        ["propose", "gold", "buy", "1", "--json"],
        ["audit", "verify"],
        ["audit", "verify", "--json"],
        ["audit", "log", "--json", "--limit", "50"],
        ["risk", "--json"],
    ):
        out = cli(*args)
        assert out.exit_code == 0, out.output
        outputs.append(out.output)
    secret = (
        "env-secret-" + "z" * 40 if from_env else (tradecrew_home / "audit.key").read_text().strip()
    )
    assert not any(secret in text for text in outputs)
    anchors = list(tradecrew_home.glob("audit-*.anchor"))
    assert len(anchors) == 1 and secret not in anchors[0].read_text()

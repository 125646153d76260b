"""Trading commands as a user types them: one-line errors with exit 2 that change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.invoke import cli

pytestmark = pytest.mark.usefixtures("tradecrew_home")


def ledger_rows() -> tuple[int, int]:
    """(proposals, audit rows) in the ledger, to show a command changed nothing."""
    from tradecrew.ledger import Ledger

    with Ledger.from_settings() as ledger:
        return len(ledger.list_proposals(limit=10_000)), ledger.audit_count()


def test_propose_approve_fill_and_positions_round_trip():
    out = cli("propose", "gold", "buy", "2", "--tp", "2350", "--json")
    assert out.exit_code == 0, out.output
    proposal = json.loads(out.stdout)
    assert proposal["status"] == "pending" and proposal["mode"] == "paper"
    assert json.loads(cli("positions", "--json").stdout) == []
    approved = json.loads(cli("proposals", "approve", proposal["proposal_id"], "--json").stdout)
    assert approved["status"] == "filled" and approved["order"]["filled_quantity"] == 2
    positions = json.loads(cli("positions", "--json").stdout)
    assert [(p["symbol"], p["quantity"]) for p in positions] == [("XAUUSD", 2)]
    shown = json.loads(cli("proposals", "show", proposal["proposal_id"], "--json").stdout)
    assert shown["summary"].startswith("filled")
    assert {c["name"] for c in shown["decisions"][0]["checks"]} >= {"kill_switch", "fat_finger"}
    orders = json.loads(cli("orders", "--json").stdout)
    # the entry, and its take-profit working at the venue (found there, so external)
    assert [(o["status"], o["external"]) for o in orders] == [("filled", False), ("accepted", True)]
    assert orders[1]["limit_price"] == 2350 and orders[1]["side"] == "sell"
    account = json.loads(cli("account", "--json").stdout)
    assert account["mode"] == "paper" and account["equity"] > 0
    assert cli("audit", "verify").exit_code == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["propose", "XAUUSD", "buy", "0"], "above zero"),
        (["propose", "XAUUSD", "buy", "-3"], "above zero"),
        (["propose", "XAUUSD", "buy", "nan"], "finite"),
        (["propose", "XAUUSD", "buy", "lots"], "could not convert"),
        (["propose", "NOPE", "buy", "1"], "unknown symbol"),
        (["propose", "XAUUSD", "hold", "1"], "side"),
        (["propose", "XAUUSD", "buy", "1", "--limit", "99999"], "from the last"),
        (["propose", "XAUUSD", "buy", "1", "--tif", "forever"], "time_in_force"),
        (["proposals", "approve", "prp_doesnotexist"], "not found"),
        (["proposals", "reject", "prp_doesnotexist"], "not found"),
        (["proposals", "show", "prp_doesnotexist"], "not found"),
        (["risk", "kill-switch", "maybe", "--reason", "x"], "on' or 'off"),
        (["risk", "kill-switch", "on"], "--reason"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(args: list[str], needle: str):
    before = ledger_rows()
    out = cli(*args)
    assert out.exit_code == 2, out.output
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0].lower(), out.stderr
    assert "Traceback" not in out.output
    assert ledger_rows() == before


def test_approving_twice_is_refused_and_changes_nothing():
    proposal = json.loads(cli("propose", "EURUSD", "buy", "10000", "--json").stdout)
    assert cli("proposals", "approve", proposal["proposal_id"]).exit_code == 0
    before = ledger_rows()
    again = cli("proposals", "approve", proposal["proposal_id"])
    assert again.exit_code == 2 and "only pending" in again.stderr
    assert ledger_rows() == before


def test_kill_switch_halts_and_blocks_then_a_human_resumes():
    proposal = json.loads(cli("propose", "BTCUSD", "buy", "0.01", "--json").stdout)
    halted = json.loads(cli("risk", "kill-switch", "on", "--reason", "drill", "--json").stdout)
    assert halted["trading_state"] == "halted"
    blocked = cli("proposals", "approve", proposal["proposal_id"], "--json")
    assert blocked.exit_code == 1
    assert json.loads(blocked.stdout)["order"] is None
    assert json.loads(cli("positions", "--json").stdout) == []
    resumed = json.loads(
        cli("risk", "kill-switch", "off", "--reason", "drill over", "--json").stdout
    )
    assert resumed["trading_state"] == "active"


def test_reject_moves_a_pending_proposal_to_rejected():
    proposal = json.loads(cli("propose", "SPX", "sell", "1", "--json").stdout)
    out = json.loads(
        cli("proposals", "reject", proposal["proposal_id"], "--reason", "no", "--json").stdout
    )
    assert out["status"] == "rejected"
    listed = json.loads(cli("proposals", "list", "--status", "rejected", "--json").stdout)
    assert [p["id"] for p in listed] == [proposal["proposal_id"]]


def test_console_script_runs_as_installed(tmp_path: Path):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "tradecrew", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "propose" in out.stdout and "mcp" in out.stdout

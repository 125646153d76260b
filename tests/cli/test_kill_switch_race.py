"""`proposals approve` in this process races `risk kill-switch on` run as its own command in
another process: the two commands tell the truth about what happened, with their exit codes
(1 when an action did not happen as asked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.invoke import cli
from tradecrew.brokers.paper import PaperBroker
from tradecrew.ledger import Ledger

REPO = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("tradecrew_home")


def kill_switch_command() -> subprocess.CompletedProcess[str]:
    """`tradecrew risk kill-switch on` as a person types it, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "tradecrew", "risk", "kill-switch", "on", "--reason", "stop"],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_halt_between_storing_and_sending_an_order_makes_approve_exit_1(
    monkeypatch: pytest.MonkeyPatch,
):
    """The kill switch runs right after `approve` stored its order (NEW). It closes the
    order as never sent and says so, exit 0; `approve` sends nothing and exits 1."""
    proposal = json.loads(cli("propose", "gold", "buy", "1", "--json").stdout)
    halted: list[subprocess.CompletedProcess[str]] = []
    opened = Ledger.open_order

    def open_then_halt(self, *args, **kwargs):
        order = opened(self, *args, **kwargs)
        halted.append(kill_switch_command())
        return order

    monkeypatch.setattr(Ledger, "open_order", open_then_halt)
    out = cli("proposals", "approve", proposal["proposal_id"])
    (kill,) = halted
    assert kill.returncode == 0, kill.stderr
    assert "kill switch ON: trading halted" in kill.stdout
    assert "closed before they were sent: ord_" in kill.stdout, kill.stdout
    assert out.exit_code == 1, out.output
    said = " ".join(out.stdout.split())
    assert "-> failed (not sent: kill_switch" in said, said
    assert "the kill switch was turned on before it was sent" in said
    monkeypatch.undo()
    assert json.loads(cli("positions", "--json").stdout) == []
    (order,) = json.loads(cli("orders", "--json").stdout)
    assert order["status"] == "cancelled" and order["filled_quantity"] == 0


def test_a_halt_while_an_order_is_on_its_way_is_reported_and_the_order_cancelled(
    monkeypatch: pytest.MonkeyPatch,
):
    """The kill switch runs while `approve` is inside the venue call (its order claimed,
    not yet at the venue): it warns that the order could not be cancelled, in flight, and
    exits 1 though trading is halted. The limit order then rests at the venue; `approve`
    cancels it there and says so, exit 1."""
    from tradecrew.desk import Desk

    desk = Desk.from_settings()
    try:
        below = round(desk.broker.quote("XAUUSD").last * 0.98, 2)
    finally:
        desk.close()
    proposal = json.loads(
        cli("propose", "gold", "buy", "1", "--limit", str(below), "--json").stdout
    )
    halted: list[subprocess.CompletedProcess[str]] = []
    submit = PaperBroker.submit

    def halt_then_submit(self, order):
        halted.append(kill_switch_command())
        return submit(self, order)

    monkeypatch.setattr(PaperBroker, "submit", halt_then_submit)
    out = cli("proposals", "approve", proposal["proposal_id"])
    monkeypatch.undo()
    (kill,) = halted
    assert kill.returncode == 1, (kill.stdout, kill.stderr)
    assert "kill switch ON: trading halted" in kill.stdout
    warning = " ".join(kill.stderr.split())
    assert "warning: trading is halted, but 1 open order(s) could not be cancelled" in warning
    assert "sent before the halt, not at the broker yet" in warning
    assert out.exit_code == 1, out.output
    said = " ".join(out.stdout.split())
    assert "-> cancelled (sent to the broker, which reports it cancelled" in said, said
    assert "kill switch was turned on while it was being sent" in said
    (order,) = json.loads(cli("orders", "--json").stdout)
    assert order["id"] in warning
    assert order["status"] == "cancelled" and order["filled_quantity"] == 0


def test_a_kill_switch_blocked_by_a_stuck_writer_says_trading_is_not_halted(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
):
    """Another process holds the ledger's write lock past the busy timeout (paused in the
    middle of a write): one line saying the switch is not on, exit 3, never a traceback."""
    import sqlite3

    assert cli("propose", "gold", "buy", "1").exit_code == 0  # the ledger exists
    monkeypatch.setitem(Ledger.__init__.__kwdefaults__, "busy_timeout", 0.3)
    stuck = sqlite3.connect(tradecrew_home / "tradecrew.db", isolation_level=None)
    try:
        stuck.execute("BEGIN IMMEDIATE")
        out = cli("risk", "kill-switch", "on", "--reason", "stop")
    finally:
        stuck.execute("ROLLBACK")
        stuck.close()
    assert out.exit_code == 3, out.output
    said = " ".join(out.stderr.split())
    assert said.startswith("error: the kill switch could not be turned on"), said
    assert "trading is still active" in said and "Traceback" not in out.output

"""A command that reconciles first still runs when reconciliation meets an order the ledger
cannot record: a person must always be able to see the desk's state and halt it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tradecrew.cli import app

runner = CliRunner()


def test_risk_status_works_with_a_foreign_order_the_ledger_cannot_record(
    tradecrew_home: Path,
) -> None:
    from tradecrew.brokers import PaperBroker
    from tradecrew.config import get_settings
    from tradecrew.models import Order, Side

    venue = PaperBroker(get_settings().ensure_home() / "paper.db")
    venue.submit(Order(client_order_id="x" * 100, symbol="EURUSD", side=Side.SELL, quantity=5000))
    out = runner.invoke(app, ["risk", "status", "--json"])
    assert out.exit_code == 0, out.output  # was exit 2: client_order_id must be 1 to 64
    status = json.loads(out.stdout)
    # Its fill is not in the ledger: the position comparison caught it and stopped growth.
    assert status["trading_state"] == "reducing" and "EURUSD" in status["reason"]

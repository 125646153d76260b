"""Typing errors at the command line: a size far beyond the limits is refused, not shrunk into
a trade; a stop on the wrong side of the market is refused, not filled at once."""

from __future__ import annotations

import json

import pytest

from tests.cli.invoke import cli

pytestmark = pytest.mark.usefixtures("tradecrew_home")


def _nothing_traded() -> None:
    assert json.loads(cli("orders", "--json").stdout) == []
    assert json.loads(cli("positions", "--json").stdout) == []


@pytest.mark.parametrize("quantity", ["1000000000", "1e308"])
def test_absurd_size_is_vetoed_as_a_probable_error_and_cannot_be_approved(quantity: str):
    out = cli("propose", "SPX", "buy", quantity, "--json")
    assert out.exit_code == 0, out.output
    proposed = json.loads(out.stdout)
    assert proposed["status"] == "vetoed"
    assert proposed["approved_quantity"] == 0
    assert any("probable error" in r for r in proposed["reasons"]), proposed["reasons"]
    approve = cli("proposals", "approve", proposed["proposal_id"])
    assert approve.exit_code != 0 and "Traceback" not in approve.output
    _nothing_traded()


@pytest.mark.parametrize("quantity", ["inf", "-inf", "1e309", "nan"])
def test_infinite_or_nan_size_is_bad_input(quantity: str):
    out = cli("propose", "SPX", "buy", quantity)
    assert out.exit_code == 2, out.output
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr
    _nothing_traded()


def test_size_twice_the_limit_is_still_shrunk_and_fills():
    # 40 SPX at about 2,500 is about 2x the 50,000 order notional limit.
    proposed = json.loads(cli("propose", "SPX", "buy", "40", "--json").stdout)
    assert proposed["status"] == "pending"
    assert 0 < proposed["approved_quantity"] < 40
    approved = json.loads(cli("proposals", "approve", proposed["proposal_id"], "--json").stdout)
    assert approved["status"] == "filled"
    assert approved["order"]["filled_quantity"] == proposed["approved_quantity"]


def _last(symbol: str) -> float:
    from tradecrew.desk import Desk

    desk = Desk.from_settings()
    try:
        return desk.broker.quote(symbol).last
    finally:
        desk.close()


@pytest.mark.parametrize(("side", "offset"), [("buy", -0.02), ("sell", 0.02)])
def test_stop_on_the_wrong_side_of_the_market_is_vetoed_not_filled(side: str, offset: float):
    stop = round(_last("XAUUSD") * (1 + offset), 2)
    out = cli("propose", "XAUUSD", side, "1", "--stop", str(stop), "--json")
    assert out.exit_code == 0, out.output
    proposed = json.loads(out.stdout)
    assert proposed["status"] == "vetoed"
    assert any(r.startswith("order_side:") for r in proposed["reasons"]), proposed["reasons"]
    assert cli("proposals", "approve", proposed["proposal_id"]).exit_code != 0
    _nothing_traded()

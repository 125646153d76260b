"""The order hash: binds an approval to one exact order (symbol, side, size, price bounds)."""

from __future__ import annotations

import hashlib
import json
import math

from tradecrew.models import OrderType, ProposalRequest, Side


def _canonical_number(value: float | None, name: str) -> str | None:
    """Ten decimals, so float noise (0.1 + 0.2) cannot split one order into two hashes."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cannot hash an order whose {name} is {value!r}")
    rounded = round(number, 10)
    return f"{rounded + 0.0:.10f}"  # + 0.0 turns -0.0 into 0.0


def order_hash(
    symbol: str,
    side: Side | str,
    quantity: float,
    order_type: OrderType | str,
    limit_price: float | None,
    stop_price: float | None,
    stop_loss: float | None,
    take_profit: float | None,
) -> str:
    """sha256 of the canonical order; equal orders hash equal, any change changes it."""
    payload = [
        symbol.strip().upper(),
        Side(side).value,
        _canonical_number(quantity, "quantity"),
        OrderType(order_type).value,
        _canonical_number(limit_price, "limit_price"),
        _canonical_number(stop_price, "stop_price"),
        _canonical_number(stop_loss, "stop_loss"),
        _canonical_number(take_profit, "take_profit"),
    ]
    text = json.dumps(payload, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def proposal_hash(proposal: ProposalRequest, quantity: float | None = None) -> str:
    """The order hash of a proposal, at ``quantity`` (the approved size) when given."""
    return order_hash(
        proposal.symbol,
        proposal.side,
        proposal.quantity if quantity is None else quantity,
        proposal.order_type,
        proposal.limit_price,
        proposal.stop_price,
        proposal.stop_loss,
        proposal.take_profit,
    )

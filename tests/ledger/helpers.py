"""Builders of valid models for ledger tests."""

from __future__ import annotations

from datetime import timedelta

from tradecrew.models import Fill, Order, Proposal, RiskDecision, Side, utcnow


def make_proposal(quantity: float = 10.0, symbol: str = "XAUUSD") -> Proposal:
    return Proposal(symbol=symbol, side=Side.BUY, quantity=quantity, rationale="test")


def make_decision(proposal: Proposal, order_hash: str = "hash-1") -> RiskDecision:
    return RiskDecision(
        proposal_id=proposal.id,
        approved=True,
        requested_quantity=proposal.quantity,
        approved_quantity=proposal.quantity,
        order_hash=order_hash,
        expires_at=utcnow() + timedelta(minutes=5),
    )


def make_order(
    client_order_id: str = "cid-1",
    quantity: float = 10.0,
    side: Side = Side.BUY,
    symbol: str = "XAUUSD",
    proposal_id: str | None = None,
    broker: str = "paper",
) -> Order:
    return Order(
        client_order_id=client_order_id,
        proposal_id=proposal_id,
        symbol=symbol,
        side=side,
        quantity=quantity,
        broker=broker,
    )


def make_fill(
    order: Order, quantity: float, price: float, broker_fill_id: str | None = None, **extra: object
) -> Fill:
    return Fill(
        order_id=order.id,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=quantity,
        price=price,
        broker_fill_id=broker_fill_id,
        **extra,
    )

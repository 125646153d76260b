"""Orders and fills: idempotent creation, lifecycle, duplicate fills, no overfills."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger.helpers import make_fill, make_order, make_proposal
from tradecrew.ledger import Conflict, IllegalTransition, Ledger, NotFound, Overfill
from tradecrew.models import OrderStatus, Side


@pytest.fixture
def db_url(ledger_url: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL (``ledger_url``)."""
    return ledger_url


def test_an_order_is_persisted_new_before_sending(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    order = ledger.create_order(make_order(proposal_id=proposal.id))
    stored = ledger.get_order(order.id)
    assert stored == order and stored.status is OrderStatus.NEW
    assert ledger.get_order_by_client_id("cid-1") == order
    assert ledger.audit_log(1)[0].action == "order.created"


def test_the_same_client_order_id_twice_returns_the_first_order(ledger: Ledger) -> None:
    first = ledger.create_order(make_order("cid-7"))
    again = ledger.create_order(make_order("cid-7"))  # a fresh Order object, new id
    assert again.id == first.id
    assert len(ledger.orders()) == 1
    assert [e.action for e in ledger.audit_log(10)] == ["order.created"]


def test_a_client_order_id_reused_for_other_terms_is_a_conflict(ledger: Ledger) -> None:
    ledger.create_order(make_order("cid-7", quantity=10))
    with pytest.raises(Conflict, match="quantity"):
        ledger.create_order(make_order("cid-7", quantity=11))


def test_order_creation_refuses_bad_input(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="new before sending"):
        ledger.create_order(make_order().model_copy(update={"status": OrderStatus.FILLED}))
    with pytest.raises(ValueError, match="quantity"):
        ledger.create_order(make_order().model_copy(update={"quantity": float("inf")}))
    with pytest.raises(ValueError, match="client_order_id"):
        ledger.create_order(make_order(client_order_id=""))
    with pytest.raises(NotFound, match="prp_ghost"):
        ledger.create_order(make_order(proposal_id="prp_ghost"))
    assert ledger.orders() == []


def test_external_orders_keep_the_brokers_status(ledger: Ledger) -> None:
    seen = make_order("ext-1").model_copy(
        update={"external": True, "status": OrderStatus.ACCEPTED, "broker_order_id": "B1"}
    )
    assert ledger.create_order(seen).status is OrderStatus.ACCEPTED


def test_order_status_moves_only_along_the_lifecycle(ledger: Ledger) -> None:
    order = ledger.create_order(make_order())
    sent = ledger.update_order(order.id, status="submitted", broker_order_id="B-1")
    assert sent.status is OrderStatus.SUBMITTED and sent.broker_order_id == "B-1"
    ledger.update_order(order.id, status=OrderStatus.CANCELLED, reason="user")
    with pytest.raises(IllegalTransition, match="cancelled to filled"):
        ledger.update_order(order.id, status=OrderStatus.FILLED)
    with pytest.raises(Conflict, match="broker id"):
        ledger.update_order(order.id, broker_order_id="B-2")
    assert ledger.get_order(order.id).status is OrderStatus.CANCELLED


def test_open_orders_exclude_terminal_ones(ledger: Ledger) -> None:
    a = ledger.create_order(make_order("a"))
    b = ledger.create_order(make_order("b"))
    ledger.update_order(b.id, status="rejected")
    assert [o.id for o in ledger.open_orders()] == [a.id]
    assert [o.id for o in ledger.orders(status="rejected")] == [b.id]


def test_fills_roll_into_the_order_and_a_duplicate_is_recorded_once(ledger: Ledger) -> None:
    order = ledger.create_order(make_order(quantity=10))
    assert ledger.record_fill(make_fill(order, 4, 100.0, "F1"))
    assert not ledger.record_fill(make_fill(order, 4, 100.0, "F1"))
    assert ledger.get_order(order.id).status is OrderStatus.PARTIALLY_FILLED
    assert ledger.record_fill(make_fill(order, 6, 110.0, "F2"))
    done = ledger.get_order(order.id)
    assert done.status is OrderStatus.FILLED and done.filled_quantity == 10
    assert done.average_fill_price == pytest.approx((4 * 100 + 6 * 110) / 10)
    assert len(ledger.fills(order.id)) == 2


def test_fills_without_broker_ids_are_deduplicated_by_content(ledger: Ledger) -> None:
    order = ledger.create_order(make_order(quantity=10))
    at = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    assert ledger.record_fill(make_fill(order, 2, 100.0, timestamp=at))
    # Redelivered with a new local id: same order, size, price and time is the same fill.
    assert not ledger.record_fill(make_fill(order, 2, 100.0, timestamp=at))
    assert ledger.record_fill(make_fill(order, 2, 100.0, timestamp=at + timedelta(seconds=1)))
    assert ledger.get_order(order.id).filled_quantity == 4


def test_an_overfill_is_refused_and_audited(ledger: Ledger) -> None:
    order = ledger.create_order(make_order(quantity=5))
    ledger.record_fill(make_fill(order, 4, 100.0, "F1"))
    with pytest.raises(Overfill, match=r"would fill 6\.0 of 5\.0"):
        ledger.record_fill(make_fill(order, 2, 100.0, "F2"))
    assert ledger.get_order(order.id).filled_quantity == 4
    assert len(ledger.fills()) == 1
    refusal = ledger.audit_log(1)[0]
    assert refusal.action == "fill.refused" and "would fill" in (refusal.after or {})["reason"]
    assert ledger.verify_audit_chain().ok


def test_a_late_fill_after_cancel_is_booked_and_status_kept(ledger: Ledger) -> None:
    order = ledger.create_order(make_order(quantity=5))
    ledger.update_order(order.id, status="cancelled")
    assert ledger.record_fill(make_fill(order, 1, 100.0, "late"))
    kept = ledger.get_order(order.id)
    assert kept.status is OrderStatus.CANCELLED and kept.filled_quantity == 1
    assert ledger.positions()[0].quantity == 1


def test_a_fill_must_match_its_order(ledger: Ledger) -> None:
    order = ledger.create_order(make_order())
    with pytest.raises(ValueError, match="does not match"):
        ledger.record_fill(make_fill(order, 1, 100.0).model_copy(update={"side": Side.SELL}))
    with pytest.raises(ValueError, match="client order"):
        ledger.record_fill(make_fill(order, 1, 100.0).model_copy(update={"client_order_id": "x"}))
    with pytest.raises(ValueError, match="finite"):
        ledger.record_fill(make_fill(order, 1, float("inf")))
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger.record_fill(make_fill(order, 1, 100.0, timestamp=datetime(2026, 1, 1)))
    with pytest.raises(NotFound, match="ord_nope"):
        ledger.record_fill(make_fill(order, 1, 100.0).model_copy(update={"order_id": "ord_nope"}))
    assert ledger.fills() == []


def test_positions_come_from_fills_per_broker(ledger: Ledger) -> None:
    buy1 = ledger.create_order(make_order("b1", quantity=10))
    buy2 = ledger.create_order(make_order("b2", quantity=10))
    sell = ledger.create_order(make_order("s1", quantity=25, side=Side.SELL))
    t = datetime(2026, 3, 2, tzinfo=UTC)
    # Recorded out of time order: positions follow the fills' timestamps.
    ledger.record_fill(make_fill(sell, 25, 120.0, "x3", timestamp=t + timedelta(minutes=2)))
    ledger.record_fill(make_fill(buy2, 10, 110.0, "x2", timestamp=t + timedelta(minutes=1)))
    ledger.record_fill(make_fill(buy1, 10, 100.0, "x1", timestamp=t))
    other = ledger.create_order(make_order("o1", quantity=1, broker="alpaca"))
    ledger.record_fill(make_fill(other, 1, 50.0, "y1"))
    (pos,) = ledger.positions(broker="paper")
    assert (pos.quantity, pos.average_price, pos.realized_pnl) == pytest.approx((-5, 120, 300))
    (alpaca,) = ledger.positions(broker="alpaca")
    assert alpaca.quantity == 1


def test_duplicated_and_reordered_fills_are_recorded_once_without_overfill(
    ledger: Ledger,
) -> None:
    counter = iter(range(10**6))

    @settings(max_examples=40, deadline=None)
    @given(
        quantity=st.integers(min_value=1, max_value=100),
        sizes=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8),
        with_ids=st.booleans(),
        copies=st.integers(min_value=1, max_value=3),
        seed=st.integers(min_value=0, max_value=2**16),
    )
    def check(quantity: int, sizes: list[int], with_ids: bool, copies: int, seed: int) -> None:
        order = ledger.create_order(make_order(f"cid-{next(counter)}", quantity=quantity))
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        distinct = [
            make_fill(
                order,
                size,
                100.0 + i,
                f"F{i}" if with_ids else None,
                timestamp=t0 + timedelta(seconds=i),
            )
            for i, size in enumerate(sizes)
        ]
        stream = [
            f.model_copy(update={"id": f"{f.id}{k}"}) for f in distinct for k in range(copies)
        ]
        random.Random(seed).shuffle(stream)
        booked: dict[str, float] = {}
        for fill in stream:
            key = fill.broker_fill_id or fill.timestamp.isoformat()
            try:
                recorded = ledger.record_fill(fill)
            except Overfill:
                assert sum(booked.values()) + fill.quantity > quantity
                continue
            assert recorded == (key not in booked)
            booked[key] = fill.quantity
        stored = ledger.get_order(order.id)
        assert stored.filled_quantity == sum(booked.values()) <= quantity
        assert len(ledger.fills(order.id)) == len(booked)
        expected = (
            OrderStatus.NEW
            if not booked
            else OrderStatus.FILLED
            if stored.filled_quantity == quantity
            else OrderStatus.PARTIALLY_FILLED
        )
        assert stored.status is expected

    check()
    assert ledger.verify_audit_chain().ok


def test_update_order_needs_something_to_change(ledger: Ledger) -> None:
    order = ledger.create_order(make_order())
    with pytest.raises(ValueError, match="needs a status"):
        ledger.update_order(order.id)
    with pytest.raises(ValueError):
        ledger.update_order(order.id, status="teleported")


def test_ids_longer_than_their_columns_are_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="id is longer"):
        ledger.create_order(make_order().model_copy(update={"id": "o" * 41}))
    order = ledger.create_order(make_order())
    with pytest.raises(ValueError, match="broker_fill_id"):
        ledger.record_fill(make_fill(order, 1, 100.0, "b" * 129))

"""The shared safety mechanics: retried reads and look-up-before-resend placement."""

from __future__ import annotations

import pytest

from tradecrew.brokers import (
    BrokerError,
    BrokerUnavailable,
    OrderOutcomeUnknown,
    place_idempotently,
    retry_reads,
)
from tradecrew.models import Order, OrderStatus, Side


class Venue:
    """A hand-written venue whose sends can be told to lose the reply or fail outright."""

    def __init__(self, outcomes: list[str], lookup_failures: int = 0) -> None:
        self.outcomes = outcomes
        self.lookup_failures = lookup_failures
        self.book: dict[str, Order] = {}
        self.sends = 0

    def send(self, order: Order) -> Order:
        self.sends += 1
        step = self.outcomes.pop(0) if self.outcomes else "ok"
        if step == "unavailable":
            raise BrokerUnavailable("refused before sending")
        if step == "drop":
            raise OrderOutcomeUnknown(order.client_order_id, "dropped before the venue")
        placed = self.book.setdefault(
            order.client_order_id, order.model_copy(update={"status": OrderStatus.ACCEPTED})
        )
        if step == "lost":
            raise OrderOutcomeUnknown(order.client_order_id, "reply lost")
        return placed

    def lookup(self, cid: str) -> Order | None:
        if self.lookup_failures:
            self.lookup_failures -= 1
            raise BrokerUnavailable("look-up failed")
        return self.book.get(cid)


def place(venue: Venue, cid: str = "c1") -> Order:
    o = Order(client_order_id=cid, symbol="AAPL", side=Side.BUY, quantity=1)
    return place_idempotently(cid, lambda: venue.send(o), lambda: venue.lookup(cid), backoff=0)


def test_lost_reply_is_found_by_lookup_and_never_resent() -> None:
    venue = Venue(["lost"])
    assert place(venue).status is OrderStatus.ACCEPTED
    assert venue.sends == 1


def test_confirmed_absence_allows_exactly_one_resend() -> None:
    venue = Venue(["drop"])
    place(venue)
    assert venue.sends == 2
    assert len(venue.book) == 1


def test_failed_lookup_leaves_the_outcome_unknown() -> None:
    venue = Venue(["lost"], lookup_failures=10)
    with pytest.raises(OrderOutcomeUnknown, match="look-up failed"):
        place(venue)
    assert venue.sends == 1


def test_two_drops_in_a_row_stay_unknown_rather_than_retrying_forever() -> None:
    venue = Venue(["drop", "drop"])
    with pytest.raises(OrderOutcomeUnknown):
        place(venue)
    assert venue.sends == 2


def test_a_request_that_never_left_is_reported_as_unavailable() -> None:
    venue = Venue(["unavailable"])
    with pytest.raises(BrokerUnavailable):
        place(venue)
    assert venue.sends == 1


def test_reads_retry_only_transient_errors() -> None:
    calls = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise BrokerUnavailable("503")
        return 42

    assert retry_reads(flaky, attempts=4, backoff=0) == 42
    assert len(calls) == 3

    def broken() -> int:
        calls.append(1)
        raise BrokerError("401")

    calls.clear()
    with pytest.raises(BrokerError):
        retry_reads(broken, attempts=4, backoff=0)
    assert len(calls) == 1

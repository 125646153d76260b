"""The Broker protocol every venue adapter speaks, its typed errors, and the two safety
mechanics they share: retried reads and never-blindly-retried placement.

Adapters only execute; whether to trade is decided upstream by the risk gate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from tradecrew.errors import TradecrewError, Unavailable
from tradecrew.models import Account, AccountMode, Fill, Order, Position, Quote

log = logging.getLogger(__name__)

T = TypeVar("T")


# --------------------------------------------------------------------------- errors


class BrokerError(TradecrewError):
    """Base of every broker failure; messages never carry credentials."""


class OrderRejected(BrokerError):
    """The venue refused the order; nothing was placed. ``reason`` says why, ``code`` is the
    venue's own code when it gave one."""

    def __init__(self, reason: str, code: str | int | None = None) -> None:
        self.reason = reason
        self.code = code
        super().__init__(f"order rejected: {reason}")


class LiveTradingRefused(BrokerError):
    """The account is live (by its endpoint or by what the venue reports) and the user did
    not give both opt-ins; nothing was started."""

    def __init__(self, why: str, advice: str | None = None) -> None:
        super().__init__(
            f"{why}: "
            + (
                advice
                or "live trading needs both TRADECREW_BROKER__LIVE_TRADING=true and the "
                "--live flag (live=True); refusing to start"
            )
        )


class BrokerUnavailable(BrokerError, Unavailable):
    """A transient failure (network, rate limit, 5xx) where the request had no effect or was a
    read; safe to try again later."""


class OrderOutcomeUnknown(BrokerError, Unavailable):
    """Placement may or may not have happened (timeout, disconnect). Keep the order in flight
    and look it up by client order id; never treat it as cancelled or failed."""

    def __init__(self, client_order_id: str, detail: str) -> None:
        self.client_order_id = client_order_id
        super().__init__(f"outcome of order {client_order_id} unknown: {detail}")


class NotSupported(BrokerError):
    """The venue cannot do this (symbol, order type, time in force)."""


class UnknownOrder(BrokerError):
    """The venue has no order with this id."""


# --------------------------------------------------------------------------- protocol


@runtime_checkable
class Broker(Protocol):
    """What the desk's risk gate and reconciler call on any venue."""

    name: str

    @property
    def mode(self) -> AccountMode: ...

    def account(self) -> Account: ...

    def positions(self) -> list[Position]: ...

    def orders(self, open_only: bool = False) -> list[Order]: ...

    def get_order_by_client_id(self, client_order_id: str) -> Order | None: ...

    def submit(self, order: Order) -> Order: ...

    def cancel(self, order_id: str) -> None: ...

    def cancel_all(self, symbol: str | None = None) -> int: ...

    def quote(self, symbol: str) -> Quote: ...

    def fills(self, since: datetime | None = None) -> list[Fill]: ...


# --------------------------------------------------------------------------- shared mechanics


def retry_reads(
    fn: Callable[[], T], *, attempts: int = 4, backoff: float = 0.5, max_wait: float = 8.0
) -> T:
    """Call ``fn`` again with exponential backoff while it raises BrokerUnavailable.

    Only for reads and other calls that are safe to repeat; never for placement.
    """
    retrying = Retrying(
        retry=retry_if_exception_type(BrokerUnavailable),
        stop=stop_after_attempt(max(attempts, 1)),
        wait=wait_exponential(multiplier=backoff, max=max_wait),
        reraise=True,
    )
    return retrying(fn)


def place_idempotently(
    client_order_id: str,
    send: Callable[[], Order],
    lookup: Callable[[], Order | None],
    *,
    backoff: float = 0.2,
) -> Order:
    """Send an order once; when the outcome is unknown, look it up by client order id and
    resend (same client id) only if the venue confirms it does not have it.

    ``send`` raises OrderOutcomeUnknown when the request may have reached the venue and
    BrokerUnavailable when it certainly did not. ``lookup`` returns None only when the
    venue confirms the order is absent, and raises when it cannot tell.
    """
    try:
        return send()
    except OrderOutcomeUnknown as first:
        log.warning("placement of %s uncertain (%s); looking it up", client_order_id, first)
    found = _confirmed_lookup(client_order_id, lookup, backoff)
    if found is not None:
        return found
    log.info("venue confirms %s is absent; resending with the same client id", client_order_id)
    try:
        return send()
    except OrderOutcomeUnknown:
        found = _confirmed_lookup(client_order_id, lookup, backoff)
        if found is not None:
            return found
        raise


def _confirmed_lookup(
    client_order_id: str, lookup: Callable[[], Order | None], backoff: float
) -> Order | None:
    try:
        return retry_reads(lookup, attempts=3, backoff=backoff)
    except BrokerUnavailable as exc:
        raise OrderOutcomeUnknown(client_order_id, f"look-up failed too: {exc}") from None

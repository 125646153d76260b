"""The desk's check of a proposal's prices against the market, before it is stored.

A price far from the market is a typing error: refusing it here keeps it out of the ledger
altogether. The gate's fat-finger check still stands behind this for every other path.
"""

from __future__ import annotations

from tradecrew.brokers import Broker, BrokerError
from tradecrew.desk.errors import DeskError
from tradecrew.models import ProposalRequest, Quote


def check_price_band(broker: Broker, request: ProposalRequest, band: float) -> Quote | None:
    """Raise DeskError when a limit or stop price is more than ``band`` (a fraction) from the
    last price. Returns the quote it read, if it needed one, so the risk context reuses it
    instead of asking the broker again."""
    prices = [p for p in (request.limit_price, request.stop_price) if p is not None]
    if not prices:
        return None
    try:
        quote = broker.quote(request.symbol)
        last = quote.last
    except BrokerError as exc:
        raise DeskError(
            f"no quote for {request.symbol} to check the price against: {exc}"
        ) from None
    for price in prices:
        if last > 0 and abs(price / last - 1.0) > band:
            raise DeskError(
                f"price {price:g} is {abs(price / last - 1.0):.1%} from the last "
                f"{request.symbol} price {last:g} (allowed band {band:.0%})"
            )
    return quote

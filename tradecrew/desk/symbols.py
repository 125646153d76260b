"""The instrument of a symbol the desk is asked to trade: the built-in catalogue first, then,
when the desk's data source is a live provider, that provider's own answer.

Instruments a provider derives live only in the process that asked (``provided_instrument``),
so a new process (``propose AMD``, then ``proposals approve`` in another run) asks again
rather than trusting anything remembered."""

from __future__ import annotations

from tradecrew.instruments import Instrument, UnknownSymbol, find_instrument

# Sources that answer for symbols outside the catalogue. Offline sources (sample, csv) do
# not: a symbol they lack stays unknown, as it always was.
LIVE_SOURCES = frozenset({"alpaca", "yfinance", "openbb", "mt5", "ccxt"})


def resolve_instrument(symbol: str, source: str | None) -> Instrument:
    """The catalogue's (or this process's provided) instrument; otherwise one quote request
    to a live ``source``, whose answer derives it. ``UnknownSymbol`` when the provider has
    nothing for it; an outage (``SourceUnavailable``) propagates as one."""
    known = find_instrument(symbol)
    if known is not None:
        return known
    # ``ccxt:binance`` is the ccxt source with its exchange named
    if source is None or source.strip().lower().partition(":")[0] not in LIVE_SOURCES:
        raise UnknownSymbol(symbol)
    from tradecrew.data import get_provider
    from tradecrew.data.base import UnknownSymbolError

    try:
        # A served quote registers the instrument (a US equity in USD, or a crypto pair).
        get_provider(source).quote(symbol)
    except UnknownSymbolError:
        raise UnknownSymbol(symbol) from None
    derived = find_instrument(symbol)
    if derived is None:  # the provider answered without deriving: still not tradable here
        raise UnknownSymbol(symbol)
    return derived

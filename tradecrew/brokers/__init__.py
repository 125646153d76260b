"""Broker adapters: the Broker protocol, typed errors, and the venues (paper, Alpaca, MT5).

Adapters only execute; the desk's risk gate is the single caller that decides to trade.
Alpaca and MetaTrader 5 adapters import their SDKs lazily so the default install needs none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradecrew.brokers.base import (
    Broker,
    BrokerError,
    BrokerUnavailable,
    LiveTradingRefused,
    NotSupported,
    OrderOutcomeUnknown,
    OrderRejected,
    UnknownOrder,
    place_idempotently,
    retry_reads,
)
from tradecrew.brokers.paper import PaperBroker

if TYPE_CHECKING:
    from tradecrew.brokers.alpaca import AlpacaBroker
    from tradecrew.brokers.mt5 import Mt5Broker
    from tradecrew.config import Settings

__all__ = [
    "AlpacaBroker",
    "Broker",
    "BrokerError",
    "BrokerUnavailable",
    "LiveTradingRefused",
    "Mt5Broker",
    "NotSupported",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "PaperBroker",
    "UnknownOrder",
    "check_endpoint",
    "make_broker",
    "place_idempotently",
    "retry_reads",
]


def make_broker(
    name: str | None = None,
    *,
    live: bool = False,
    settings: Settings | None = None,
    **kwargs: Any,
) -> Broker:
    """The configured venue (``settings.broker.name`` unless ``name`` is given). Its mode comes
    from the venue (endpoint, account), never from ``live``: ``live=True`` is the second
    opt-in, and a live account without both opt-ins raises LiveTradingRefused."""
    from tradecrew.config import get_settings

    settings = settings or get_settings()
    choice = name or settings.broker.name
    if choice == "paper":
        if live:
            raise BrokerError("the paper venue has no live mode")
        if "quote_fn" not in kwargs:
            kwargs.setdefault("source", settings.data_source)  # prices from the desk's data
        kwargs.setdefault("settings", settings.broker)
        return PaperBroker(**kwargs)
    kwargs.setdefault("read_attempts", settings.broker.read_attempts)
    if choice == "alpaca":
        from tradecrew.brokers.alpaca import AlpacaBroker

        return AlpacaBroker(settings, live=live, **kwargs)
    if choice == "mt5":
        from tradecrew.brokers.mt5 import Mt5Broker

        return Mt5Broker(settings=settings, live=live, **kwargs)
    raise BrokerError(f"unknown broker {choice!r}; use paper, alpaca or mt5")


def check_endpoint(settings: Settings, live: bool) -> None:
    """Refuse at once, with no connection, a venue whose configured endpoint alone shows a
    live account without both opt-ins (Alpaca); other venues are checked when they connect."""
    if settings.broker.name == "alpaca":
        from tradecrew.brokers.alpaca import refuse_live_endpoint, trading_endpoint

        opted_in = live and settings.broker.live_trading
        refuse_live_endpoint(trading_endpoint(settings, live), opted_in)


def __getattr__(name: str) -> Any:
    if name == "AlpacaBroker":
        from tradecrew.brokers.alpaca import AlpacaBroker

        return AlpacaBroker
    if name == "Mt5Broker":
        from tradecrew.brokers.mt5 import Mt5Broker

        return Mt5Broker
    raise AttributeError(name)

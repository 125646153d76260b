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

__all__ = [
    "AlpacaBroker",
    "Broker",
    "BrokerError",
    "BrokerUnavailable",
    "Mt5Broker",
    "NotSupported",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "PaperBroker",
    "UnknownOrder",
    "make_broker",
    "place_idempotently",
    "retry_reads",
]


def make_broker(name: str | None = None, *, live: bool = False, **kwargs: Any) -> Broker:
    """The configured venue (``settings.broker.name`` unless ``name`` is given); ``live=True``
    is honoured only together with ``settings.broker.live_trading``."""
    from tradecrew.config import get_settings

    choice = name or get_settings().broker.name
    if choice == "paper":
        if live:
            raise BrokerError("the paper venue has no live mode")
        return PaperBroker(**kwargs)
    if choice == "alpaca":
        from tradecrew.brokers.alpaca import AlpacaBroker

        return AlpacaBroker(live=live, **kwargs)
    if choice == "mt5":
        from tradecrew.brokers.mt5 import Mt5Broker

        return Mt5Broker(live=live, **kwargs)
    raise BrokerError(f"unknown broker {choice!r}; use paper, alpaca or mt5")


def __getattr__(name: str) -> Any:
    if name == "AlpacaBroker":
        from tradecrew.brokers.alpaca import AlpacaBroker

        return AlpacaBroker
    if name == "Mt5Broker":
        from tradecrew.brokers.mt5 import Mt5Broker

        return Mt5Broker
    raise AttributeError(name)

"""Loading the MetaTrader 5 terminal module safely, for the mt5 data provider and broker.

It sits in data/, below both: the provider reads bars through the same terminal the broker
trades on, and a data provider never imports a broker.
"""

from __future__ import annotations

from typing import Any

from tradecrew.errors import TradecrewError
from tradecrew.net import is_loopback as _is_loopback


class Mt5TerminalError(TradecrewError):
    """The terminal module cannot be loaded: not installed, or a bridge host refused."""


def load_module(host: str, port: int) -> Any:
    """The MetaTrader5 module on Windows, else an mt5linux bridge on a loopback host only."""
    try:
        import MetaTrader5  # type: ignore[import-not-found]

        return MetaTrader5
    except ImportError:
        pass
    if not _is_loopback(host):
        raise Mt5TerminalError(
            f"refusing MT5 bridge host {host!r}: only loopback hosts are allowed"
        )
    try:
        from mt5linux import MetaTrader5 as Bridge  # type: ignore[import-not-found]
    except ImportError:
        raise Mt5TerminalError(
            "MetaTrader 5 needs the MetaTrader5 package (Windows) or mt5linux: "
            "install tradecrew[mt5]"
        ) from None
    return Bridge(host=host, port=port)

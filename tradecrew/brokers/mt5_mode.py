"""MetaTrader 5 account mode: which terminal accounts count as paper, the refusal of a live
account without both live opt-ins, and the refusal of an account switched while running.
"""

from __future__ import annotations

from typing import Any

from tradecrew.brokers.base import LiveTradingRefused
from tradecrew.brokers.mt5_constants import AccountTradeMode
from tradecrew.models import AccountMode


def account_mode(trade_mode: Any) -> AccountMode:
    """Paper only for what the terminal reports as a demo or contest account; real and any
    value this code does not know count as live."""
    try:
        kind = AccountTradeMode(int(trade_mode))
    except (TypeError, ValueError):
        return AccountMode.LIVE
    paper = kind in (AccountTradeMode.DEMO, AccountTradeMode.CONTEST)
    return AccountMode.PAPER if paper else AccountMode.LIVE


def refuse_live_account(info: Any, opted_in: bool) -> AccountMode:
    """The mode of the account in ``info``; a live one without both opt-ins raises
    LiveTradingRefused."""
    mode = account_mode(info.trade_mode)
    if mode is AccountMode.LIVE and not opted_in:
        raise LiveTradingRefused(
            f"MT5 account {info.login} is {trade_mode_name(info.trade_mode)}, a live account"
        )
    return mode


def refuse_other_account(login: int, mode: AccountMode, info: Any) -> None:
    """The terminal can be logged into another account while the desk runs; the mode and
    the approval rule were fixed for the account seen at start, so refuse any other."""
    if info.login != login or account_mode(info.trade_mode) is not mode:
        raise LiveTradingRefused(
            f"the MT5 terminal switched from account {login} to {info.login} "
            f"({trade_mode_name(info.trade_mode)})",
            "restart the desk for the new account",
        )


def trade_mode_name(trade_mode: Any) -> str:
    """The terminal's trade mode as a lower-case word, for messages."""
    try:
        return AccountTradeMode(int(trade_mode)).name.lower()
    except (TypeError, ValueError):
        return f"of unknown trade mode {trade_mode!r}"

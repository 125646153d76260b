"""Alpaca account mode: which endpoint and which account number count as paper, and the
refusal of a live endpoint without both live opt-ins. Pure functions, no network.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tradecrew.brokers.base import LiveTradingRefused
from tradecrew.config import Settings
from tradecrew.models import AccountMode

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_URL = "https://api.alpaca.markets"


def endpoint_mode(url: str) -> AccountMode:
    """Paper only for Alpaca's known paper endpoint; the live one and any other URL (a proxy,
    a typo, a test server) count as live, since nothing proves they are not."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return AccountMode.LIVE
    paper = (
        parts.scheme == "https"
        and parts.hostname == "paper-api.alpaca.markets"
        and port in (None, 443)
        and not parts.username
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
    )
    return AccountMode.PAPER if paper else AccountMode.LIVE


def refuse_live_endpoint(url: str, opted_in: bool) -> AccountMode:
    """The endpoint's mode; a live one without both opt-ins raises LiveTradingRefused."""
    mode = endpoint_mode(url)
    if mode is AccountMode.LIVE and not opted_in:
        shown = url if url == LIVE_URL else "an endpoint other than " + PAPER_URL
        raise LiveTradingRefused(f"Alpaca at {shown} counts as a live account")
    return mode


def trading_endpoint(settings: Settings, live: bool, override: str | None = None) -> str:
    """The trading URL used: given, configured, or Alpaca's live/paper one by ``live``."""
    return override or settings.broker.alpaca_base_url or (LIVE_URL if live else PAPER_URL)


def account_mode(account_number: str | None) -> AccountMode:
    """What the account itself says: Alpaca's paper account numbers start with "PA"."""
    return AccountMode.PAPER if (account_number or "").startswith("PA") else AccountMode.LIVE

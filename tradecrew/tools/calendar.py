"""Economic calendar analysis: is a symbol inside a news blackout?

A blackout is the window around a high-impact event in one of the symbol's currencies
(``minutes_before`` to ``minutes_after``); inside it the desk shrinks risk or blocks trading.
The events come from ``tradecrew.data`` (the calendar file, the sample generator, the live
feeds, selected by ``tradecrew.data.calendars``); everything here is pure: events and limits
are arguments, and a ``Calendar`` carries its own index.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradecrew.data.calendar_events import Calendar, EconomicEvent
from tradecrew.instruments import CATALOGUE, find_instrument

__all__ = [
    "DEFAULT_WINDOW",
    "BlackoutCheck",
    "affected_symbols",
    "blackout",
    "symbol_currencies",
]

#: The settings' defaults (components.calendar): minutes before, minutes after, size
#: factor inside, action.
DEFAULT_WINDOW: tuple[int, int, float, Literal["reduce", "block"]] = (60, 30, 0.5, "reduce")


class BlackoutCheck(BaseModel):
    """Whether ``symbol`` is inside a news blackout at ``timestamp`` and what to do about it."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    timestamp: datetime
    currencies: list[str]
    in_blackout: bool
    action: Literal["reduce", "block"]
    risk_reduction: float = Field(ge=0.0, le=1.0, description="size multiplier: 1 is no change")
    events: list[EconomicEvent] = Field(description="high-impact events whose window holds now")
    next_event: EconomicEvent | None = None
    minutes_to_next_event: float | None = None
    synthetic: bool = Field(
        False,
        description="the calendar holds generated sample events (the packaged sample file), "
        "not real release dates",
    )
    source: str | None = Field(
        None, description="where the events came from: forex_feed, openbb, file, sample"
    )
    reason: str = ""


def affected_symbols(currency: str) -> list[str]:
    """Catalogue symbols an event in ``currency`` moves (USD: EURUSD, XAUUSD, SPX, AAPL...)."""
    code = currency.strip().upper()
    return sorted(sym for sym, inst in CATALOGUE.items() if code in inst.currencies)


def symbol_currencies(symbol: str) -> tuple[str, ...]:
    """Currencies an event must be in to affect ``symbol`` (EUR and USD for EURUSD)."""
    inst = find_instrument(symbol)
    if inst is not None:
        return inst.currencies
    code = symbol.strip().upper().replace("/", "")
    if len(code) == 6 and code.isalpha():
        return (code[:3], code[3:])
    return ("USD",)


# --------------------------------------------------------------------------- blackout


def blackout(
    symbol: str,
    now: datetime,
    events: Sequence[EconomicEvent] | Calendar,
    minutes_before: int = DEFAULT_WINDOW[0],
    minutes_after: int = DEFAULT_WINDOW[1],
    risk_reduction: float = DEFAULT_WINDOW[2],
    action: Literal["reduce", "block"] = DEFAULT_WINDOW[3],
) -> BlackoutCheck:
    """Is ``symbol`` within ``minutes_before``..``minutes_after`` of a high-impact event in its
    currencies? Inside, the size multiplier is ``risk_reduction`` (0 when action is block).
    Pass a ``Calendar`` to reuse its index across checks; a plain sequence is indexed anew."""
    if minutes_before < 0 or minutes_after < 0:
        raise ValueError("minutes_before and minutes_after must be zero or more")
    if not 0.0 <= risk_reduction <= 1.0:
        raise ValueError(f"risk_reduction must be within [0, 1], got {risk_reduction}")
    if action not in ("reduce", "block"):
        raise ValueError(f"action must be 'reduce' or 'block', got {action!r}")
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")
    now = now.astimezone(UTC)

    currencies = symbol_currencies(symbol)
    calendar = events if isinstance(events, Calendar) else Calendar(events)
    relevant, times = calendar.high_impact(currencies)
    before, after = timedelta(minutes=minutes_before), timedelta(minutes=minutes_after)
    # Only events within [now - after, now + before] can hold ``now`` in their window.
    lo, hi = bisect_left(times, now - after), bisect_right(times, now + before)
    hits = [e for e in relevant[lo:hi] if e.time - before <= now <= e.time + after]
    nxt = bisect_right(times, now)
    upcoming = relevant[nxt] if nxt < len(relevant) else None
    inside = bool(hits)
    factor = (0.0 if action == "block" else risk_reduction) if inside else 1.0
    named = ", ".join(f"{e.currency} {e.title} at {e.time:%Y-%m-%d %H:%M}Z" for e in hits)
    reason = f"{action}: {named}" if inside else "no high-impact event in the window"
    label = calendar.label()
    if label:  # generated or live events say so wherever a blackout is explained
        reason = f"{reason} ({label})"
    return BlackoutCheck(
        symbol=symbol.strip().upper(),
        timestamp=now,
        currencies=list(currencies),
        in_blackout=inside,
        action=action,
        risk_reduction=factor,
        events=hits,
        next_event=upcoming,
        minutes_to_next_event=(upcoming.time - now).total_seconds() / 60.0 if upcoming else None,
        synthetic=calendar.synthetic,
        source=calendar.source,
        reason=reason,
    )

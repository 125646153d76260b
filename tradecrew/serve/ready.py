"""``/readyz``: is the desk fit to trade now? The ledger answers, the broker answered the
last look, and every watched symbol has fresh data (a live quote counts as stale only while
its market is open; a closed market's last quote is simply the last one)."""

from __future__ import annotations

from datetime import timedelta

from tradecrew.desk.context import market_open
from tradecrew.models import utcnow
from tradecrew.serve.jobs import Jobs
from tradecrew.text import one_line


def reasons(jobs: Jobs) -> list[str]:
    """What keeps the desk from being ready; empty when it is."""
    out: list[str] = []
    now = utcnow()
    cfg = jobs.desk.settings.serve
    try:
        jobs.desk.ledger.get_trading_state()
    except Exception as exc:
        out.append(f"ledger: not reachable ({one_line(type(exc).__name__ + ': ' + str(exc), 200)})")
    watcher = jobs.watcher
    if watcher.broker_error:
        out.append(f"broker: not reachable ({one_line(watcher.broker_error, 200)})")
    elif watcher.broker_ok_at is None:
        out.append("broker: not checked yet")
    elif now - watcher.broker_ok_at > timedelta(seconds=max(3 * cfg.watch_seconds, 30)):
        out.append("broker: no answer since the last look")
    failures = jobs.quotes.failures()
    for symbol in jobs.watchlist:
        seen = jobs.quotes.seen(symbol)
        if symbol in failures:
            out.append(f"data: {symbol}: {failures[symbol]}")
        elif seen is None:
            out.append(f"data: {symbol}: no quote read yet")
        elif seen.age(now) > cfg.max_data_age_seconds and (
            seen.replayed or market_open(symbol, now, seen.quote)
        ):
            out.append(f"data: {symbol}: last quote {seen.age(now):,.0f} s old")
    return out

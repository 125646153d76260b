"""Pre-trade checks about whether to trade at all: switches, state, prices, pace, calendar.

Each check takes an OrderView and returns one RiskCheck named for it. Checks guarding new
risk (correlation, confidence, blackout) let an order that only shrinks a position through.
"""

from __future__ import annotations

import math

from tradecrew.data.calendar_events import SYNTHETIC_LABEL
from tradecrew.instruments import find_instrument, normalize_symbol
from tradecrew.models import OrderType, RiskCheck, TradingState
from tradecrew.risk.state import allows
from tradecrew.risk.view import OrderView, finite_positive


def passed(name: str, reason: str, max_quantity: float | None = None) -> RiskCheck:
    return RiskCheck(name=name, passed=True, reason=reason, max_quantity=max_quantity)


def failed(name: str, reason: str, max_quantity: float | None = None) -> RiskCheck:
    return RiskCheck(name=name, passed=False, reason=reason, max_quantity=max_quantity)


def capped(name: str, view: OrderView, cap: float, what: str) -> RiskCheck:
    """Pass at the requested size, shrink to ``cap`` when it is smaller, fail when it is 0.

    The cap is rounded to 12 significant digits so that float noise (49999.99999999996)
    cannot cost a whole quantity step when the size is floored to the instrument's grid.
    """
    if math.isnan(cap):
        return failed(name, f"{what}: the limit could not be computed (NaN)")
    if math.isfinite(cap):
        cap = float(f"{cap:.12g}")
    if cap >= view.requested:
        return passed(name, f"{what}: within limit (room for {cap:.6g})")
    if cap <= 0:
        return failed(name, f"{what}: no room left for any {view.proposal.side.value}", 0.0)
    return passed(name, f"{what}: shrinks {view.requested:.6g} to {cap:.6g}", cap)


def kill_switch(view: OrderView) -> RiskCheck:
    if view.ctx.kill_switch:
        return failed("kill_switch", "the kill switch is engaged: nothing may be traded")
    return passed("kill_switch", "kill switch off")


def trading_state(view: OrderView) -> RiskCheck:
    state, p = view.ctx.trading_state, view.proposal
    held = view.position
    ok, reason = allows(state, p, held)
    if state is TradingState.HALTED:
        return failed("trading_state", reason)
    opposite = held != 0 and p.side.sign != (1 if held > 0 else -1)
    if p.reduce_only and not opposite:
        wanted = "short" if p.side.sign > 0 else "long"
        return failed(
            "trading_state", f"reduce-only {p.side.value} but no {wanted} {view.symbol} to reduce"
        )
    if opposite and p.quantity > abs(held) and (p.reduce_only or not ok):
        # A flip is a reduction plus a new position: keep only the reduction part.
        why = "reduce-only" if p.reduce_only else "reducing"
        return passed("trading_state", f"{why}: shrinks to the {abs(held):.6g} held", abs(held))
    if not ok:
        return failed("trading_state", reason)
    return passed("trading_state", reason)


def instrument_known(view: OrderView) -> RiskCheck:
    inst = view.ctx.instrument
    if inst is None:
        known = find_instrument(view.symbol)
        hint = "" if known is None else " (the catalogue knows it, but none was passed in)"
        return failed("instrument_known", f"no instrument definition for {view.symbol}{hint}")
    if inst.symbol != view.symbol:
        return failed(
            "instrument_known", f"instrument {inst.symbol} does not match the order's {view.symbol}"
        )
    return passed("instrument_known", f"{inst.symbol}: {inst.asset_class.value}")


def price_sanity(view: OrderView) -> RiskCheck:
    ctx, p, problems = view.ctx, view.proposal, []

    def check(value: float | None, what: str) -> None:
        try:
            finite_positive(value, what)
        except ValueError as exc:
            problems.append(str(exc))

    quote = ctx.quote
    if quote is None and ctx.last_price is None:
        problems.append(f"no quote or last price for {view.symbol}")
    if ctx.last_price is not None:
        check(ctx.last_price, "last price")
    if quote is not None:
        for value, what in ((quote.bid, "bid"), (quote.ask, "ask"), (quote.last, "quote last")):
            check(value, what)
        if quote.ask < quote.bid:
            problems.append(f"crossed quote: bid {quote.bid} above ask {quote.ask}")
        if normalize_symbol(quote.symbol) != view.symbol:
            problems.append(f"quote is for {quote.symbol}, not {view.symbol}")
    stale, age_note = _quote_age(view)
    if stale:
        problems.append(stale)
    for name in ("limit_price", "stop_price", "stop_loss", "take_profit"):
        if getattr(p, name) is not None:
            check(getattr(p, name), name.replace("_", " "))
    check(p.quantity, "quantity")
    for symbol, value in ctx.prices.items():
        check(value, f"price of {symbol}")
    if problems:
        return failed("price_sanity", "; ".join(problems))
    return passed("price_sanity", f"prices finite and positive; {age_note}")


def _quote_age(view: OrderView) -> tuple[str | None, str]:
    """(problem, note) about the quote's age. A live quote older than its asset class's limit
    is stale while the market is open (or its hours are unknown); a closed market's last
    quote is not. Replayed quotes (sample, csv) have no live clock and are exempt, by name."""
    ctx, quote = view.ctx, view.ctx.quote
    if quote is None:
        return None, "no quote, so no quote age"
    if ctx.quote_replayed:
        return None, f"quote age not checked: {quote.source} data is replayed, with no live clock"
    inst, ages = ctx.instrument, ctx.limits.max_quote_age_seconds
    if inst is not None:
        kind, limit = inst.asset_class.value, ages.for_class(inst.asset_class)
    else:  # unknown instrument (denied elsewhere): the strictest limit that is on
        kind, limit = "any class", min((v for v in ages.model_dump().values() if v > 0), default=0)
    if limit <= 0:
        return None, f"quote age check off for {kind}"
    if ctx.market_open is False:
        return None, "market closed: the last quote's age is not held against it"
    age = (ctx.now - quote.timestamp).total_seconds()
    if age > limit:
        return f"stale quote: {age:.1f}s old, limit {limit:g}s for {kind}", ""
    return None, f"quote {max(age, 0.0):.1f}s old (limit {limit:g}s for {kind})"


def fat_finger(view: OrderView) -> RiskCheck:
    p, band = view.proposal, view.ctx.limits.price_band_pct
    last, problems = view.last_price, []
    if p.order_type is OrderType.MARKET:
        if view.ctx.quote is None:
            return failed("fat_finger", "market order without a quote: its fill price is unbounded")
        checked = [("ask" if view.sign > 0 else "bid", view.entry_price)]
    else:
        checked = [(n, getattr(p, n)) for n in ("limit_price", "stop_price")]
    for name, price in checked:
        if price is None:
            continue
        deviation = abs(float(price) / last - 1.0)
        if not deviation <= band:
            problems.append(
                f"{name.replace('_', ' ')} {price:.6g} is {deviation:.2%} from last "
                f"{last:.6g} (band {band:.2%})"
            )
    entry = view.entry_price
    # A buy's stop sits below its entry and its target above; the reverse is a typo.
    if p.stop_loss is not None and (p.stop_loss - entry) * view.sign >= 0:
        problems.append(f"stop loss {p.stop_loss:.6g} is on the wrong side of entry {entry:.6g}")
    if p.take_profit is not None and (p.take_profit - entry) * view.sign <= 0:
        problems.append(
            f"take profit {p.take_profit:.6g} is on the wrong side of entry {entry:.6g}"
        )
    if problems:
        return failed("fat_finger", "; ".join(problems))
    return passed("fat_finger", f"prices within {band:.2%} of last {last:.6g}")


def _market(view: OrderView) -> tuple[float, float]:
    """(touch, last): the quote side the order trades against (a buy's ask, a sell's bid),
    or the last trade when there is no quote, and the last trade itself.
    """
    last, quote = view.last_price, view.ctx.quote
    if quote is None:
        return last, last
    return (quote.ask if view.sign > 0 else quote.bid), last


def order_side(view: OrderView) -> RiskCheck:
    """A stop rests beyond the market and a limit on the near side of it; otherwise the order
    executes at once (a buy stop below the market is a market buy with a typo in it).
    """
    p, buy = view.proposal, view.sign > 0
    if p.order_type is OrderType.MARKET:
        return passed("order_side", "market order")
    touch, last = _market(view)
    side, problems = p.side.value, []
    if p.stop_price is not None:
        # A stop may trigger on the quote or on the last trade: it must be beyond both.
        market = max(touch, last) if buy else min(touch, last)
        if not (p.stop_price > market if buy else p.stop_price < market):
            where = "above" if buy else "below"
            problems.append(
                f"a {side} stop at {p.stop_price:.6g} would trigger at once: it must be "
                f"{where} the market {market:.6g} (a market order trades now)"
            )
    if p.order_type is OrderType.STOP_LIMIT and p.limit_price is not None:
        stop = float(p.stop_price or 0.0)
        if not (p.limit_price >= stop if buy else p.limit_price <= stop):
            where = "below" if buy else "above"
            problems.append(
                f"the {side} stop-limit's limit {p.limit_price:.6g} is {where} its stop "
                f"{stop:.6g}: the order would rest on the wrong side of its own trigger"
            )
    elif p.limit_price is not None and not (
        p.limit_price <= touch if buy else p.limit_price >= touch
    ):
        where = "above" if buy else "below"
        problems.append(
            f"a {side} limit at {p.limit_price:.6g} is {where} the market {touch:.6g} "
            "and would fill at once: use a market order, or a limit on the other side"
        )
    if problems:
        return failed("order_side", "; ".join(problems))
    return passed("order_side", f"{p.order_type.value} order on the resting side of the market")


def rate_limit(view: OrderView) -> RiskCheck:
    ctx = view.ctx
    recent = ctx.orders_last_minute
    limit = ctx.limits.max_orders_per_minute
    if recent + 1 > limit:
        return failed("rate_limit", f"{recent} orders in the last 60s; limit {limit} per minute")
    return passed("rate_limit", f"{recent} orders in the last 60s (limit {limit})")


def market_hours(view: OrderView) -> RiskCheck:
    ctx = view.ctx
    if not ctx.limits.enforce_market_hours:
        return passed("market_hours", "market hours not enforced")
    if ctx.market_open is False:
        return failed("market_hours", f"the market for {view.symbol} is closed")
    if ctx.market_open is None:
        return passed("market_hours", "market hours unknown")
    return passed("market_hours", "market open")


def blackout(view: OrderView) -> RiskCheck:
    ctx = view.ctx
    if ctx.calendar_error is not None:
        if view.reduces:
            return passed("blackout", "calendar unreadable: a reduction is not limited")
        return failed(
            "blackout",
            f"the economic calendar could not be read ({ctx.calendar_error}), so an event "
            "blackout cannot be ruled out: no new risk until the calendar can be read again, or "
            "the calendar component is turned off in the environment "
            "(TRADECREW_COMPONENTS__CALENDAR__ENABLED=false)",
        )
    if ctx.calendar_off is not None:
        return passed("blackout", ctx.calendar_off)
    # Generated events are named as such wherever a blackout is explained.
    label = (
        f" ({SYNTHETIC_LABEL})"
        if ctx.calendar_synthetic
        else f" ({ctx.calendar_source} calendar)"
        if ctx.calendar_source in ("forex_feed", "openbb")
        else ""
    )
    if not ctx.in_blackout:
        return passed("blackout", f"no event blackout{label}")
    if view.reduces:
        return passed("blackout", f"event blackout{label}: a reduction is not limited")
    factor = float(ctx.risk_reduction)
    if math.isnan(factor) or factor <= 0:
        return failed(
            "blackout", f"event blackout{label} with risk reduction {factor:g}: no new risk"
        )
    cap = view.requested * min(factor, 1.0)
    return capped("blackout", view, cap, f"event blackout{label}, size x {min(factor, 1.0):g}")


def correlation(view: OrderView) -> RiskCheck:
    """New risk is refused when it adds to a held position correlated above the limit, and
    when a held position's correlation is not known (missing data, too short a history): an
    unknown correlation is not a low one. A limit of 1 turns the check off."""
    ctx = view.ctx
    if view.reduces:
        return passed("correlation", "reduction: adds no correlated exposure")
    limit, problems, unknown = ctx.limits.max_correlation, [], []
    for position in ctx.positions:
        other = normalize_symbol(position.symbol)
        if position.quantity == 0 or other == view.symbol:
            continue
        corr = ctx.correlations.get(other)
        if corr is None:
            unknown.append(other)
            continue
        if math.isnan(corr):
            problems.append(f"correlation with {other} is NaN")
            continue
        # Buying something positively correlated with a long adds to it; selling hedges it.
        same_way = view.sign * math.copysign(1.0, corr) == math.copysign(1.0, position.quantity)
        if abs(corr) > limit and same_way:
            problems.append(
                f"|corr| {abs(corr):.2f} with the {position.side.value} {other} "
                f"position is above {limit:.2f}"
            )
    if unknown and limit < 1.0:
        problems.append(
            f"correlation with the held {', '.join(unknown)} not computed (no shared daily "
            "bars for a full window, or flat prices): new risk is refused until it can be; "
            "TRADECREW_RISK__MAX_CORRELATION=1 turns the check off"
        )
    if problems:
        return failed("correlation", "; ".join(problems))
    if unknown:
        return passed("correlation", "correlation check off (max_correlation 1)")
    return passed("correlation", f"no open position correlated above {limit:.2f}")


def signal_confidence(view: OrderView) -> RiskCheck:
    confidence, floor = view.ctx.signal_confidence, view.ctx.limits.min_signal_confidence
    if confidence is None:
        return passed("signal_confidence", "no signal confidence given")
    if view.reduces:
        return passed("signal_confidence", "reduction: confidence not required")
    if not confidence >= floor:
        return failed("signal_confidence", f"signal confidence {confidence:.2f} below {floor:.2f}")
    return passed("signal_confidence", f"signal confidence {confidence:.2f} >= {floor:.2f}")

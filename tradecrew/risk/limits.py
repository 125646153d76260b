"""Pre-trade checks about how much: notional, position, exposure, losses and risk sizing.

Size limits shrink rather than deny when a smaller order would fit (``max_quantity``);
exposure is measured on worst-case holdings (positions plus open orders) in the account
currency. Reducing an existing position is always within the exposure limits.
"""

from __future__ import annotations

import math

from tradecrew.config_sections import RiskSettings
from tradecrew.instruments import normalize_symbol
from tradecrew.models import RiskCheck, TradingState
from tradecrew.risk.checks import capped, failed, passed
from tradecrew.risk.context import RiskContext
from tradecrew.risk.exposure import linear_cap
from tradecrew.risk.sizing import risk_units, stop_distance
from tradecrew.risk.view import OrderView


def _approx(view: OrderView) -> str:
    return " (FX at typical prices)" if view.unit.approximate or view.book.approximate else ""


def max_order_notional(view: OrderView) -> RiskCheck:
    limit = view.ctx.limits.max_order_notional
    cap = limit / view.unit.notional
    ccy = view.ctx.account.currency
    return capped("max_order_notional", view, cap, f"order notional limit {limit:,.0f} {ccy}")


def max_position(view: OrderView) -> RiskCheck:
    limits, ccy = view.ctx.limits, view.ctx.account.currency
    current = view.book.notionals.get(view.instrument.symbol, 0.0)
    cap = linear_cap(current, view.sign * view.unit.notional, limits.max_position_notional)
    what = f"position limit {limits.max_position_notional:,.0f} {ccy}{_approx(view)}"
    unit_limit = unit_limit_for(limits, view.instrument.symbol)
    if unit_limit is not None:
        unit_cap = linear_cap(view.held_units, float(view.sign), unit_limit)
        if unit_cap < cap:
            cap, what = unit_cap, f"position limit {unit_limit:g} units"
    return capped("max_position", view, cap, what)


def unit_limit_for(limits: RiskSettings, symbol: str) -> float | None:
    """The per-symbol unit cap, whether configured by symbol or alias (``GOLD``): the
    tightest of the keys that name the instrument (a NaN cap is kept, and denies)."""
    caps = [v for k, v in limits.max_position_units.items() if normalize_symbol(k) == symbol]
    if not caps:
        return None
    return math.nan if any(math.isnan(v) for v in caps) else min(caps)


def gross_exposure(view: OrderView) -> RiskCheck:
    limit, book = view.ctx.limits.max_gross_exposure, view.book
    current = book.notionals.get(view.instrument.symbol, 0.0)
    room = limit - (book.gross - abs(current))
    cap = linear_cap(current, view.sign * view.unit.notional, room)
    what = f"gross exposure {book.gross:,.0f} of {limit:,.0f}{_approx(view)}"
    return capped("gross_exposure", view, cap, what)


def net_exposure(view: OrderView) -> RiskCheck:
    limit, book = view.ctx.limits.max_net_exposure, view.book
    cap = linear_cap(book.net, view.sign * view.unit.notional, limit)
    what = f"net exposure {book.net:,.0f} of {limit:,.0f}{_approx(view)}"
    return capped("net_exposure", view, cap, what)


def currency_exposure(view: OrderView) -> RiskCheck:
    """Each foreign currency's exposure stays within the limit; the account currency is the
    numeraire (its leg is what gross and net exposure measure) and is not limited here.
    """
    limit, book = view.ctx.limits.max_currency_exposure, view.book
    account = view.ctx.account.currency
    cap, binding = math.inf, ""
    for currency, per_unit in view.unit.legs.items():
        if currency == account:
            continue
        current = book.currencies.get(currency, 0.0)
        leg_cap = linear_cap(current, view.sign * per_unit, limit)
        if leg_cap < cap:
            cap, binding = leg_cap, f"{currency} exposure {current:,.0f} of {limit:,.0f} {account}"
    if not binding:
        return passed("currency_exposure", f"no exposure outside {account}")
    return capped("currency_exposure", view, cap, binding + _approx(view))


#: The checks of hard size limits: a request far beyond one of them is a typo, not a wish.
HARD_LIMITS = (
    "max_order_notional",
    "max_position",
    "gross_exposure",
    "net_exposure",
    "currency_exposure",
)


def _times(measure: float, limit: float) -> float:
    return measure / limit if limit > 0 else math.inf


def overshoots(view: OrderView) -> list[tuple[str, float, str]]:
    """How many times each hard limit the request alone is: (check name, ratio, the limit)."""
    limits, ccy = view.ctx.limits, view.ctx.account.currency
    notional = view.requested * view.unit.notional
    found = [
        (name, _times(notional, limit), f"{what} limit ({limit:,.0f} {ccy})")
        for name, limit, what in (
            ("max_order_notional", limits.max_order_notional, "order notional"),
            ("max_position", limits.max_position_notional, "position"),
            ("gross_exposure", limits.max_gross_exposure, "gross exposure"),
            ("net_exposure", limits.max_net_exposure, "net exposure"),
        )
    ]
    unit_limit = unit_limit_for(limits, view.instrument.symbol)
    if unit_limit is not None:
        ratio = _times(view.requested, unit_limit)
        found.append(("max_position", ratio, f"position limit ({unit_limit:g} units)"))
    for currency, per_unit in view.unit.legs.items():
        if currency != ccy:
            ratio = _times(view.requested * abs(per_unit), limits.max_currency_exposure)
            what = f"{currency} exposure limit ({limits.max_currency_exposure:,.0f} {ccy})"
            found.append(("currency_exposure", ratio, what))
    return found


def shrink_ratio(view: OrderView, results: list[RiskCheck]) -> RiskCheck:
    """Deny a request more than ``max_shrink_ratio`` times a hard limit that binds it.

    Shrinking a size that is near a limit helps; shrinking 1,000,000,000 SPX to 8 turns a
    typo into a trade nobody asked for, so such a request is refused with its ratio.
    """
    binding = {
        c.name
        for c in results
        if c.name in HARD_LIMITS and c.max_quantity is not None and c.max_quantity < view.requested
    }
    most = view.ctx.limits.max_shrink_ratio
    if not binding:
        return passed("shrink_ratio", "no hard limit binds the size")
    if view.reduces:
        # Its size comes from the position held (closing a large one), not from a keyboard.
        return passed("shrink_ratio", "reduction: no larger than the position held")
    # The first of equal ratios (the order notional before the others) names the limit.
    ratio, what = max(
        ((r, w) for name, r, w in overshoots(view) if name in binding), key=lambda rw: rw[0]
    )
    if not ratio <= most:
        notional = view.requested * view.unit.notional
        return failed(
            "shrink_ratio",
            f"probable error: {view.requested:.6g} {view.symbol} "
            f"({notional:,.0f} {view.ctx.account.currency}) is {ratio:,.1f}× the {what}; "
            f"a request over {most:g}× a limit is refused, not shrunk: check the quantity",
        )
    return passed("shrink_ratio", f"{ratio:.2f}× the {what}: within {most:g}×")


def _equity(ctx: RiskContext) -> float:
    equity = float(ctx.current_equity)
    if not math.isfinite(equity) or equity <= 0:
        raise ValueError(f"equity is {equity!r}")
    return equity


def daily_loss_pct(ctx: RiskContext) -> float | None:
    """Today's loss as a fraction of start-of-day equity (None when the start is unknown)."""
    start = ctx.day_start_equity
    if start is None:
        return None
    start, equity = float(start), _equity(ctx)
    if not math.isfinite(start) or start <= 0:
        raise ValueError(f"start-of-day equity is {start!r}")
    return (start - equity) / start


def drawdown_pct(ctx: RiskContext) -> float:
    """The fall from peak equity, as a fraction of the peak."""
    equity, peak = _equity(ctx), float(ctx.peak)
    if not math.isfinite(peak) or peak <= 0:
        raise ValueError(f"peak equity is {peak!r}")
    return max(peak - equity, 0.0) / peak


def _loss_check(name: str, view: OrderView, loss: float | None, limit: float) -> RiskCheck:
    label = name.replace("_", " ")
    if loss is None:
        return passed(name, "start-of-day equity unknown: daily loss not measured")
    if loss < limit:
        return passed(name, f"{label} {loss:.2%} below {limit:.2%}")
    breach = f"{label} {loss:.2%} reached the {limit:.2%} limit: the desk must switch to reducing"
    if view.reduces:
        return passed(name, breach + "; this order only reduces")
    return failed(name, breach)


def daily_loss(view: OrderView) -> RiskCheck:
    limit = view.ctx.limits.max_daily_loss_pct
    return _loss_check("daily_loss", view, daily_loss_pct(view.ctx), limit)


def drawdown(view: OrderView) -> RiskCheck:
    return _loss_check("drawdown", view, drawdown_pct(view.ctx), view.ctx.limits.max_drawdown_pct)


def loss_limit_breached(ctx: RiskContext) -> bool:
    """True when the daily loss or the drawdown reached its limit (NaN equity: False; the
    order is denied by the checks, but a data glitch does not trip the desk).
    """
    try:
        daily = daily_loss_pct(ctx)
        dd = drawdown_pct(ctx)
    except ValueError:
        return False
    limits = ctx.limits
    return (daily is not None and daily >= limits.max_daily_loss_pct) or (
        dd >= limits.max_drawdown_pct
    )


def required_state(ctx: RiskContext) -> TradingState | None:
    """The state the desk must move to now, or None: HALTED for the kill switch, REDUCING for
    a loss trip. It only escalates; clearing a trip is a human's ``transition``.
    """
    current = TradingState(ctx.trading_state)
    if ctx.kill_switch and current is not TradingState.HALTED:
        return TradingState.HALTED
    if current is TradingState.ACTIVE and loss_limit_breached(ctx):
        return TradingState.REDUCING
    return None


def state_after(ctx: RiskContext) -> TradingState:
    """The trading state the desk should be in after this evaluation."""
    return required_state(ctx) or TradingState(ctx.trading_state)


def sizing(view: OrderView) -> RiskCheck:
    ctx, p = view.ctx, view.proposal
    if view.reduces:
        return passed("sizing", "reduction: not risk-sized")
    if p.stop_loss is None and ctx.atr is None:
        return passed("sizing", "no ATR or stop loss: size not risk-capped")
    distance = stop_distance(
        view.entry_price,
        stop_loss=p.stop_loss,
        atr=ctx.atr,
        atr_stop_multiple=ctx.limits.atr_stop_multiple,
    )
    equity = _equity(ctx)
    cap = risk_units(equity, ctx.limits.risk_per_trade, distance, view.quote_to_account)
    basis = "stop loss" if p.stop_loss is not None else f"{ctx.limits.atr_stop_multiple:g} ATR"
    what = f"risk {ctx.limits.risk_per_trade:.2%} of equity over a {basis} of {distance:.6g}"
    return capped("sizing", view, cap, what)

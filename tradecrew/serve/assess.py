"""What the risk watch concludes from one look at the book: pure, so it is fast and testable.

Each finding names the state the desk must move to (REDUCING or HALTED) or none (worth
saying only), and why, in words a person reads in ``tradecrew risk`` and the logs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from tradecrew.models import Order, OrderType, Side, TradingState
from tradecrew.risk import RiskContext
from tradecrew.risk.exposure import Exposure, exposure
from tradecrew.risk.limits import daily_loss_pct, drawdown_pct

SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


@dataclass(frozen=True)
class Finding:
    kind: str  # daily_loss, drawdown, exposure, stop, stale_data, calendar, blackout
    target: TradingState | None
    reason: str


@dataclass(frozen=True)
class Figures:
    """The numbers the metrics show, from the same look."""

    equity: float
    daily_pnl: float
    daily_loss: float | None
    drawdown: float | None
    gross: float
    net: float
    long: float
    short: float


def book_exposure(ctx: RiskContext) -> Exposure | None:
    """The positions valued in the account currency as the gate values them (None: a
    holding the catalogue or the prices cannot value; the gate refuses new risk then)."""
    holdings: dict[str, float] = {}
    for p in ctx.positions:
        holdings[p.symbol] = holdings.get(p.symbol, 0.0) + p.quantity
    prices = dict(ctx.prices)
    for p in ctx.positions:
        prices.setdefault(p.symbol.upper(), p.market_price or p.average_price)
    try:
        return exposure(holdings, prices, ctx.account.currency, ctx.fx_fallback)
    except (ValueError, LookupError):
        return None


def figures(ctx: RiskContext, book: Exposure | None) -> Figures:
    equity = float(ctx.current_equity)
    start = ctx.day_start_equity
    try:
        daily, dd = daily_loss_pct(ctx), drawdown_pct(ctx)
    except ValueError:
        daily, dd = None, None
    values = list(book.notionals.values()) if book is not None else []
    return Figures(
        equity=equity,
        daily_pnl=equity - start if start is not None else 0.0,
        daily_loss=daily,
        drawdown=dd,
        gross=sum(abs(v) for v in values),
        net=sum(values),
        long=sum(v for v in values if v > 0),
        short=-sum(v for v in values if v < 0),
    )


def _loss(kind: str, loss: float | None, limit: float, halt_multiple: float) -> Finding | None:
    if loss is None or not math.isfinite(loss) or loss < limit:
        return None
    label = kind.replace("_", " ")
    if loss >= limit * halt_multiple:
        return Finding(
            kind,
            TradingState.HALTED,
            f"risk watch: {label} {loss:.2%} is {halt_multiple:g}x or more the {limit:.2%} "
            "limit: trading halted",
        )
    return Finding(
        kind,
        TradingState.REDUCING,
        f"risk watch: {label} {loss:.2%} reached the {limit:.2%} limit: only reductions "
        "until a person resumes trading",
    )


def crossed_stops(ctx: RiskContext) -> dict[str, str]:
    """Working stop orders that protect a position and that its mark has passed: order id ->
    what was seen. A venue fills them on its next look; one still working long after is not
    protecting anything."""
    marks = {p.symbol.upper(): (p.quantity, p.market_price) for p in ctx.positions}
    out: dict[str, str] = {}
    for order in ctx.open_orders:
        held, mark = marks.get(order.symbol.upper(), (0.0, None))
        if not _protects(order, held) or mark is None or order.stop_price is None:
            continue
        through = mark <= order.stop_price if order.side is Side.SELL else mark >= order.stop_price
        if through:
            out[order.id] = (
                f"{order.symbol} marked at {mark:.6g} is through the stop {order.stop_price:.6g} "
                f"of order {order.id}, still working"
            )
    return out


def _protects(order: Order, held: float) -> bool:
    if order.order_type not in (OrderType.STOP, OrderType.STOP_LIMIT) or held == 0:
        return False
    return (order.side is Side.SELL) == (held > 0)


def assess(
    ctx: RiskContext,
    *,
    book: Exposure | None,
    halt_multiple: float,
    overdue_stops: Mapping[str, str],
    stale: Mapping[str, float],
    calendar_error: str | None,
    blackouts: Mapping[str, str],
) -> list[Finding]:
    """Every finding of this look; ``overdue_stops`` are crossed stops seen for longer than
    the grace, ``stale`` held symbols whose live quote is too old while their market is open
    (seconds), ``blackouts`` held symbols inside an event blackout (why)."""
    limits = ctx.limits
    fig = figures(ctx, book)
    found = [
        f
        for f in (
            _loss("daily_loss", fig.daily_loss, limits.max_daily_loss_pct, halt_multiple),
            _loss("drawdown", fig.drawdown, limits.max_drawdown_pct, halt_multiple),
        )
        if f is not None
    ]
    if book is None and ctx.positions:
        found.append(
            Finding(
                "exposure",
                TradingState.REDUCING,
                "risk watch: the positions cannot be valued (unknown symbol or no price): "
                "exposure unknown",
            )
        )
    for name, value, limit in (
        ("gross", fig.gross, limits.max_gross_exposure),
        ("net", abs(fig.net), limits.max_net_exposure),
    ):
        if book is not None and value > limit:
            found.append(
                Finding(
                    "exposure",
                    TradingState.REDUCING,
                    f"risk watch: {name} exposure {value:,.0f} {ctx.account.currency} is above "
                    f"the {limit:,.0f} limit",
                )
            )
    for what in overdue_stops.values():
        found.append(Finding("stop", TradingState.REDUCING, f"risk watch: {what}"))
    for symbol, age in sorted(stale.items()):
        found.append(
            Finding(
                "stale_data",
                TradingState.REDUCING,
                f"risk watch: the quote for held {symbol} is {age:,.0f} s old while its market "
                "is open",
            )
        )
    if calendar_error:
        found.append(
            Finding(
                "calendar",
                TradingState.REDUCING,
                f"risk watch: the economic calendar cannot be read ({calendar_error}): no event "
                "blackout can be ruled out",
            )
        )
    for symbol, why in sorted(blackouts.items()):
        found.append(Finding("blackout", None, f"risk watch: held {symbol}: {why}"))
    return found


def most_severe(findings: list[Finding]) -> Finding | None:
    acting = [f for f in findings if f.target is not None]
    if not acting:
        return None
    return max(acting, key=lambda f: SEVERITY[f.target])  # type: ignore[index]

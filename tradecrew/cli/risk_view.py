"""``tradecrew risk`` for people: the limits in force next to what the desk uses of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from tradecrew.cli.tables import Col, fit_table

if TYPE_CHECKING:
    from tradecrew.desk.outcomes import RiskStatus


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


# setting -> (label, format); the order is the table's.
_LIMITS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "max_order_notional": ("order notional", _money),
    "max_position_notional": ("position notional", _money),
    "max_gross_exposure": ("gross exposure", _money),
    "max_net_exposure": ("net exposure", _money),
    "max_currency_exposure": ("exposure per currency", _money),
    "max_daily_loss_pct": ("daily loss", _pct),
    "max_drawdown_pct": ("drawdown", _pct),
    "max_correlation": ("correlation with a held position", lambda v: f"{v:.2f}"),
    "max_orders_per_minute": ("orders per minute", str),
    "price_band_pct": ("fat-finger band around last", _pct),
    "max_shrink_ratio": ("veto above this many times a limit", lambda v: f"{v:g}x"),
    "risk_per_trade": ("equity risked per trade (sizing)", _pct),
    "min_signal_confidence": ("minimum signal confidence", lambda v: f"{v:.2f}"),
    "enforce_market_hours": ("market hours enforced", lambda v: "yes" if v else "no"),
}


def _in_use(status: RiskStatus) -> dict[str, str]:
    """What the desk holds against the limits it can be measured by now."""
    used = {
        "max_gross_exposure": _money(status.gross_exposure),
        "max_net_exposure": _money(abs(status.net_exposure)),
    }
    if status.exposure:
        ccy, value = max(status.exposure.items(), key=lambda kv: abs(kv[1]))
        used["max_currency_exposure"] = f"{_money(abs(value))} ({ccy})"
    marked = [
        (p.symbol, abs(p.quantity * (p.market_price or p.average_price))) for p in status.positions
    ]
    if marked:
        symbol, value = max(marked, key=lambda kv: kv[1])
        used["max_position_notional"] = f"{_money(value)} ({symbol})"
    return used


def limits_table(status: RiskStatus, console: Console) -> Table:
    """The risk limits in force, each with what is in use where the desk can say."""
    used = _in_use(status)
    rows = []
    for key, (label, fmt) in _LIMITS.items():
        if key in status.limits:
            rows.append([label, fmt(status.limits[key]), used.get(key, "")])
    units = status.limits.get("max_position_units") or {}
    for symbol, cap in sorted(units.items()):
        rows.append([f"units of {symbol}", f"{cap:g}", ""])
    cols = [Col("limit", wrap=True), Col("value", justify="right"), Col("in use", priority=1)]
    return fit_table(cols, rows, console=console, title="limits")

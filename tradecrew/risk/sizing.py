"""Position sizing: how many units risk ``risk_per_trade`` of equity at the stop distance.

The stop distance is the order's own stop loss when it has one, else ``atr_stop_multiple``
ATRs. The engine uses the result as a cap (it never enlarges a request); callers that want
a size ask ``suggest_quantity``.
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Decimal, localcontext

from tradecrew.config_sections import RiskSettings
from tradecrew.instruments import Instrument, find_instrument


def _positive(value: float, name: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a finite number above zero, got {value!r}")
    return number


def stop_distance(
    entry: float, *, stop_loss: float | None, atr: float | None, atr_stop_multiple: float
) -> float:
    """Price distance to the stop: ``|entry - stop_loss|`` if given, else multiple x ATR."""
    if stop_loss is not None:
        distance = abs(_positive(entry, "entry price") - _positive(stop_loss, "stop loss"))
        if distance == 0:
            raise ValueError("stop loss equals the entry price: the risk per unit would be zero")
        return distance
    if atr is None:
        raise ValueError("sizing needs an ATR or a stop loss")
    return _positive(atr_stop_multiple, "atr_stop_multiple") * _positive(atr, "ATR")


def risk_units(
    equity: float, risk_per_trade: float, distance: float, quote_to_account: float = 1.0
) -> float:
    """Units whose loss at ``distance`` (quote currency) is ``equity * risk_per_trade``."""
    budget = _positive(equity, "equity") * _positive(risk_per_trade, "risk_per_trade")
    per_unit = _positive(distance, "stop distance") * _positive(quote_to_account, "FX rate")
    return budget / per_unit


def round_down(quantity: float, step: float) -> float:
    """``quantity`` floored to a multiple of ``step``, in decimal so 0.3 / 0.1 stays 3 steps.

    The result is never above ``quantity``.
    """
    if quantity <= 0:
        return 0.0
    if not math.isfinite(quantity):
        raise ValueError(f"cannot round quantity {quantity!r}")
    step_d = Decimal(repr(_positive(step, "quantity step")))
    with localcontext() as decimal_ctx:
        decimal_ctx.prec = 60
        steps = (Decimal(repr(float(quantity))) / step_d).to_integral_value(rounding=ROUND_FLOOR)
        return min(float(steps * step_d), float(quantity))


def suggest_quantity(
    equity: float,
    price: float,
    *,
    atr: float | None = None,
    stop_loss: float | None = None,
    limits: RiskSettings | None = None,
    instrument: Instrument | None = None,
    quote_to_account: float = 1.0,
) -> float:
    """A size that risks ``risk_per_trade`` of equity, within the order, position-notional and
    unit limits, rounded down to the instrument's step; 0.0 when below its minimum.
    """
    limits = limits or RiskSettings()
    price = _positive(price, "price")
    distance = stop_distance(
        price, stop_loss=stop_loss, atr=atr, atr_stop_multiple=limits.atr_stop_multiple
    )
    units = risk_units(equity, limits.risk_per_trade, distance, quote_to_account)
    unit_notional = price * _positive(quote_to_account, "FX rate")
    units = min(
        units,
        limits.max_order_notional / unit_notional,
        limits.max_position_notional / unit_notional,
    )
    if instrument is None:
        return units
    unit_cap = next(
        (v for k, v in limits.max_position_units.items() if find_instrument(k) == instrument),
        None,
    )
    if unit_cap is not None:
        units = min(units, unit_cap)
    rounded = round_down(units, instrument.quantity_step)
    return rounded if rounded >= instrument.min_quantity else 0.0

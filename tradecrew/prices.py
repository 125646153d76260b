"""Prices as people and clients read them: to the instrument's tick, never past it.

``2239.36`` stays ``2239.36`` (gold's tick is 0.01), ``1.084884`` becomes ``1.08488``
(EURUSD's 0.00001). A symbol the desk does not know keeps five significant decimals below
10 and two above, the precision the desk's own sample data carries.
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import lru_cache
from typing import Any

from tradecrew.instruments import find_instrument


@lru_cache(maxsize=256)
def _tick_decimals(tick: float) -> int:
    exponent = Decimal(repr(tick)).normalize().as_tuple().exponent
    return max(0, -int(exponent)) if isinstance(exponent, int) else 2


def price_decimals(symbol: str | None, value: float | None = None) -> int:
    """How many decimals a price of ``symbol`` has (its tick's), or a sensible default."""
    inst = find_instrument(symbol) if symbol else None
    if inst is not None and inst.tick_size > 0:
        return _tick_decimals(inst.tick_size)
    return 5 if value is not None and abs(value) < 10 else 2


def round_price(value: float | None, symbol: str | None) -> float | None:
    """``value`` rounded to the instrument's precision; None and non-finite values pass."""
    if value is None or not math.isfinite(value):
        return value
    return round(float(value), price_decimals(symbol, value))


def format_price(value: float | None, symbol: str | None, *, grouped: bool = False) -> str:
    """``value`` as text at the instrument's precision (``-`` for none)."""
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    digits = price_decimals(symbol, value)
    return f"{value:,.{digits}f}" if grouped else f"{value:.{digits}f}"


def round_floats(payload: Any, digits: int) -> Any:
    """Every float in a JSON-like structure rounded to ``digits`` decimals (ints, strings and
    other values unchanged); keeps results short without touching what they mean."""
    if isinstance(payload, float):
        return round(payload, digits) if math.isfinite(payload) else payload
    if isinstance(payload, dict):
        return {k: round_floats(v, digits) for k, v in payload.items()}
    if isinstance(payload, list | tuple):
        return [round_floats(v, digits) for v in payload]
    return payload

"""Valuing holdings in the account currency: notionals per symbol and exposure per currency.

A pair BASE/QUOTE held ``q`` units at price ``p`` is long ``q`` BASE and short ``q * p`` QUOTE;
both legs are valued as ``q * p`` QUOTE converted to the account currency, so the two legs of
one pair always balance. Equities, indices and crypto expose only their quote currency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from tradecrew.instruments import CATALOGUE, Instrument, UnknownSymbol, find_instrument
from tradecrew.models import AssetClass

FxFallback = Literal["typical", "deny"]


class FxUnavailable(LookupError):
    """No price converts one currency into another, and the fallback is not allowed."""


@dataclass(frozen=True)
class Rate:
    """A conversion rate and whether it is the catalogue's typical price (an approximation)."""

    value: float
    approximate: bool = False
    via: str = ""


def _price(prices: Mapping[str, float], symbol: str) -> float | None:
    value = prices.get(symbol)
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"price of {symbol} is {value!r}; cannot convert currencies with it")
    return value


def _direct(src: str, dst: str, prices: Mapping[str, float]) -> float | None:
    if src == dst:
        return 1.0
    direct = _price(prices, src + dst)
    if direct is not None:
        return direct
    inverse = _price(prices, dst + src)
    return None if inverse is None else 1.0 / inverse


def _typical(src: str, dst: str) -> float | None:
    pair = CATALOGUE.get(src + dst)
    if pair is not None:
        return pair.typical_price
    inverse = CATALOGUE.get(dst + src)
    return None if inverse is None else 1.0 / inverse.typical_price


def fx_rate(
    src: str, dst: str, prices: Mapping[str, float], fallback: FxFallback = "typical"
) -> Rate:
    """Units of ``dst`` per unit of ``src``: from SRCDST or DSTSRC in ``prices``, else through
    USD, else (``fallback='typical'``) the catalogue's typical price, else FxUnavailable.
    """
    src, dst = src.upper(), dst.upper()
    rate = _direct(src, dst, prices)
    if rate is not None:
        return Rate(rate)
    if "USD" not in (src, dst):
        first, second = _direct(src, "USD", prices), _direct("USD", dst, prices)
        if first is not None and second is not None:
            return Rate(first * second, via="USD")
    if fallback == "typical":
        rate = _typical(src, dst)
        if rate is None and "USD" not in (src, dst):
            first, second = _typical(src, "USD"), _typical("USD", dst)
            if first is not None and second is not None:
                rate = first * second
        if rate is not None:
            return Rate(rate, approximate=True, via="typical")
    raise FxUnavailable(f"no price converts {src} into {dst}; pass {src}{dst} or {dst}{src}")


@dataclass(frozen=True)
class UnitValue:
    """What one unit of an instrument is worth in the account currency, in total and per leg."""

    notional: float
    legs: dict[str, float]
    approximate: bool = False


def unit_value(
    instrument: Instrument,
    price: float,
    account_currency: str,
    prices: Mapping[str, float],
    fallback: FxFallback = "typical",
) -> UnitValue:
    """The account-currency value of one long unit and its signed currency legs."""
    if not math.isfinite(price) or price <= 0:
        raise ValueError(f"price of {instrument.symbol} is {price!r}")
    rate = fx_rate(instrument.quote_currency, account_currency, prices, fallback)
    notional = price * rate.value
    if instrument.asset_class in (AssetClass.FOREX, AssetClass.METAL):
        legs = {instrument.base_currency: notional, instrument.quote_currency: -notional}
    else:
        legs = {instrument.quote_currency: notional}
    return UnitValue(notional=notional, legs=legs, approximate=rate.approximate)


@dataclass(frozen=True)
class Exposure:
    """Signed account-currency notionals per symbol and per currency of a set of holdings."""

    notionals: dict[str, float] = field(default_factory=dict)
    currencies: dict[str, float] = field(default_factory=dict)
    approximate: bool = False

    @property
    def gross(self) -> float:
        return sum(abs(v) for v in self.notionals.values())

    @property
    def net(self) -> float:
        return sum(self.notionals.values())


def exposure(
    holdings: Mapping[str, float],
    prices: Mapping[str, float],
    account_currency: str = "USD",
    fallback: FxFallback = "typical",
) -> Exposure:
    """Value signed unit holdings (symbol -> units) using ``prices`` (symbol -> price).

    Raises UnknownSymbol for a symbol outside the catalogue and ValueError for a missing or
    bad price: a holding the desk cannot value must not be treated as zero.
    """
    notionals: dict[str, float] = {}
    currencies: dict[str, float] = {}
    approximate = False
    for symbol, units in holdings.items():
        if units == 0:
            continue
        if not math.isfinite(units):
            raise ValueError(f"holding of {symbol} is {units!r}")
        instrument = find_instrument(symbol)
        if instrument is None:
            raise UnknownSymbol(symbol)
        price = _price(prices, instrument.symbol)
        if price is None:
            raise ValueError(f"no price to value the holding of {symbol}")
        value = unit_value(instrument, price, account_currency, prices, fallback)
        approximate = approximate or value.approximate
        key = instrument.symbol
        notionals[key] = notionals.get(key, 0.0) + units * value.notional
        for currency, per_unit in value.legs.items():
            currencies[currency] = currencies.get(currency, 0.0) + units * per_unit
    return Exposure(notionals=notionals, currencies=currencies, approximate=approximate)


def currency_exposures(
    holdings: Mapping[str, float],
    prices: Mapping[str, float],
    account_currency: str = "USD",
    fallback: FxFallback = "typical",
) -> dict[str, float]:
    """Signed exposure per currency in the account currency (EUR from EURUSD and EURJPY adds)."""
    return exposure(holdings, prices, account_currency, fallback).currencies


def linear_cap(current: float, per_unit: float, limit: float) -> float:
    """The largest q >= 0 with ``|current + q * per_unit| <= limit``; a move back towards
    zero is always allowed up to flat, so an exposure already over its limit can be reduced.
    """
    if per_unit == 0:
        return math.inf
    direction = 1.0 if per_unit > 0 else -1.0
    cap = (limit - direction * current) / abs(per_unit)
    if direction * current < 0:
        cap = max(cap, abs(current) / abs(per_unit))
    return max(cap, 0.0)

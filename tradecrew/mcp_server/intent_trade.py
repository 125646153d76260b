"""Turning "buy 0.5 lots of EURUSD at 1.0850 sl 1.08" into a TradeIntent, or saying why not.

Safety first: one side, one instrument and one quantity per command, never a guessed size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal

from tradecrew.instruments import CATALOGUE, Instrument
from tradecrew.mcp_server import intent_extract as ex
from tradecrew.mcp_server import intent_lexicon as lx
from tradecrew.mcp_server.intent_models import ParseFailure, Partial, TradeIntent
from tradecrew.models import AssetClass, OrderType, Side, TimeInForce

QuoteLookup = Callable[[str], float]
_SINGULAR = {"sl": "stop loss", "tp": "take profit", "stop": "stop price", "limit": "limit price"}
_WORTH = re.compile(r"\b(?:worth|value|valued)\b")
_REDUCE = re.compile(r"\b(?:all|half|quarter|third|everything|entire|whole)\b")


def example(side: Side | None, symbol: str | None) -> str:
    """A command that would work, for the trader to copy."""
    verb = (side or Side.BUY).value
    inst = CATALOGUE.get(symbol or "")
    if inst is None:
        return f"{verb} 10 shares of AAPL"
    name = lx.FRIENDLY.get(inst.symbol, inst.symbol)
    if inst.asset_class is AssetClass.METAL:
        amount = "2" if inst.symbol == "XAUUSD" else "50"
        return f"{verb} {amount} ounces of {name}"
    if inst.asset_class is AssetClass.FOREX:
        return f"{verb} 0.1 lots of {name}"
    if inst.asset_class is AssetClass.EQUITY:
        return f"{verb} 10 shares of {name}"
    if inst.asset_class is AssetClass.CRYPTO:
        return f"{verb} {inst.min_quantity * 10:g} {name}"
    return f"{verb} 1 {name}"


def _fail(message: str, problem: str, partial: Partial, missing: list[str] | None = None):
    return ParseFailure(message=message, problem=problem, missing=missing or [], partial=partial)


def _understood(partial: Partial) -> str:
    parts = [partial.get("side"), partial.get("quantity_text"), partial.get("symbol")]
    return " ".join(str(p) for p in parts if p)


def _prices(
    numbers: list[lx.Number], market: bool, partial: Partial
) -> dict[str, Decimal] | ParseFailure:
    """Sort the price numbers into limit, stop entry, stop loss and take profit."""
    found: dict[str, set[Decimal]] = {}
    for n in numbers:
        if n.percent:
            return _fail(
                "I can only take prices, not percentages, for stops and targets",
                "unsupported",
                partial,
            )
        kind = {"wstop": "sl", "at": "limit"}.get(n.price_kind or "", n.price_kind or "")
        if kind == "stop" and not any(m.price_kind == "limit" for m in numbers):
            # A bare "stop" protects the entry ("go long 1 lot stop 1.08 target 1.10", "sell
            # at 1.0850, stop 1.08"); read as a stop entry it would trigger at once and the
            # position would have no stop loss. A stop entry is said as one: "buy stop 1.10",
            # "on a stop at 1.10", "stop order at 1.10"; "stop 190 limit 191" is a stop-limit.
            kind = "sl"
        kind = "stop" if kind == "sidestop" else kind
        found.setdefault(kind, set()).add(n.value)
    names = {
        "sl": "stop losses",
        "tp": "take profits",
        "stop": "stop prices",
        "limit": "limit prices",
    }
    for kind, values in found.items():
        if len(values) > 1:
            shown = " and ".join(sorted(f"{v.normalize():f}" for v in values))
            return _fail(f"I found two {names[kind]} ({shown}); give one", "ambiguous", partial)
    prices = {k: next(iter(v)) for k, v in found.items()}
    if market and ("limit" in prices or "stop" in prices):
        return _fail(
            "you asked for a market order and also gave an entry price; say one",
            "ambiguous",
            partial,
        )
    for k, v in prices.items():
        if v <= 0:
            return _fail(f"the {_SINGULAR[k]} must be positive", "invalid", partial)
    return prices


def _notional(
    n: lx.Number,
    inst: Instrument,
    entry: Decimal | None,
    lookup: QuoteLookup | None,
    partial: Partial,
) -> tuple[Decimal, Decimal] | ParseFailure:
    """Units bought by an amount of the quote currency, rounded down to whole steps."""
    price = entry
    if price is None:
        if lookup is None:
            return _fail(
                f"I need a price for {inst.symbol} to turn {partial['quantity_text']}"
                f" into a quantity; give a quantity or a limit price",
                "missing",
                partial,
                ["price"],
            )
        try:
            quoted = float(lookup(inst.symbol))
        except Exception:  # the lookup is someone else's code talking to a market
            quoted = math.nan
        if not math.isfinite(quoted) or quoted <= 0:
            return _fail(
                f"I could not get a price for {inst.symbol} to size {partial['quantity_text']}",
                "missing",
                partial,
                ["price"],
            )
        price = Decimal(str(quoted))
    units = ex.round_down(n.value / price, inst.quantity_step)
    if units <= 0:
        return _fail(
            f"{partial['quantity_text']} buys less than one step "
            f"({inst.quantity_step:g}) of {inst.symbol}",
            "invalid",
            partial,
        )
    return units, price


def parse_trade(
    t: lx.Text,
    sides: list[Side],
    symbols: list[ex.SymbolHit],
    numbers: list[lx.Number],
    tif: TimeInForce | None,
    market: bool,
    lookup: QuoteLookup | None,
) -> TradeIntent | ParseFailure:
    """Assemble one trade from its pieces, refusing anything ambiguous or missing."""
    partial: Partial = {"action": "trade"}
    distinct_sides = sorted(set(sides))
    if len(distinct_sides) > 1:
        return _fail(
            "I see both buy and sell in one command; send one order per command",
            "ambiguous",
            partial,
        )
    side = distinct_sides[0] if distinct_sides else None
    partial["side"] = side.value if side else None
    distinct = list(dict.fromkeys(h.symbol for h in symbols))
    if len(distinct) > 1:
        return _fail(
            f"I see more than one instrument ({', '.join(distinct)}); send one order per command",
            "ambiguous",
            partial,
        )
    if any(n.negative for n in numbers):
        return _fail(
            "quantities and prices must be positive; I will not read a negative number",
            "invalid",
            partial,
        )
    sizes = [n for n in numbers if n.price_kind is None]
    if any(n.percent for n in sizes):
        return _fail(
            "I cannot size an order by a percentage; give a quantity, e.g. "
            f"'{example(side, distinct[0] if distinct else None)}'",
            "unsupported",
            partial,
            ["quantity"],
        )
    symbol = distinct[0] if distinct else None
    if symbol is None:
        from_money = {ex.symbol_from_currency(n.currency) for n in sizes if n.currency}
        from_money.discard(None)
        if len(from_money) == 1:
            symbol = from_money.pop()
    partial["symbol"] = symbol
    if len(sizes) > 1:
        shown = ", ".join(t.cut(n.start, n.end) for n in sizes)
        return _fail(
            f"I found several quantities ({shown}) and cannot tell which one you mean;"
            " send one order per command",
            "ambiguous",
            partial,
        )
    size = sizes[0] if sizes else None
    if size is not None:
        if size.value <= 0:
            return _fail("the quantity must be greater than zero", "invalid", partial)
        partial["quantity_text"] = t.cut(size.start, size.end)
    leftovers = t.words()
    missing = [k for k, v in (("side", side), ("symbol", symbol), ("quantity", size)) if v is None]
    if symbol is None:
        unknown = ex.unknown_symbol(leftovers, _understood(partial), partial)
        if unknown is not None:
            if len(missing) > 1:
                extra = " and ".join(m for m in missing if m != "symbol")
                unknown = unknown.model_copy(
                    update={
                        "missing": missing,
                        "message": f"{unknown.message} (the {extra} is missing"
                        f" too: say e.g. '{example(side, None)}')",
                    }
                )
            return unknown
    if missing:
        names = {
            "side": "whether to buy or sell",
            "symbol": "the instrument",
            "quantity": "the quantity",
        }
        said = _understood(partial)
        lead = f"I understood {said} but not " if said else "I did not understand "
        message = (
            f"{lead}{' or '.join(names[m] for m in missing)}: say e.g. '{example(side, symbol)}'"
        )
        if "quantity" in missing and lx.SCALE_WORDS.search(t.w):
            message += " (write amounts in digits, e.g. 100k or 1,000)"
        elif "quantity" in missing and _REDUCE.search(t.w):
            message += f"; to reduce a position say e.g. 'close half my {symbol or 'XAUUSD'}'"
        return _fail(message, "missing", partial, missing)
    assert side is not None and symbol is not None and size is not None
    if lx.SCALE_WORDS.search(t.w):
        return _fail(
            "write amounts in digits (e.g. 5,000 or 5k), not words",
            "unsupported",
            partial,
            ["quantity"],
        )
    if _WORTH.search(t.w) and size.currency is None:
        return _fail(
            f"{partial['quantity_text']} worth in which currency? say e.g. "
            f"'{side.value} $5,000 of {symbol}'",
            "missing",
            partial,
            ["currency"],
        )
    inst = CATALOGUE[symbol]
    prices = _prices([n for n in numbers if n.price_kind], market, partial)
    if isinstance(prices, ParseFailure):
        return prices
    order_type = OrderType.MARKET
    if "stop" in prices:
        order_type = OrderType.STOP_LIMIT if "limit" in prices else OrderType.STOP
    elif "limit" in prices:
        order_type = OrderType.LIMIT
    notional = reference = None
    if size.currency is not None and not ex.currency_is_unit(size.currency, inst):
        if size.currency != inst.quote_currency:
            return _fail(
                f"{partial['quantity_text']} is in {size.currency} but {symbol} is priced"
                f" in {inst.quote_currency}; give the amount in {inst.quote_currency} or"
                " a quantity",
                "unsupported",
                partial,
            )
        entry = prices.get("stop", prices.get("limit"))
        sized = _notional(size, inst, entry, lookup, partial)
        if isinstance(sized, ParseFailure):
            return sized
        quantity, reference = sized
        unit, notional = "notional", size.value
    else:
        converted = ex.units_of(size, inst)
        if isinstance(converted, str):
            return _fail(converted, "invalid", partial, ["quantity"])
        quantity, unit = converted
    return TradeIntent(
        symbol=symbol,
        side=side,
        quantity=float(quantity),
        quantity_text=partial["quantity_text"],
        unit=unit,
        order_type=order_type,
        limit_price=_f(prices.get("limit")),
        stop_price=_f(prices.get("stop")),
        stop_loss=_f(prices.get("sl")),
        take_profit=_f(prices.get("tp")),
        time_in_force=tif,
        notional=_f(notional),
        notional_currency=size.currency if notional else None,
        reference_price=_f(reference),
    )


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)

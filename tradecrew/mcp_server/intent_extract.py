"""Reading the pieces of a command: symbols, numbers with their units, currencies and prices.

Each step blanks what it understood in the working copy, so a later step never reads the
same characters twice (the 500 in "s&p 500" is not a quantity).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from tradecrew.instruments import ALIASES, CATALOGUE, Instrument
from tradecrew.mcp_server import intent_lexicon as lx
from tradecrew.mcp_server.intent_models import ParseFailure, Partial
from tradecrew.models import AssetClass


@dataclass
class SymbolHit:
    symbol: str
    said: str
    start: int
    end: int


def take_pairs(t: lx.Text) -> None:
    """Currency pairs written apart ("eur/usd", "gbp jpy"), read before anything else."""
    taken_until = -1
    for m in lx.PAIR.finditer(t.w):
        start, end = m.span("all")
        sym = (m["a"] + m["b"]).upper()
        if start >= taken_until and sym in CATALOGUE:
            t.symbols.append((sym, t.w[start:end]))
            taken_until = end
            t.blank(start, end)


def find_symbols(t: lx.Text) -> list[SymbolHit]:
    """Every instrument named in the text (pairs like eur/usd, tickers, aliases), blanked."""
    take_pairs(t)
    hits = [SymbolHit(sym, said, -1, -1) for sym, said in t.symbols]
    for m in lx.SYMBOLS.finditer(t.w):
        key = " ".join(m.group().split())
        hits.append(SymbolHit(lx.SYMBOL_PHRASES[key], key, m.start(), m.end()))
        t.blank(m.start(), m.end())
    return hits


def take_currency_amounts(t: lx.Text) -> dict[int, tuple[str, int]]:
    """Currencies written right after a number ("5k USD", "100 euros"), keyed by number end.

    Runs before symbol matching so that "euro" in "100 euros of gold" is money, not EURUSD.
    """
    found: dict[int, tuple[str, int]] = {}
    for m in lx.NUMBER.finditer(t.w):
        cm = lx.CURRENCY_AFTER.match(t.w, m.end())
        if cm is not None:
            word = " ".join(cm["cur"].split())
            found[m.end()] = (lx.CURRENCY_WORDS[word], cm.end("cur"))
            t.blank(cm.start("cur"), cm.end("cur"))
    return found


def find_numbers(
    t: lx.Text, currencies: dict[int, tuple[str, int]]
) -> list[lx.Number] | ParseFailure:
    """Every number with its unit, currency, percent sign and price keyword, then blanked."""
    numbers: list[lx.Number] = []
    for m in lx.NUMBER.finditer(t.w):
        value = lx.to_decimal(m["body"], m["suf"] or m["scale"])
        if value is None:
            return ParseFailure(
                message=f"the number {t.cut(m.start(), m.end())!r} is too large to be meant",
                problem="invalid",
            )
        n = lx.Number(m.start(), m.end(), value, bool(m["neg"] or m["neg2"]))
        if m.end() in currencies:
            n.currency, n.end = currencies[m.end()]
        if m["cur"]:
            n.currency = lx.CURRENCY_WORDS[m["cur"]]
        um = lx.UNIT_AFTER.match(t.w, n.end)
        if um is not None:
            n.end = um.end()
            if um["lot"]:
                n.lot_factor = lx.LOT_KIND[um["lotkind"]]
            elif um["contracts"]:
                n.lot_factor = Decimal(1)
            else:
                n.unit = next(k for k in ("oz", "shares", "units", "coins") if um[k])
        pm = lx.PERCENT_AFTER.match(t.w, n.end)
        if pm is not None:
            n.percent, n.end = True, pm.end()
        window = max(0, m.start() - lx.PRICE_WINDOW)
        km = lx.PRICE_BEFORE.search(t.w, window, m.start())
        if km is not None:
            n.price_kind = next(k for k, v in km.groupdict().items() if v is not None)
            n.keyword_start = km.start()
        numbers.append(n)
    for n in numbers:
        t.blank(n.keyword_start if n.keyword_start is not None else n.start, n.end)
    return numbers


_UNIT_NAMES = {"oz": "ounces", "shares": "shares", "units": "units", "coins": "coins"}
_UNIT_FITS = {
    "ounces": {AssetClass.METAL},
    "shares": {AssetClass.EQUITY, AssetClass.INDEX},
    "coins": {AssetClass.CRYPTO},
}


def default_unit(inst: Instrument) -> str:
    """What a bare number means for this instrument."""
    return {
        AssetClass.EQUITY: "shares",
        AssetClass.METAL: "ounces",
        AssetClass.CRYPTO: "coins",
    }.get(inst.asset_class, "units")


def units_of(n: lx.Number, inst: Instrument) -> tuple[Decimal, str] | str:
    """The quantity in units and the unit name, or why the unit does not fit the instrument."""
    if n.lot_factor is not None:
        return n.value * n.lot_factor * Decimal(str(inst.contract_size)), "lots"
    if n.unit is None:
        return n.value, default_unit(inst)
    name = _UNIT_NAMES[n.unit]
    fits = _UNIT_FITS.get(name)
    if fits is not None and inst.asset_class not in fits:
        return f"{name} do not apply to {inst.symbol} ({inst.description or inst.asset_class})"
    return n.value, name


def round_down(value: Decimal, step: float) -> Decimal:
    """Whole steps only, never more than was asked for."""
    s = Decimal(str(step))
    return (value / s).to_integral_value(rounding=ROUND_DOWN) * s


def currency_is_unit(code: str, inst: Instrument) -> bool:
    """True when an amount in this currency is itself the quantity (10,000 EUR of EURUSD)."""
    holds_base = inst.asset_class in (AssetClass.FOREX, AssetClass.METAL, AssetClass.CRYPTO)
    return holds_base and code == inst.base_currency


def symbol_from_currency(code: str) -> str | None:
    """The USD pair whose base is this currency ("100 euros" -> EURUSD), if any."""
    sym = code + "USD"
    return sym if sym in CATALOGUE else None


_KNOWN_NAMES = sorted({*CATALOGUE, *ALIASES, *(p.upper() for p in lx.EXTRA_ALIASES)})


def suggestions_for(word: str) -> list[str]:
    """Close matches among symbols and aliases, as canonical symbols (best first)."""
    out: list[str] = []
    for name in difflib.get_close_matches(word.upper(), _KNOWN_NAMES, n=6, cutoff=0.7):
        sym = (CATALOGUE.get(name) and name) or lx.SYMBOL_PHRASES.get(name.lower())
        if sym and sym not in out:
            out.append(sym)
    return out[:3]


def unknown_symbol(words: list[str], understood: str, partial: Partial) -> ParseFailure | None:
    """A failure naming the word that looks most like an instrument, or None if none does."""
    if not words:
        return None
    # The first word that resembles a known name, else the first unknown word at all.
    word, sugg = words[0], []
    for candidate in words[:12]:
        found = suggestions_for(candidate)
        if found:
            word, sugg = candidate, found
            break
    hint = (
        f"; did you mean {' or '.join(sugg)}?"
        if sugg
        else "; say a symbol like XAUUSD, EURUSD or AAPL"
    )
    lead = f"I understood {understood} but " if understood else ""
    return ParseFailure(
        # The word itself goes in ``quoted``, never in the message: it is the user's text.
        message=f"{lead}I do not know the instrument named (see quoted){hint}",
        quoted=word,
        problem="unknown_symbol",
        missing=["symbol"],
        partial=partial,
        suggestions=sugg,
    )

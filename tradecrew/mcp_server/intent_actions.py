"""Reading close, cancel and query commands (trades live in intent_trade).

Each reader gets the prepared text with the action verb already blanked and returns one
intent, or a ParseFailure saying what is missing or ambiguous.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tradecrew.instruments import CATALOGUE
from tradecrew.mcp_server import intent_extract as ex
from tradecrew.mcp_server import intent_lexicon as lx
from tradecrew.mcp_server.intent_models import (
    CancelIntent,
    CloseIntent,
    Intent,
    ParseFailure,
    Partial,
    QueryIntent,
)
from tradecrew.models import Side

ANALYSIS_MODAL = re.compile(
    r"^\s*(?:should|shall|would\s+it|is\s+it|do\s+you\s+think|can\s+i|could\s+i|may\s+i)\b"
)
TOPICS: list[tuple[str, re.Pattern[str]]] = [
    ("exposure", re.compile(r"\bexpos(?:ure|ed)\b|\bnet\s+(?:long|short)\b")),
    (
        "positions",
        re.compile(
            r"\bpositions?\b|\bholdings?\b|\bopen\s+trades?\b|\bportfolio\b"
            r"|\b(?:do\s+i|i)\s+(?:have|hold|own)\b|\bmy\s+book\b"
        ),
    ),
    ("orders", re.compile(r"\borders?\b|\bpending\b|\bworking\b")),
    (
        "account",
        re.compile(
            r"\baccount\b|\bbalance\b|\bequity\b|\bmargin\b|\bcash\b"
            r"|\bbuying\s+power\b|\bp\s*&\s*l\b|\bpnl\b|\bp/l\b|\bprofits?\b"
        ),
    ),
    (
        "risk",
        re.compile(
            r"\brisk\b|\bdrawdown\b|\bvar\b|\blimits?\b|\bkill[\s-]*switch\b"
            r"|\bleverage\b|\bhalted\b"
        ),
    ),
    (
        "quote",
        re.compile(
            r"\bquotes?\b|\bprices?\b|\btrading\s+at\b|\bbid\b|\bask\b"
            r"|\bspread\b|\bhow\s+much\s+is\b|\brate\b"
        ),
    ),
    (
        "analysis",
        re.compile(
            r"\banaly[sz]\w*|\boutlook\b|\bregime\b|\bsentiment\b|\bsignals?\b"
            r"|\bforecast\b|\btrend\w*|\btechnicals?\b|\bbias\b|\bviews?\b"
            r"|\bthoughts?\b|\bopinion\b|\bthink\b|\blooking\b"
        ),
    ),
]
_FRACTIONS = [
    (re.compile(r"\b(?:two\s+thirds|2/3)\b"), Decimal(2) / Decimal(3)),
    (re.compile(r"\b(?:three\s+quarters|3/4)\b"), Decimal("0.75")),
    (re.compile(r"\b(?:(?:a|one)\s+)?half\b|\b1/2\b"), Decimal("0.5")),
    (re.compile(r"\b(?:(?:a|one)\s+)?quarter\b|\b1/4\b"), Decimal("0.25")),
    (re.compile(r"\b(?:(?:a|one)\s+)?third\b|\b1/3\b"), Decimal(1) / Decimal(3)),
]
_ALL = re.compile(r"\b(?:all|everything|every|entire|entirely|whole|full|fully|completely)\b")
_ALL_POSITIONS = re.compile(
    r"\b(?:everything|positions|book|portfolio|all\s+(?:of\s+)?(?:my\s+)?(?:open\s+)?trades)\b"
    r"|^\s*all\s*[.!]*\s*$"
)
CANCEL_SIDE = re.compile(r"\b(?P<side>buy|sell|long|short)\s+(?:side\s+)?orders?\b")
_CANCEL_TYPE = re.compile(r"\b(?:limit|stop|stop[\s-]*limit)\s+orders?\b")
_ALL_ORDERS = re.compile(r"\b(?:all|every|everything|any)\b|\borders\b")


def fail(
    message: str, problem: str, missing: list[str] | None = None, partial: Partial | None = None
) -> ParseFailure:
    return ParseFailure(
        message=message, problem=problem, missing=missing or [], partial=partial or {}
    )


def take_all(pattern: re.Pattern[str], t: lx.Text) -> list[re.Match[str]]:
    found = list(pattern.finditer(t.w))
    for m in found:
        t.blank(m.start(), m.end())
    return found


def _one_symbol(hits: list[ex.SymbolHit], t: lx.Text, what: str) -> str | ParseFailure | None:
    """The single instrument named, None when none was, a failure for two or an unknown."""
    distinct = list(dict.fromkeys(h.symbol for h in hits))
    if len(distinct) > 1:
        return fail(
            f"I see more than one instrument ({', '.join(distinct)}); {what} one at a time",
            "ambiguous",
            ["symbol"],
        )
    return distinct[0] if distinct else None


def parse_query(t: lx.Text) -> Intent:
    topic = None
    if ANALYSIS_MODAL.match(t.w):
        topic = "analysis"
    for name, pattern in TOPICS:
        if topic is None and pattern.search(t.w):
            topic = name
    currency = None
    if topic == "exposure":
        codes = list(
            dict.fromkeys(
                lx.CURRENCY_WORDS[" ".join(m.group().split())]
                for m in take_all(lx.CURRENCY_ONLY, t)
            )
        )
        if len(codes) > 1:
            return fail(f"ask about one currency at a time ({', '.join(codes)})", "ambiguous")
        currency = codes[0] if codes else None
    symbol = _one_symbol(ex.find_symbols(t), t, "ask about")
    if isinstance(symbol, ParseFailure):
        return symbol
    if topic is None and symbol is None:
        return fail(
            "I did not understand the question: ask about exposure, positions, orders,"
            " the account, risk, a quote or an analysis (e.g. 'what is my exposure to"
            " USD?')",
            "missing",
            ["topic"],
        )
    return QueryIntent(topic=topic or "analysis", currency=currency, symbol=symbol)


def parse_cancel(t: lx.Text) -> Intent:
    ids = t.notes["ids"].split()
    if not ids and "broker_id" in t.notes:
        ids = [t.notes["broker_id"]]
        start, end = map(int, t.notes["broker_span"].split())
        t.blank(start, end)
    if len(set(ids)) > 1:
        return fail("cancel one order id per command", "ambiguous", ["order_id"])
    if _CANCEL_TYPE.search(t.w):
        return fail(
            "I can cancel by instrument, side or order id, not by order type", "unsupported"
        )
    every = _ALL_ORDERS.search(t.w) is not None
    sides = {Side.BUY if m["side"] in lx.SIDE_BUY else Side.SELL for m in take_all(CANCEL_SIDE, t)}
    if len(sides) > 1:
        return fail("cancel buy orders and sell orders in separate commands", "ambiguous")
    symbol = _one_symbol(ex.find_symbols(t), t, "cancel")
    if isinstance(symbol, ParseFailure):
        return symbol
    if lx.NUMBER.search(t.w) or lx.SIDE.search(t.w):
        return fail(
            "I can cancel orders by instrument, side or order id, but not place or size"
            " one in the same command",
            "unsupported",
        )
    side = sides.pop() if sides else None
    if ids:
        return CancelIntent(order_id=ids[0], scope="one", symbol=symbol, side=side)
    if every:
        return CancelIntent(symbol=symbol, scope="all", side=side)
    if symbol is not None:
        return CancelIntent(symbol=symbol, scope="one", side=side)
    missing = ex.unknown_symbol(t.words(), "cancel", {"action": "cancel"})
    return missing or fail(
        "I understood cancel but not which orders: say e.g. 'cancel all orders', 'cancel all"
        " EURUSD orders' or 'cancel order ord_abc123'",
        "missing",
        ["target"],
        {"action": "cancel"},
    )


def parse_close(t: lx.Text, currencies: dict[int, tuple[str, int]]) -> Intent:
    partial: Partial = {"action": "close"}
    fractions = {v for pattern, v in _FRACTIONS for _ in take_all(pattern, t)}
    symbol = _one_symbol(ex.find_symbols(t), t, "close")
    if isinstance(symbol, ParseFailure):
        return symbol
    partial["symbol"] = symbol
    numbers = ex.find_numbers(t, currencies)
    if isinstance(numbers, ParseFailure):
        return numbers
    if any(n.negative for n in numbers):
        return fail("amounts must be positive", "invalid", partial=partial)
    if any(n.price_kind for n in numbers):
        return fail(
            "closing at a price is not supported: close at market, or place a limit"
            " order on the other side",
            "unsupported",
            partial=partial,
        )
    sizes = []
    for n in numbers:
        if n.percent:
            fractions.add(n.value / 100)
        elif n.currency is not None:
            return fail(
                "close by a fraction or a quantity, not an amount of money",
                "unsupported",
                partial=partial,
            )
        else:
            sizes.append(n)
    if len(fractions) + len(sizes) > 1:
        return fail("I found more than one amount to close; give one", "ambiguous", partial=partial)
    everything = _ALL_POSITIONS.search(t.w) is not None
    whole = _ALL.search(t.w) is not None
    if symbol is None and not everything and not (whole and not sizes):
        missing = ex.unknown_symbol(t.words(), "close", partial)
        return missing or fail(
            "I understood close but not what: say e.g. 'close half my XAUUSD' or 'close all"
            " positions'",
            "missing",
            ["symbol"],
            partial,
        )
    if fractions:
        fraction = fractions.pop()
        if not 0 < fraction <= 1:
            return fail(
                f"I can close between 0% and 100% of a position, not {fraction:.0%}",
                "invalid",
                partial=partial,
            )
        return CloseIntent(symbol=symbol, fraction=float(fraction))
    if sizes:
        if symbol is None:
            return fail("a quantity to close needs an instrument", "missing", ["symbol"], partial)
        converted = ex.units_of(sizes[0], CATALOGUE[symbol])
        if isinstance(converted, str):
            return fail(converted, "invalid", ["quantity"], partial)
        if converted[0] <= 0:
            return fail(
                "the quantity to close must be greater than zero", "invalid", partial=partial
            )
        return CloseIntent(
            symbol=symbol,
            quantity=float(converted[0]),
            unit=converted[1],
            quantity_text=t.cut(sizes[0].start, sizes[0].end),
        )
    return CloseIntent(symbol=symbol, fraction=1.0)

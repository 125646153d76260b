"""Deterministic parsing of a trader's command into one typed intent.

Text is data: the parser only ever returns an intent describing what the words literally
ask for, one action per command, and a ParseFailure saying what is missing otherwise.
"""

from __future__ import annotations

import re

from tradecrew.mcp_server import intent_actions as ac
from tradecrew.mcp_server import intent_extract as ex
from tradecrew.mcp_server import intent_lexicon as lx
from tradecrew.mcp_server.intent_models import (
    Intent,
    KillSwitchIntent,
    ParseFailure,
)
from tradecrew.mcp_server.intent_trade import QuoteLookup, parse_trade
from tradecrew.models import Side, TimeInForce

_KILL_OFF = re.compile(
    r"\b(?:resume|restart|unpause|unfreeze|unhalt|re-?enable|enable|continue|reopen|allow"
    r"|restore)\s+(?:all\s+)?(?:the\s+)?trading\b|\bunhalt\b|\b(?:disengage|deactivate|disable"
    r"|turn\s+off|switch\s+off|reset|release|clear|lift|remove|cancel|stop)\s+(?:the\s+)?kill"
    r"[\s-]*switch\b|\bkill[\s-]*switch\s*(?:off|disengaged?|released?|deactivated?|reset)\b"
    r"|\bstart\s+trading\s+again\b|\btrading\s+back\s+on\b|^\s*resume\s*[.!]*\s*$"
)
_KILL_ON = re.compile(
    r"\b(?:halt|freeze|suspend|stop|pause|disable|kill|block|cease)\s+(?:all\s+)?(?:the\s+)?"
    r"(?:trading|trades|desk)\b|\bemergency\s+(?:stop|halt)\b|\bstop\s+everything\b"
    r"|\btrading\s+halt\b|\b(?:engage|activate|enable|turn\s+on|switch\s+on|trigger|hit|flip"
    r"|arm|set|pull|use)\s+(?:the\s+)?kill[\s-]*switch(?:\s+on)?\b|\bkill[\s-]*switch(?:\s*on"
    r"|\s*now|\s*engaged?|\s*activated?)?\b|^\s*(?:halt|freeze|panic|stop)\s*[.!]*\s*$"
)
_QUERY_LEAD = re.compile(
    r"^\s*(?:what|what's|whats|how|how's|hows|show|list|display|give\s+me|tell\s+me|get\s+me"
    r"|fetch|where|which|who|why|when|is|are|am|do|does|did|any|status|check|report|view|see"
    r"|should|shall|was|were|has|have|can\s+i|could\s+i|may\s+i)\b|kill[\s-]*switch\s+(?:status"
    r"|state)\b"
)
_IMPERATIVE = re.compile(
    r"^\s*(?:buy|sell|long|short|go|purchase|close|flatten|liquidate|exit|cancel|halt|stop"
    r"|resume|kill|enable|disable|turn|activate|engage|deactivate|freeze|suspend|pause|unhalt"
    r"|restart|trim|reduce|square|get\s+out)\b"
)
_CLOSE = re.compile(
    r"\b(?:close|closing|flatten|liquidate|exit|square\s+(?:off|up)|get\s+out\s+of|unwind|trim"
    r"|reduce)\b"
)
_CANCEL = re.compile(r"\b(?:cancel|cancell?ing|withdraw|revoke|pull)\b")
_CONDITION = re.compile(
    r"\b(?:except|but\s+not|other\s+than|apart\s+from|excluding|besides|unless|if|when|once"
    r"|after|before|until|then)\b"
)


def _prepare(text: str) -> lx.Text | ParseFailure:
    """Normalise, cap the length, and take out desk order ids and markup noise."""
    raw = lx.normalize(text)
    if not raw.strip():
        return ac.fail("the command is empty: say e.g. 'buy 2 ounces of gold'", "empty", ["action"])
    if len(raw) > lx.MAX_CHARS:
        return ac.fail(
            f"the command is too long ({len(raw)} characters, at most {lx.MAX_CHARS});"
            " send one short command",
            "too_long",
        )
    t = lx.Text(raw, lx.lower_same_length(raw))
    ids = [t.raw[m.start() : m.end()] for m in lx.DESK_ORDER_ID.finditer(t.w)]
    for m in list(lx.DESK_ORDER_ID.finditer(t.w)):
        t.blank(m.start(), m.end())
    t.notes["ids"] = " ".join(ids)
    broker = lx.BROKER_ORDER_ID.search(t.w)
    if broker is not None:
        t.notes["broker_id"] = t.raw[broker.start("id") : broker.end("id")].lstrip("#")
        t.notes["broker_span"] = f"{broker.start('id')} {broker.end('id')}"
    t.w = t.w.translate(lx.NOISE)
    t.w = lx.NUMBER_WORDS.sub(lambda m: lx.WORD_DIGIT[m["w"]].ljust(len(m["w"])), t.w)
    lead = lx.POLITE_LEAD.match(t.w)
    if lead is not None:
        t.blank(0, lead.end())
    return t


def _take_tif(t: lx.Text) -> TimeInForce | ParseFailure | None:
    found = set()
    for pattern, tif in lx.TIF:
        for m in list(pattern.finditer(t.w)):
            found.add(tif)
            t.blank(m.start(), m.end())
    if len(found) > 1:
        return ac.fail(
            f"I found more than one time in force ({', '.join(sorted(found))})", "ambiguous"
        )
    return TimeInForce(found.pop()) if found else None


def _kill_switch(t: lx.Text) -> bool | ParseFailure | None:
    off = ac.take_all(_KILL_OFF, t)
    on = ac.take_all(_KILL_ON, t)
    if off and on:
        return ac.fail("I read both halt and resume trading; say one", "ambiguous")
    return True if on else (False if off else None)


def parse_command(text: str, *, quote_lookup: QuoteLookup | None = None) -> Intent:
    """Read one command; return what it asks for, or a ParseFailure that says what is missing.

    Never raises on any text; never places anything: the desk acts on the intent.
    """
    if not isinstance(text, str):
        return ac.fail("the command must be text", "invalid")
    try:
        return _parse(text, quote_lookup)
    except (ValueError, ArithmeticError) as exc:  # a model refused a value we read
        return ac.fail(f"I could not make sense of that command ({type(exc).__name__})", "invalid")


def _parse(text: str, lookup: QuoteLookup | None) -> Intent:
    t = _prepare(text)
    if isinstance(t, ParseFailure):
        return t
    query = _QUERY_LEAD.match(t.w) or (t.w.rstrip().endswith("?") and not _IMPERATIVE.match(t.w))
    # A question may say "not" ("is trading not halted?"); a command that does ("don't buy",
    # "do not sell" - read as a question by its "do") must never be acted on without it.
    if lx.NEGATION_LEAD.match(t.w) or (not query and lx.NEGATION.search(_without_ids(t))):
        return _negated()
    if query:
        return ac.parse_query(t)
    tif = _take_tif(t)
    if isinstance(tif, ParseFailure):
        return tif
    kill = _kill_switch(t)
    if isinstance(kill, ParseFailure):
        return kill
    close, cancel = ac.take_all(_CLOSE, t), ac.take_all(_CANCEL, t)
    side_hits = list(lx.SIDE.finditer(t.w))
    trade = [m for m in side_hits if not (close and m["w"] in ("long", "short"))]
    found = [
        name
        for name, hit in (
            ("halt or resume trading", kill is not None),
            ("close", close),
            ("cancel", cancel),
        )
        if hit
    ]
    if trade and not (cancel and ac.CANCEL_SIDE.search(t.w)):
        found.append("trade")
    if len(found) > 1:
        return ac.fail(
            f"I found more than one command ({', '.join(found)}); send one command at a time",
            "ambiguous",
            ["action"],
        )
    if found and found[0] != "halt or resume trading" and _CONDITION.search(t.w):
        return ac.fail(
            "conditions and exceptions (if, when, except...) are not supported; send a"
            " plain command",
            "unsupported",
        )
    if kill is not None:
        if ex.find_symbols(t):
            return ac.fail(
                "the kill switch halts or resumes all trading, not one instrument", "unsupported"
            )
        return KillSwitchIntent(enabled=kill)
    if cancel:
        return ac.parse_cancel(t)
    ex.take_pairs(t)
    currencies = ex.take_currency_amounts(t)
    if close:
        return ac.parse_close(t, currencies)
    if not trade:
        if any(p.search(t.w) for _, p in ac.TOPICS):
            return ac.parse_query(t)
        if not lx.NUMBER.search(t.w):
            return _no_action(t)
        # "10 AAPL" reads as an order without a side: say that, rather than "no action".
    return _parse_trade(t, currencies, tif, lookup)


def _parse_trade(
    t: lx.Text,
    currencies: dict[int, tuple[str, int]],
    tif: TimeInForce | None,
    lookup: QuoteLookup | None,
) -> Intent:
    symbols = ex.find_symbols(t)
    market = bool(ac.take_all(lx.MARKET, t))
    # Sides are read before the numbers ("buy stop 2400" is a price keyword) and blanked after.
    side_hits = list(lx.SIDE.finditer(t.w))
    numbers = ex.find_numbers(t, currencies)
    if isinstance(numbers, ParseFailure):
        return numbers
    for m in side_hits:
        t.blank(m.start(), m.end())
    sides = [Side.BUY if " ".join(m["w"].split()) in lx.SIDE_BUY else Side.SELL for m in side_hits]
    return parse_trade(t, sides, symbols, numbers, tif, market, lookup)


def _without_ids(t: lx.Text) -> str:
    """The working text with a broker order id blanked ("order ab-no-12" names no "no")."""
    span = t.notes.get("broker_span")
    if not span:
        return t.w
    start, end = (int(x) for x in span.split())
    return t.w[:start] + " " * (end - start) + t.w[end:]


def _negated() -> ParseFailure:
    # The negation word is not quoted back: only fixed text in the message.
    return ac.fail(
        "that command says not to do something (don't, never, no...); I act only on plain"
        " commands, so nothing was done: say what to do, e.g. 'buy 2 ounces of gold' or 'halt"
        " trading', or reject_proposal to drop a pending proposal",
        "negated",
        ["action"],
    )


def _no_action(t: lx.Text) -> ParseFailure:
    symbols = ex.find_symbols(t)
    names = ", ".join(dict.fromkeys(h.symbol for h in symbols))
    lead = f"I understood {names} but not what to do" if names else "I did not understand that"
    return ac.fail(
        f"{lead}: say e.g. 'buy 2 ounces of gold', 'close half my XAUUSD', 'cancel all"
        " orders', 'halt trading' or ask 'what is my exposure to USD?'",
        "missing",
        ["action"],
        {"symbol": names or None},
    )

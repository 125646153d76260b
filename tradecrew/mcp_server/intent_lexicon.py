"""The words and patterns the command parser knows, compiled once at import.

Everything works on a lower-cased copy of the text that keeps the original's length, so a
span found there can be cut from the original (for ``quantity_text``) and blanked once
understood (so nothing is read twice).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from tradecrew.instruments import ALIASES, CATALOGUE

MAX_CHARS = 1000
MAX_NUMBER = Decimal("1e12")


def _table(text: str) -> dict[str, str]:
    """``phrase: VALUE`` items separated by commas or new lines, as a dict."""
    items = (item.split(":") for item in re.split(r"[,\n]", text) if item.strip())
    return {key.strip(): value.strip() for key, value in items}


def _words(text: str) -> list[str]:
    return re.findall(r"\S+", text)


# Extra phrases on top of the catalogue's aliases (multi-word names, company names).
EXTRA_ALIASES = _table("""
s&p 500: SPX, s & p 500: SPX, s & p: SPX, sp 500: SPX, spx500: SPX, us500: SPX, s and p: SPX,
s and p 500: SPX, nasdaq 100: NDX, nasdaq composite: NDX, nas100: NDX, nas 100: NDX,
us100: NDX, ustec: NDX, crude oil: WTI, wti crude: WTI, us oil: WTI, usoil: WTI,
dollar index: DXY, us dollar index: DXY, volatility index: VIX, ether: ETHUSD, xbt: BTCUSD,
apple: AAPL, microsoft: MSFT, google: GOOG, amazon: AMZN, nvidia: NVDA, tesla: TSLA,
sterling: GBPUSD, pound sterling: GBPUSD, fibre: EURUSD, fiber: EURUSD,
spot gold: XAUUSD, gold spot: XAUUSD, spot silver: XAGUSD
""")
SYMBOL_PHRASES: dict[str, str] = {
    **{s.lower(): s for s in CATALOGUE},
    **{a.lower(): s for a, s in ALIASES.items() if s in CATALOGUE},
    **EXTRA_ALIASES,
}
# A friendlier word for examples in messages.
FRIENDLY = {"XAUUSD": "gold", "XAGUSD": "silver"}

CURRENCY_WORDS = _table("""
usd: USD, us dollars: USD, us dollar: USD, dollars: USD, dollar: USD, bucks: USD, $: USD,
eur: EUR, euros: EUR, euro: EUR, €: EUR, gbp: GBP, pounds: GBP, pound: GBP, sterling: GBP,
quid: GBP, £: GBP, jpy: JPY, yen: JPY, chf: CHF, swiss francs: CHF, swiss franc: CHF,
francs: CHF, franc: CHF, cad: CAD, loonie: CAD, aud: AUD, aussie: AUD, nzd: NZD, kiwi: NZD,
xau: XAU, xag: XAG, btc: BTC, bitcoins: BTC, bitcoin: BTC, eth: ETH, ether: ETH, ethereum: ETH
""")


def _alternation(phrases: list[str]) -> str:
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)


_CUR_ALT = _alternation([w for w in CURRENCY_WORDS if w not in "$€£"])
UNIT_WORDS = (
    r"standard|std|full|mini|micro|nano|lots?|troy|ounces?|ozs?|shares?|shs|units?|coins?"
    r"|tokens?|contracts?"
)
# A number: optional minus and currency sign, digits with comma groups, a k/m/bn suffix.
# It must end at a word boundary (or run straight into a unit word: "2oz", "5kusd"), and
# never be part of "1/2", "1,5", "1.5.3" or a word like "m15", so nothing half-read counts.
NUMBER = re.compile(
    r"(?<![\w.,/])(?P<neg>-\s?)?(?P<cur>[$€£])?\s?(?P<neg2>-)?"
    r"(?P<body>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?P<suf>k|mm|mn|m|bn|b)\b|\s+(?P<scale>thousand|million|billion)\b|(?P<bare>))"
    rf"(?!\d|\.\d|/\d|,\d)(?=(?:{UNIT_WORDS}|{_CUR_ALT})\b|[^\w]|$)"
)
SCALE = {
    word: Decimal(value)
    for word, value in _table(
        "k: 1e3, thousand: 1e3, m: 1e6, mm: 1e6, mn: 1e6, million: 1e6, bn: 1e9, b: 1e9,"
        " billion: 1e9"
    ).items()
}
CURRENCY_AFTER = re.compile(rf"\s*(?P<cur>{_CUR_ALT}|[$€£])(?![\w])")
UNIT_AFTER = re.compile(
    r"\s*(?:(?:(?P<lotkind>standard|std|full|mini|micro|nano)\s*-?\s*)?(?P<lot>lots?)"
    r"|(?P<oz>troy\s+ounces?|ounces?|ozs?)|(?P<shares>shares?|shs)|(?P<units>units?)"
    r"|(?P<coins>coins?|tokens?)|(?P<contracts>contracts?))\b"
)
LOT_KIND: dict[str | None, Decimal] = {
    None: Decimal(1),
    **{k: Decimal(v) for k, v in _table("standard: 1, std: 1, full: 1, mini: 0.1").items()},
    **{k: Decimal(v) for k, v in _table("micro: 0.01, nano: 0.001").items()},
}
PERCENT_AFTER = re.compile(r"\s*(?:%|percent\b|per\s*cent\b|pct\b)")
# What precedes a price: the keyword decides which price it is.
PRICE_BEFORE = re.compile(
    r"(?<![\w])(?:(?P<sl>stop[\s-]*loss|stoploss|s\s*/\s*l|sl)|(?P<tp>take[\s-]*profit|takeprofit"
    r"|t\s*/\s*p|tp|profit\s+target|target)|(?P<wstop>(?:(?:with|and|plus)\s+|,\s*)(?:a\s+)?stop)"
    r"|(?P<sidestop>(?:buy|sell|long|short|purchase)\s+stop|on\s+(?:a\s+)?stop"
    r"|stop[\s-]+(?:entry|order))|(?P<stop>stop)"
    r"|(?P<limit>limit|lmt)|(?P<at>at|@))"
    r"\s*(?:price\b\s*)?(?:at\b|@|of\b|:|to\b)?\s*(?:at\b|@)?\s*(?:around\b|about\b)?\s*$"
)
PRICE_WINDOW = 40

SIDE = re.compile(
    r"\b(?:go(?:ing)?\s+)?(?P<w>buy|buying|purchase|long|sell\s+short|sell|selling|short"
    r"|shorting)\b"
)
SIDE_BUY = {"buy", "buying", "purchase", "long"}
TIF = [
    (re.compile(r"\b(?:gtc|good[\s-]*(?:till?|until)[\s-]*cancel+(?:ed|led)?)\b"), "gtc"),
    (re.compile(r"\b(?:ioc|immediate[\s-]*or[\s-]*cancel)\b"), "ioc"),
    (re.compile(r"\b(?:fok|fill[\s-]*or[\s-]*kill)\b"), "fok"),
    (
        re.compile(
            r"\b(?:day\s+order|for\s+the\s+day|good\s+for\s+(?:the\s+)?day|tif\s*:?\s*day"
            r"|day\s+only)\b|\bday\s*[.!]*\s*$"
        ),
        "day",
    ),
]
MARKET = re.compile(r"\b(?:at\s+(?:the\s+)?market|market(?:\s+order)?|mkt)\b")

# Desk order ids ("ord_3f2a...") anywhere; a broker id only right after the word "order".
DESK_ORDER_ID = re.compile(r"(?<![\w-])ord_[a-z0-9][a-z0-9_-]*")
BROKER_ORDER_ID = re.compile(
    r"\border\s*(?:id\s*)?[#:]?\s*(?P<id>#?[a-z0-9_-]*\d[a-z0-9_-]*)(?![\w-])"
)
# Words that turn a command into its opposite ("don't buy", "never halt", "no, resume"). Read
# without them, the command means the reverse of what was asked, so the parser refuses it.
_NEG = (
    r"(?:do|does|did|would|should|must|could|is|are|was|were|ai|wo|ca|have|has|had)\s*n\s*'?\s*t"
    r"|don\s*'?\s*t|do\s+not|never|not|no|nope|nah|neither|nor|cannot|avoid(?:ing)?"
    r"|refrain|forget\s+(?:it|that|about)|never\s*mind|nevermind"
)
NEGATION = re.compile(rf"\b(?:{_NEG})\b")
NEGATION_LEAD = re.compile(rf"^\s*(?:{_NEG})\b")
NOISE = str.maketrans({c: " " for c in '`*_#{}[]<>|~^=;"\\'})
PUNCT_FOLD = str.maketrans(
    "\u2018\u2019\u201b\u201c\u201d\u2013\u2014\u2212\u2010\u2011", "'''\"\"-----"
)
NUMBER_WORDS = re.compile(
    r"\b(?P<w>one|two|three|four|five|six|seven|eight|nine|ten)\b(?=\s+(?:" + UNIT_WORDS + r")\b)"
)
WORD_DIGIT = {
    w: str(i) for i, w in enumerate(_words("zero one two three four five six seven eight nine ten"))
}
SCALE_WORDS = re.compile(r"\b(?:hundred|thousand|million|billion|grand|dozen|lakh|crore)\b")

POLITE_LEAD = re.compile(
    r"^[\s,.!:-]*(?:(?:hey|hi|hello|ok|okay|so|now|yo|alright|right|well|um|uh|hmm)\b[\s,!.]*)*"
    r"(?:(?:please|pls|plz|kindly)\b[\s,]*)?"
    r"(?:(?:could|can|would|will)\s+(?:you|u|ya)\b[\s,]*(?:(?:please|kindly)\b[\s,]*)?)?"
    r"(?:(?:i\s*'?\s*d\s+like\s+to|i\s+would\s+like\s+to|i\s+want\s+to|i\s+wanna|i\s+need\s+to"
    r"|we\s+need\s+to|let\s*'?\s*s|go\s+ahead\s+and|just|i\s*'?\s*ll|i\s+will)\b[\s,]*)?"
    r"(?:(?:please|pls|plz|kindly)\b[\s,]*)?"
)
STOPWORDS = frozenset(
    _words("""
a about after again all also am an and another any are as asap at away be before both but by
can cheers could current currently do does for from get go going gonna good hello hey hi how i
i'd i'll i'm id im immediately in into is it it's its just kindly let let's lets like make me
more my need new now of off ok okay on only open or our out place please pls plz position
positions put quickly quick right same should size so some that the then there these this those
thx thanks thank to today tonight trade trades u up us want wanna we will with would ya yes you
your yo entry enter order orders market mkt qty quantity amount price level exactly worth value
buy buying sell selling long short shorting purchase stop loss limit lmt take profit tp sl target
gtc day ioc fok lot lots standard std full mini micro nano oz ozs ounce ounces troy share shares
shs unit units coin coins token tokens contract contracts around about per cent percent pct
close cancel flatten everything half quarter third thirds quarters k m mm mn bn b s
""")
)


def normalize(text: str) -> str:
    """NFKC, plain quotes and dashes, no control or zero-width characters."""
    text = unicodedata.normalize("NFKC", text).translate(PUNCT_FOLD)
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)


def lower_same_length(text: str) -> str:
    """Lower-case without changing the length (a few letters lower-case to two chars)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


_WORD = re.compile(r"[^\W\d_][\w&'./-]*")


@dataclass
class Number:
    """A number in the command, with what was said right before and after it."""

    start: int
    end: int  # after any unit or currency word that belongs to it
    value: Decimal
    negative: bool
    currency: str | None = None
    lot_factor: Decimal | None = None  # set when sized in lots (already x lot kind)
    unit: str | None = None  # ounces, shares, units, coins as said
    percent: bool = False
    price_kind: str | None = None  # sl, tp, wstop, sidestop, stop, limit, at
    keyword_start: int | None = None


@dataclass
class Text:
    """The normalised command (``raw``) and a lower-cased working copy (``w``) we blank."""

    raw: str
    w: str
    notes: dict[str, str] = field(default_factory=dict)
    symbols: list[tuple[str, str]] = field(default_factory=list)  # pairs taken early

    def blank(self, start: int, end: int) -> None:
        self.w = self.w[:start] + " " * (end - start) + self.w[end:]

    def cut(self, start: int, end: int) -> str:
        return " ".join(self.raw[start:end].split())

    def words(self) -> list[str]:
        """The words left after everything understood has been blanked out."""
        out = []
        for m in _WORD.finditer(self.w):
            word = m.group().strip("'.,/-&")
            if word and word not in STOPWORDS:
                out.append(self.raw[m.start() : m.start() + len(word)].strip())
        return out


def to_decimal(body: str, scale: str | None) -> Decimal | None:
    """The value of a number's digits times its suffix, or None when out of range."""
    try:
        value = Decimal(body.replace(",", "")) * SCALE.get(scale or "", Decimal(1))
    except InvalidOperation:
        return None
    return value if value <= MAX_NUMBER else None


# Zero-width so that "sell gbp jpy" still finds GBPJPY after trying "sell gbp".
PAIR = re.compile(
    r"(?<![\w&])(?=(?P<all>(?P<a>[a-z]{3})(?:\s*[/-]\s*|\s+)(?P<b>[a-z]{3})(?![\w&])))"
)
SYMBOLS = re.compile(r"(?<![\w&])(?:" + _alternation(list(SYMBOL_PHRASES)) + r")(?![\w&])")
CURRENCY_ONLY = re.compile(
    r"(?<![\w&])(?:" + _alternation([w for w in CURRENCY_WORDS if w not in "$€£"]) + r")(?![\w&])"
)

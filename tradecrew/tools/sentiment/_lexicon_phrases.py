"""Headline clean-up and multi-word phrases rewritten into single tokens for the lexicon.

Order matters: comparisons and percentages are read before numbers disappear, "hits a
10-month high" before "hits" can be read as a direction word.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tradecrew.tools.sentiment import _lexicon_data as lx

# UTF-8 read as cp1252, common in scraped headlines ("Â£100m", "â€“").
_MOJIBAKE = {"Â£": "£", "Â€": "€", "â€“": "-", "â€”": "-", "â€™": "'", "â€˜": "'", "Â ": " "}
_MOJIBAKE_RE = re.compile("|".join(re.escape(k) for k in _MOJIBAKE))
# Wire-service tags and section names glued to the headline ("UPDATE 2-", "CompaniesTesco").
_WIRE_TAG = re.compile(
    r"^(?:(?:UPDATE|RPT|REFILE|CORRECTED|EXCLUSIVE|BRIEF|PRESS|WRAPUP|TRLPC|LPC|FOCUS|"
    r"INSIGHT|ANALYSIS|BREAKINGVIEWS)(?:\s*\d+)?\s*[-:]\s*)+",
    re.IGNORECASE,
)
_SECTION = re.compile(
    r"^(?:Companies|News ?Feed|Industry ?News|Markets|Comment|Trading Expert|"
    r"BROKER RECOMMENDATIONS|Market Report:)\s*(?=[A-Z])"
)
_NUM = r"[$£€]?\s?(\d+(?:[.,]\d+)*)\s?(k|m|mn|mln|million|b|bn|bln|billion|%|pct|p|pence)?\b"
_UNITS = {"k": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "million": 1e6}
_UNITS |= {"b": 1e9, "bn": 1e9, "bln": 1e9, "billion": 1e9}
_DIRECTION_WORDS = "|".join(sorted(lx.DIRECTIONS, key=len, reverse=True))
_TO_FROM = re.compile(
    rf"\b(?:(?:{_DIRECTION_WORDS})\s+)?(?:to|at)\s+{_NUM}\s*,?\s+"
    rf"(?:from|vs\.?|versus|compared with|against)\s+{_NUM}"
)
_FROM_TO = re.compile(rf"\b(?:(?:{_DIRECTION_WORDS})\s+)?from\s+{_NUM}\s+to\s+{_NUM}")
_VERSUS = re.compile(rf"{_NUM}\s+(?:vs\.?|versus|v|against|compared with)\s+{_NUM}")
_DIGIT = re.compile(r"\d")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|pct\b|percent\b|per cent\b)")

_PERIOD = (
    r"(?:new|fresh|record|all[- ]time|multi[- ]year|\d{4}|(?:\d+|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|eleven|twelve)[- ](?:year|month|week|day))"
)
_EXPECTED = r"(?:forecasts?|estimates?|expectations?|consensus|views?|targets?|the street)"
_STAFF = r"(?:jobs|roles|positions|staff|workers|employees|posts|people)"
_SITES = (
    r"(?:stores?|branch(?:es)?|plants?|mines?|funds?|offices?|sites?|factor(?:y|ies)|units?|"
    r"business(?:es)?|operations?|cent(?:re|er)s?|shops?|outlets?|refinery)"
)

_PHRASES: list[tuple[tuple[str, ...], re.Pattern[str], str]] = [
    (tuple(t.split()), re.compile(p), r)
    for t, p, r in [
        (
            "high low peak",
            r"\b(?:from|off|below|near|around|towards?)\s+(?:its\s+|a\s+|the\s+)?"
            rf"{_PERIOD}[- ](?:closing\s+)?(?:highs?|lows?|peak)\b",
            " ",
        ),
        (
            "high peak",
            rf"\b(?:hits?|hitting|reach(?:es|ed)?|touch(?:es|ed)?|at|to|sets?)?\s*(?:a\s+)?{_PERIOD}"
            r"[- ](?:closing\s+|intraday\s+)?(?:highs?|peak)\b",
            " new_high ",
        ),
        (
            "low",
            rf"\b(?:hits?|hitting|reach(?:es|ed)?|touch(?:es|ed)?|at|to)?\s*(?:a\s+)?{_PERIOD}"
            r"[- ](?:closing\s+)?lows?\b",
            " new_low ",
        ),
        (
            "forecast estimat expect consensus view target street",
            r"\b(?:beats?|beating|tops?|topped|topping|exceed(?:s|ed)?|surpass(?:es|ed)?|"
            r"ahead of|above|better than|outstrips?|outpaced?)\s+(?:\w+\s+){0,3}?"
            rf"{_EXPECTED}",
            " beat_exp ",
        ),
        ("than", r"\bbetter[- ]than[- ](?:expected|forecast|feared)\b", " beat_exp "),
        ("beat", r"\b(?:profit|profits|earnings|revenue|sales|results?)\s+beats?\b", " beat_exp "),
        (
            "forecast estimat expect consensus view target street",
            r"\b(?:miss(?:es|ed)?|below|short of|worse than|lags?|lagged|trails?|undershoots?)"
            rf"\s+(?:\w+\s+){{0,3}}?{_EXPECTED}",
            " miss_exp ",
        ),
        ("than", r"\b(?:worse|weaker|lower)[- ]than[- ](?:expected|forecast)\b", " miss_exp "),
        ("short", r"\b(?:comes?|came|falls?|fell)\s+(?:up\s+)?short\b", " miss_exp "),
        ("in line", rf"\bin line with\s+(?:\w+\s+)?{_EXPECTED}", " "),
        ("warning", r"\bprofits?\s+warnings?\b", " profit_warning "),
        (
            "warn",
            r"\bwarn(?:s|ed|ing)?\s+(?:on|of)\s+(?:\w+\s+)?(?:profits?|earnings|full[- ]year)\b",
            " profit_warning ",
        ),
        (
            "profit",
            r"\bsw(?:ing|ings|ung)\s+(?:back\s+)?(?:in)?to\s+(?:a\s+)?(?:\w+\s+){0,2}?(?:profits?)\b",
            " swing_profit ",
        ),
        (
            "loss",
            r"\bsw(?:ing|ings|ung)\s+(?:back\s+)?(?:in)?to\s+(?:a\s+)?(?:\w+\s+){0,2}?(?:loss(?:es)?)\b",
            " swing_loss ",
        ),
        (
            "'buy' 'outperform' 'overweight' 'add' buy outperform overweight",
            r"'(?:buy|outperform|overweight|add)'|\b(?:ups?|upgrades?|upgraded|raises?|lifts?)\s+"
            r"(?:\w+\s+){0,3}?to\s+(?:a\s+)?(?:buy|outperform|overweight)\b",
            " buy_rating ",
        ),
        (
            "'sell' 'underperform' 'underweight' 'reduce' sell underperform underweight",
            r"'(?:sell|underperform|underweight|reduce)'|\b(?:cuts?|downgrades?|downgraded|lowers?)"
            r"\s+(?:\w+\s+){0,3}?to\s+(?:a\s+)?(?:sell|underperform|underweight)\b",
            " sell_rating ",
        ),
        (
            "rais",
            r"\brais(?:e|es|ed|ing)\s+(?:about\s+|up to\s+|nearly\s+)?[$£€]?\s?\d",
            " raises_money ",
        ),
        ("trial", r"\b(?:stands?|face|faces|facing|go(?:es)? on)\s+trial\b", " stand_trial "),
        ("pay", r"\b(?:must|ordered to|forced to)\s+pay\b", " must_pay "),
        ("fire", r"\bunder\s+fire\b", " under_fire "),
        ("plug", r"\bpull(?:s|ed)?\s+(?:the\s+)?plug\b", " pulls_plug "),
        ("cheer", r"\blittle\s+cheer\b", " no_cheer "),
        ("track", r"\bon\s+track\b", " on_track "),
        ("than", r"\bmore\s+than\b", " "),
        (
            "gains",
            r"\b(?:pares?|pared|paring|wip(?:e|es|ed|ing)\s+out|erases?|erased|gives?\s+back)\s+"
            r"(?:\w+\s+){0,2}?gains\b",
            " pares_gains ",
        ),
        (
            "sale sell",
            r"(\b(?:government|govt|britain|treasury|taxpayers?|osborne|state-owned|uk)\b.{0,60}?)"
            r"\b(?:sells?|selling|sale|sell-off|selloff)\b",
            r"\1 govt_sale ",
        ),
        ("ties", r"\bcut(?:s|ting)?\s+ties\b", " "),
        ("road", r"\blong\s+road\b", " long_road "),
        ("off", r"\bpays?\s+off\b", " pays_off "),
        (
            "back fighting",
            r"\b(?:fights?|fighting|hits?|hitting|strikes?)\s+back\b|\bcomes? out fighting\b",
            " fights_back ",
        ),
        ("ahead", r"\bgo[- ]ahead\b", " go_ahead "),
        ("pick", r"\bpick[- ]up\b", " pickup "),
        ("through", r"\bsails?\s+through\b", " sails_through "),
        ("shak", r"\bshak(?:e|es|ing)[- ]up\b", " shakeup "),
        (
            "reject",
            r"\brejects?\s+(?:\w+\s+){0,4}?(?:bid|offer|takeover|approach|proposal)\b",
            " rejects_bid ",
        ),
        ("job", r"\bjob[- ]?(?:cuts|losses|cull|reductions)\b", " job_cuts "),
        ("risk", rf"\b{_STAFF}\s+at\s+risk\b", " job_cuts "),
        (
            "cut axe axing shed slash lay eliminat",
            r"\b(?:cut|cuts|cutting|axe|axes|axing|shed|sheds|shedding|slash(?:es|ing)?|"
            rf"lay(?:s)? off|eliminat(?:e|es|ing))\s+(?:\w+\s+){{0,3}}?{_STAFF}\b",
            " job_cuts ",
        ),
        (
            "creat add hir",
            rf"\b(?:create|creates|creating|add|adds|adding|hire|hires|hiring)\s+(?:\w+\s+){{0,2}}?"
            rf"(?:new\s+)?{_STAFF}\b",
            " job_creation ",
        ),
        (
            "cost saving",
            r"\bcost[- ](?:cuts|cutting|savings?|reductions?)\b|\bsavings\b",
            " cost_cuts ",
        ),
        (
            "raise raising call issue",
            r"\b(?:capital|cash|rights)[- ](?:raise|raising|call|issue)\b",
            " capital_raise ",
        ),
        ("selling", r"\bmis[- ]?selling\b", " mis_selling "),
        ("sell", r"\bsell[- ]off\b", " selloff "),
        ("down", r"\b(?:steps?|stepping|stepped)\s+down\b", " step_down "),
        ("fail", r"\b(?:fail|fails|failed|failing)\s+to\b", " fail_to "),
        ("said", r"\bsaid\s+to\b", " said_to "),
        ("changed flat", r"\blittle\s+changed\b|\bflat\b", " "),
        ("clos", r"\bclos(?:es|ed|ing)?\s+in\s+on\b", " nears "),
        ("clos", rf"\bclos(?:e|es|ed|ing)\s+(?:\w+\s+){{0,3}}?{_SITES}", " closure "),
        (
            "strik",
            r"\bstrik(?:e|es|ing)\b(?=(?:\s+\S+){0,2}\s+(?:deals?|agreements?|accord|pact))",
            " agrees ",
        ),
        ("strike", r"\bstrikes?\b", " strike_action "),
        ("market share", r"\bmarket share\b", " market_share "),
        ("stake", r"\bbuys?\s+(?:a\s+)?(?:\d+\s*)?stake\b", " stake_buy "),
    ]
]


def _number(value: str, unit: str | None, other_unit: str | None) -> float:
    unit = (unit or other_unit or "").lower()
    return float(value.replace(",", "")) * _UNITS.get(unit, 1.0)


def _compare(new: tuple[str, str | None], old: tuple[str, str | None]) -> str:
    """A strong direction token from two numbers: what matters is which one is larger."""
    a = _number(new[0], new[1], old[1])
    b = _number(old[0], old[1], new[1])
    if a > b:
        return " cmp_up "
    if a < b:
        return " cmp_down "
    return " "


def _percent(match: re.Match[str]) -> str:
    value = float(match.group(1))
    if value >= 10:
        return " pct_big "
    return " pct_small " if value < 2 else " "


_NUMERIC: list[tuple[tuple[str, ...], re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        ("from", " vs", "versus", "against", "compared"),
        _TO_FROM,
        lambda m: _compare((m[1], m[2]), (m[3], m[4])),
    ),
    (("from",), _FROM_TO, lambda m: _compare((m[3], m[4]), (m[1], m[2]))),
    (
        (" vs", "versus", " v ", "against", "compared"),
        _VERSUS,
        lambda m: _compare((m[1], m[2]), (m[3], m[4])),
    ),
    (("%", "pct", "percent", "per cent"), _PERCENT, _percent),
]


def rewrite(text: str) -> str:
    """Lower-cased headline with wire tags dropped and known phrases joined into tokens."""
    if "Â" in text or "â€" in text:
        text = _MOJIBAKE_RE.sub(lambda m: _MOJIBAKE[m.group(0)], text)
    text = _SECTION.sub("", _WIRE_TAG.sub("", text.strip()))
    text = text.lower().replace("’", "'").replace("won't", "will not").replace("n't", " not")
    if _DIGIT.search(text) is not None:
        for triggers, pattern, repl in _NUMERIC:
            if any(t in text for t in triggers):
                text = pattern.sub(repl, text)
    for triggers, pattern, phrase in _PHRASES:
        # a substring test is far cheaper than a regex scan, and most phrases are absent
        if any(t in text for t in triggers):
            text = pattern.sub(phrase, text)
    return text

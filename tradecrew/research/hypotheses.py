"""Where discovery's hypotheses come from: a seeded generator of rules from templates, or the
crew's LLM (asked by :mod:`tradecrew.agents.discovery`). Either way a hypothesis is only an
expression string, parsed by the safe parser (:mod:`tradecrew.research.expr`); the LLM's text
is data, and nothing else of it is used.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from tradecrew.research.expr import ExprError, parse, to_source

__all__ = ["Proposals", "generate", "read_expressions"]

MAX_LLM_LINES = 200  # lines of an answer read at most
MAX_LLM_CHARS = 20_000


class Proposals(BaseModel):
    """Hypotheses as canonical expressions, and what was refused and why."""

    model_config = ConfigDict(extra="forbid")

    expressions: list[str]
    origin: str  # "generator" or "llm"
    rejected: list[str] = []


# Each template draws its numbers from the seeded generator: state rules (a position is held
# while the rule is true), trend, mean reversion, breakout and the desk's component scores.
Template = Callable[[random.Random], str]


def _pick(r: random.Random, *options: float) -> float:
    return options[r.randrange(len(options))]


def _ma_pair(r: random.Random) -> tuple[int, int]:
    fast = r.choice((5, 10, 12, 20, 30, 50))
    slow = r.choice([s for s in (20, 26, 50, 100, 150, 200) if s > fast])
    return fast, slow


_TEMPLATES: tuple[Template, ...] = (
    lambda r: f"close > sma(close, {r.choice((20, 50, 100, 150, 200))})",
    lambda r: "ema(close, {}) > ema(close, {})".format(*_ma_pair(r)),
    lambda r: "sma(close, {}) > sma(close, {})".format(*_ma_pair(r)),
    lambda r: f"rsi(close, {r.choice((2, 5, 14))}) < {r.choice((10, 20, 30, 40))}",
    lambda r: f"rsi(close, {r.choice((5, 14, 21))}) > {r.choice((50, 55, 60))}",
    lambda r: f"zscore(close, {r.choice((10, 20, 50))}) < {-_pick(r, 0.5, 1, 1.5, 2)}",
    lambda r: f"pct_change(close, {r.choice((5, 20, 60, 120))}) > 0",
    lambda r: "macd_hist(close, {}, {}, 9) > 0".format(*_ma_pair(r)),
    lambda r: f"adx > {r.choice((15, 20, 25, 30))} and plus_di > minus_di",
    lambda r: f"bb_pct < {_pick(r, 0.0, 0.1, 0.2)}",
    lambda r: f"close > lag(rolling_max(close, {r.choice((20, 50, 100))}), 1) * 0.97",
    lambda r: f"trend_score > {_pick(r, 0.0, 0.1, 0.2, 0.3)}",
    lambda r: f"momentum_score > {_pick(r, 0.0, 0.1, 0.2)}",
    lambda r: f"trend_score + momentum_score > {_pick(r, 0.0, 0.2, 0.4)}",
    lambda r: (
        f"close > sma(close, {r.choice((100, 200))}) and "
        f"rsi(close, {r.choice((2, 5, 14))}) < {r.choice((20, 30, 40))}"
    ),
    lambda r: (
        f"atr(14) / close < {_pick(r, 0.01, 0.015, 0.02)} and "
        f"close > ema(close, {r.choice((20, 50))})"
    ),
)


def generate(n: int, seed: int) -> Proposals:
    """``n`` distinct rules drawn from the templates with ``random.Random(seed)``: the same
    seed gives the same list."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    r = random.Random(seed)
    seen: dict[str, None] = {}
    for _ in range(n * 50):  # the template space is finite: stop rather than spin
        if len(seen) >= n:
            break
        seen.setdefault(to_source(parse(r.choice(_TEMPLATES)(r))), None)
    return Proposals(expressions=list(seen), origin="generator")


# ---------------------------------------------------------------------------- LLM

_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)]|`{1,3})\s*")
_QUOTED = re.compile(r"`([^`]+)`")


def read_expressions(text: str, n: int) -> Proposals:
    """The first ``n`` valid expressions in an LLM's answer, one a line; bullets, numbering
    and code fences are stripped, anything that does not parse is refused (with the parser's
    reason) and nothing else of the text is used."""
    found: dict[str, None] = {}
    rejected: list[str] = []
    for raw in text[:MAX_LLM_CHARS].splitlines()[:MAX_LLM_LINES]:
        line = _BULLET.sub("", raw).strip()
        quoted = _QUOTED.search(line)  # "1. `rsi < 30` buys the dip": the quoted part
        line = (quoted.group(1) if quoted else line).strip().strip("`").strip()
        if not line or line.startswith("#") or line.lower().startswith(("python", "text")):
            continue
        try:
            found.setdefault(to_source(parse(line)), None)
        except ExprError as exc:
            rejected.append(f"{line[:80]!r}: {exc}")
        if len(found) >= n:
            break
    return Proposals(expressions=list(found), origin="llm", rejected=rejected)

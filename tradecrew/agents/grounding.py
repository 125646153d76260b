"""Grounding: every figure an agent states must come from a tool output of the same run.

Numbers are compared at the precision they are shown with (``2239.0`` matches 2239.03 only
if written ``2239``; ``62%`` matches 0.62). Small integers (counts, 0-10), calendar years,
dates and times, and digits inside names (``US500``, ``H4``) are not figures and are skipped.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

_DATES = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"
)
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?%?"
    r"(?![A-Za-z_])"
)
SMALL_INTEGER = 10


def _parse(token: str) -> tuple[float, int, bool]:
    """Value, decimals shown, and whether it was a percentage."""
    percent = token.endswith("%")
    text = token.rstrip("%").replace(",", "").lstrip("+")
    mantissa = re.split(r"[eE]", text)[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    if "e" in text.lower():
        decimals = max(decimals - int(re.split(r"[eE]", text)[1]), 0)
    return float(text), decimals, percent


def numbers_in(text: str) -> list[str]:
    """The numeric tokens of ``text`` as written, dates and times removed."""
    return _NUMBER.findall(_DATES.sub(" ", text))


class EvidencePool:
    """Every number found in a run's tool outputs, sorted by magnitude for fast lookup."""

    def __init__(self, texts: Iterable[str]) -> None:
        values = set()
        for text in texts:
            for token in numbers_in(text):
                value, _, percent = _parse(token)
                values.add(abs(value / 100 if percent else value))
                if percent:
                    values.add(abs(value))
        self._values = sorted(values)

    def __len__(self) -> int:
        return len(self._values)

    def supports(self, value: float, decimals: int) -> bool:
        target = abs(value)
        tolerance = 0.5 * 10.0**-decimals + 1e-9 * max(target, 1.0)
        i = bisect.bisect_left(self._values, target - tolerance)
        return i < len(self._values) and self._values[i] <= target + tolerance


def _ignored(value: float, decimals: int, symbol_digits: set[str], token: str) -> bool:
    if decimals == 0 and abs(value) <= SMALL_INTEGER:
        return True
    if decimals == 0 and 1900 <= abs(value) <= 2100 and float(value).is_integer():
        return True
    return token.lstrip("+-").rstrip("%") in symbol_digits


def ungrounded_numbers(claims: Iterable[str], pool: EvidencePool, symbol: str = "") -> list[str]:
    """The figures in ``claims`` that no evidence supports, as written, in order, once each."""
    symbol_digits = set(re.findall(r"\d+", symbol))
    out: list[str] = []
    for text in claims:
        for token in numbers_in(text):
            value, decimals, percent = _parse(token)
            if _ignored(value, decimals, symbol_digits, token):
                continue
            ok = pool.supports(value, decimals) or (
                percent and pool.supports(value / 100, decimals + 2)
            )
            if not ok and token not in out:
                out.append(token)
    return out

"""Offline, finance-aware rule scorer: directions paired with financial objects, plus cues.

Pure Python, no downloads: precompiled regexes rewrite multi-word phrases into single tokens,
then one pass over the tokens pairs direction words with the object they move, applies
negation, intensifiers and hedges, and sums the contributions into a score in [-1, 1].
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tradecrew.tools.sentiment import _lexicon_data as lx
from tradecrew.tools.sentiment._lexicon_phrases import rewrite
from tradecrew.tools.sentiment.models import SentimentResult, label_for

_TOKEN = re.compile(r"[a-z0-9_]+|[,;:?!()]|(?<=\s)-(?=\s)")
_WINDOW = 3
_UNPAIRED_FACTOR = 0.8  # a bare "Barclays falls" is about the stock, a little less certain
_NEGATION_FACTOR = -0.7
_NEGATION_WINDOW = 4  # "not raising capital" is milder than the opposite statement
_HEDGE_FACTOR = 0.75
_QUESTION_FACTOR = 0.8
_DESPITE_FACTOR = 0.5  # what follows "despite" is the weaker half of the headline
_MAX_EVIDENCE = 6


@dataclass
class _Hit:
    weight: float
    positions: tuple[int, ...]
    cue: str


def _pair(tokens: list[str], i: int, only_bad: bool, left_only: bool) -> int | None:
    """Index of the nearest object within the window on either side, never across a clause.

    An object on the right is followed to the head of its noun compound, so "lower
    production costs" moves costs, not production.
    """
    best: int | None = None
    best_dist = _WINDOW + 1
    for step in (-1,) if left_only else (-1, 1):
        for dist in range(1, _WINDOW + 1):
            j = i + step * dist
            if j < 0 or j >= len(tokens) or tokens[j] in lx.BOUNDARIES:
                break
            if tokens[j] in lx.OBJECTS:
                if step == 1:
                    while j + 1 < len(tokens) and tokens[j + 1] in lx.OBJECTS:
                        j += 1
                if (not only_bad or lx.OBJECTS[tokens[j]] < 0) and dist < best_dist:
                    best, best_dist = j, dist  # left wins ties: it is scanned first
                break
    return best


def _collect(tokens: list[str]) -> list[_Hit]:
    hits: list[_Hit] = []
    used_objects: set[int] = set()
    for i, tok in enumerate(tokens):
        direction = lx.DIRECTIONS.get(tok)
        if direction is None:
            continue
        j = _pair(tokens, i, tok in lx.ONLY_BAD_OBJECTS, tok in lx.LEFT_ONLY)
        if j is not None:
            used_objects.add(j)
            lo, hi = min(i, j), max(i, j)
            hits.append(
                _Hit(direction * lx.OBJECTS[tokens[j]], (lo, hi), f"{tokens[lo]} {tokens[hi]}")
            )
        elif tok in lx.UNPAIRED:
            hits.append(_Hit(lx.UNPAIRED[tok], (i,), tok))
        elif tok not in lx.NEEDS_OBJECT:
            hits.append(_Hit(direction * _UNPAIRED_FACTOR, (i,), tok))
    deals: list[_Hit] = []
    for i, tok in enumerate(tokens):
        if tok in lx.DIRECTIONS:
            continue
        if tok in lx.OBJECTS:
            own = lx.OBJECT_OWN.get(tok)
            if own is not None and i not in used_objects:
                hits.append(_Hit(own, (i,), tok))
        elif tok in lx.CUES:
            hits.append(_Hit(lx.CUES[tok], (i,), tok.replace("_", " ")))
        elif tok in lx.DEAL_CUES:
            deals.append(_Hit(lx.DEAL_CUES[tok], (i,), tok.replace("_", " ")))
        elif tok in lx.CANCELLERS:
            hits.append(_Hit(lx.CANCELLER_WEIGHT, (i,), tok))
    deal_total = sum(h.weight for h in deals)
    if deal_total > lx.DEAL_CAP:  # one deal described with several words is still one deal
        for h in deals:
            h.weight *= lx.DEAL_CAP / deal_total
    return hits + deals


def _nearest_hit(hits: list[_Hit], lo: int, hi: int) -> _Hit | None:
    """The hit with a token closest to ``lo`` inside ``[lo, hi]``."""
    found: _Hit | None = None
    found_at = hi + 1
    for hit in hits:
        for p in hit.positions:
            if lo <= p <= hi and p < found_at:
                found, found_at = hit, p
    return found


def _clause_end(tokens: list[str], i: int, limit: int) -> int:
    """Last index after ``i`` (at most ``limit`` tokens on) before a clause boundary."""
    end = i
    while end + 1 < len(tokens) and end < i + limit and tokens[end + 1] not in lx.BOUNDARIES:
        end += 1
    return end


def _own(hits: list[_Hit], i: int) -> None:
    """A negator or intensifier that acted on something has no weight of its own."""
    for h in hits:
        if h.positions == (i,):
            h.weight = 0.0


def _modify(tokens: list[str], hits: list[_Hit]) -> float:
    """Apply negation, intensifiers and clause weights in place; return the headline factor."""
    n = len(tokens)
    factor = 1.0
    despite_from = n
    for i, tok in enumerate(tokens):
        if tok in lx.NEGATORS:
            end = _clause_end(tokens, i, _NEGATION_WINDOW)
            targets = [h for h in hits if i not in h.positions and i < h.positions[-1] <= end]
            for target in targets:
                target.weight *= _NEGATION_FACTOR
                target.cue = f"{tok.replace('_', ' ')} {target.cue}"
            if targets:
                _own(hits, i)
        elif tok in lx.INTENSIFIERS:
            forward = tok in lx.FORWARD_ONLY
            lo = i + 1 if forward else i - _WINDOW
            nearest = _nearest_hit([h for h in hits if i not in h.positions], lo, i + _WINDOW)
            if nearest is not None:
                nearest.weight *= lx.INTENSIFIERS[tok]
                _own(hits, i)
        elif tok in lx.CANCELLERS:
            end = _clause_end(tokens, i, n)
            for h in hits:
                if i < h.positions[0] <= end:
                    h.weight = 0.0
        elif tok in lx.HEDGES:
            factor = _HEDGE_FACTOR
        elif tok == "despite" and despite_from == n:
            despite_from = i
    for hit in hits:
        if hit.positions[0] > despite_from:
            hit.weight *= _DESPITE_FACTOR
    if tokens and tokens[-1] == "?":
        factor *= _QUESTION_FACTOR
    return factor


def score_text(text: str) -> tuple[float, float, list[str]]:
    """Score one text: (score in [-1, 1], confidence in [0, 1], matched cues)."""
    tokens = _TOKEN.findall(rewrite(text))
    hits = _collect(tokens)
    if not hits:
        return 0.0, 0.0, []
    factor = _modify(tokens, hits)
    total = sum(h.weight for h in hits) * factor
    mass = sum(abs(h.weight) for h in hits) * factor
    if mass == 0.0:
        return 0.0, 0.0, []
    score = math.tanh(total)
    agreement = abs(total) / mass
    confidence = 0.95 * agreement * (1.0 - math.exp(-mass))
    hits.sort(key=lambda h: -abs(h.weight))
    evidence = [f"{h.cue} {h.weight:+.2f}" for h in hits[:_MAX_EVIDENCE] if h.weight]
    return score, confidence, evidence


def analyze_lexicon(texts: list[str], threshold: float) -> list[SentimentResult]:
    """The default backend: rules only, deterministic, no I/O."""
    results = []
    for text in texts:
        score, confidence, evidence = score_text(text)
        results.append(
            SentimentResult(
                text=text,
                label=label_for(score, threshold),
                score=score,
                confidence=confidence,
                backend="lexicon",
                evidence=evidence or None,
            )
        )
    return results

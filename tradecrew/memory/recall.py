"""Plain-words recall: the query's instruments, a lexical ranker and rank fusion.

An everyday query ("gold trending", "euro dollar", "S&P 500 volatile") names instruments by
their common names; the catalogue's aliases turn those into symbols. Three rankings are then
fused with reciprocal rank fusion: BM25 over the words (plus the symbols found), the embedding's
cosine distance, and "is about an instrument the query names". Pure functions, no I/O.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

#: Reciprocal rank fusion's damping constant (Cormack et al. use 60).
RRF_K = 60
_WORD = re.compile(r"[a-z0-9&]+")
_LONGEST_ALIAS = 4


def words(text: str) -> list[str]:
    """Lower-case words; ``trending_bull`` also gives ``trending`` and ``bull``."""
    low = text.lower()
    # Regime names are stored whole (trending_bull): keep the joined form too.
    return _WORD.findall(low) + re.findall(r"[a-z]+_[a-z]+", low)


@lru_cache(maxsize=1)
def _phrases() -> dict[tuple[str, ...], str]:
    from tradecrew.instruments import ALIASES, CATALOGUE

    table: dict[tuple[str, ...], str] = {}
    for name, symbol in ALIASES.items():
        if symbol in CATALOGUE:
            table[tuple(_WORD.findall(name.lower()))] = symbol
    for symbol in CATALOGUE:
        table[(symbol.lower(),)] = symbol
    return {k: v for k, v in table.items() if k}


def query_symbols(query: str) -> list[str]:
    """The catalogue symbols a query names, in order: the longest alias wins ("euro dollar"
    is EURUSD, "dollar" alone DXY)."""
    tokens = _WORD.findall(query.lower())
    table = _phrases()
    found: list[str] = []
    i = 0
    while i < len(tokens):
        for n in range(min(_LONGEST_ALIAS, len(tokens) - i), 0, -1):
            symbol = table.get(tuple(tokens[i : i + n]))
            if symbol is not None:
                if symbol not in found:
                    found.append(symbol)
                i += n
                break
        else:
            i += 1
    return found


def expand_query(query: str) -> tuple[list[str], list[str]]:
    """The query's words with the symbols it names added, and those symbols."""
    symbols = query_symbols(query)
    return words(query) + [s.lower() for s in symbols], symbols


@lru_cache(maxsize=1)
def _bm25s() -> Any:
    """bm25s without its optional numba backend: numba costs seconds to import and nothing
    here needs it (a desk's memory is thousands of items, scored with numpy in milliseconds).
    Loaded already (by another library), numba is simply used."""
    if "bm25s" in sys.modules or "numba" in sys.modules:
        import bm25s

        return bm25s
    sys.modules["numba"] = None  # type: ignore[assignment]  # makes ``import numba`` fail
    try:
        import bm25s
    finally:
        del sys.modules["numba"]
    return bm25s


def bm25_scores(query_tokens: Sequence[str], docs: Sequence[Sequence[str]]) -> np.ndarray:
    """BM25 score of each document (token lists) for the query tokens."""
    bm25s = _bm25s()
    if not docs:
        return np.zeros(0)
    index = bm25s.BM25()
    index.index([list(d) or ["\x00"] for d in docs], show_progress=False)
    known = [t for t in query_tokens if t in index.vocab_dict]
    if not known:
        return np.zeros(len(docs))
    return np.asarray(index.get_scores(known), dtype=float)


def cosine_distances(query: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """1 - cosine similarity of each row of ``vectors`` to ``query`` (0 = same direction)."""
    if len(vectors) == 0:
        return np.zeros(0)
    q = query / (np.linalg.norm(query) or 1.0)
    norms = np.linalg.norm(vectors, axis=1)
    norms[norms == 0] = 1.0
    return 1.0 - (vectors @ q) / norms


def rank(
    scores: Sequence[float] | np.ndarray,
    *,
    descending: bool = True,
    keep: Sequence[bool] | None = None,
) -> list[int]:
    """Indices ordered best first (ties keep input order); ``keep`` drops the others."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i] if descending else scores[i])
    return [i for i in order if keep is None or keep[i]]


def fuse(rankings: Sequence[Sequence[int]], size: int, k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion: each ranking adds 1 / (k + rank) to the items it ranks."""
    total = np.zeros(size)
    for ranking in rankings:
        for position, index in enumerate(ranking):
            total[index] += 1.0 / (k + position + 1)
    return total


def hybrid_order(
    query: str,
    docs: Sequence[str],
    symbols: Sequence[str | None],
    distances: np.ndarray,
) -> tuple[list[int], np.ndarray]:
    """Documents best first for ``query`` and their fused scores. ``docs`` are the texts
    the lexical ranker reads, ``symbols`` each document's symbol, ``distances`` the
    embedding's cosine distances to the query (inf: not among the embedding's nearest)."""
    tokens, named = expand_query(query)
    lexical = bm25_scores(tokens, [words(d) for d in docs])
    rankings = [
        rank(lexical, keep=[s > 0 for s in lexical]),
        rank(list(distances), descending=False, keep=list(np.isfinite(distances))),
    ]
    if named:
        # Items on a named instrument first, the lexically closest of them first.
        on_named = [s in named for s in symbols]
        rankings.append(rank(lexical, keep=on_named))
    fused = fuse(rankings, len(docs))
    order = sorted(range(len(docs)), key=lambda i: (-fused[i], distances[i]))
    return order, fused

"""Feature-hashing text embedding: deterministic, offline, no model to download.

Word unigrams and bigrams are hashed (blake2b, stable across processes unlike ``hash()``) into
``dim`` signed buckets, weighted by sublinear term frequency ``1 + log(tf)`` and L2-normalised,
so cosine similarity measures shared vocabulary. Good enough to find "the last time gold was
trending up" among the desk's own notes; a sentence model does better when one is installed.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

import numpy as np

DEFAULT_DIM = 384
MIN_DIM = 16
MAX_DIM = 8192
_TOKEN = re.compile(r"[a-z0-9]+(?:[._][a-z0-9]+)*")
_EMPTY_FEATURE = "\x00empty"  # texts without words still get a unit vector


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; ``trending_bull`` and ``2.5`` stay one token each."""
    return _TOKEN.findall(text.lower())


def features(text: str) -> Counter[str]:
    """Unigram and bigram counts of ``text``; bigrams join their words with a space."""
    words = tokens(text)
    grams = Counter(words)
    grams.update(f"{a} {b}" for a, b in pairwise(words))
    return grams


@lru_cache(maxsize=65536)
def _bucket(feature: str, dim: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    # The lowest bit picks the sign so colliding features cancel rather than pile up.
    return (value >> 1) % dim, (1.0 if value & 1 else -1.0)


def check_dim(dim: int) -> int:
    """``dim`` itself when it is a usable embedding width, else ValueError."""
    if isinstance(dim, bool) or not isinstance(dim, int) or not MIN_DIM <= dim <= MAX_DIM:
        raise ValueError(f"dim must be an integer in [{MIN_DIM}, {MAX_DIM}], got {dim!r}")
    return dim


def hash_embed(texts: Sequence[str], dim: int = DEFAULT_DIM) -> np.ndarray:
    """One L2-normalised float32 row per text; equal texts give bit-identical rows."""
    check_dim(dim)
    if isinstance(texts, str | bytes):
        raise TypeError("texts must be a sequence of strings, not a single string")
    out = np.zeros((len(texts), dim), dtype=np.float64)
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{row}] is {type(text).__name__}, expected str")
        grams = features(text) or Counter({_EMPTY_FEATURE: 1})
        for gram, tf in grams.items():
            index, sign = _bucket(gram, dim)
            out[row, index] += sign * (1.0 + math.log(tf))
        norm = float(np.linalg.norm(out[row]))
        if norm == 0.0:  # every feature cancelled out in collisions: fall back to one bucket
            index, _ = _bucket(_EMPTY_FEATURE, dim)
            out[row, index] = 1.0
        else:
            out[row] /= norm
    return out.astype(np.float32)

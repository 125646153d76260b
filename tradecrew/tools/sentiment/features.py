"""Features of the compact sentiment model: hashed word n-grams and the lexicon's verdict.

The same code builds the features when the model is trained (``scripts/train_sentiment.py``)
and when it scores, so the two cannot drift. Words and word pairs are hashed into a fixed
number of buckets (CRC-32: stable across processes and Python versions, unlike ``hash``).
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections import Counter

from tradecrew.tools.sentiment.lexicon import score_text

BUCKETS = 1 << 18
LEXICON_FEATURES = ("lexicon_score", "lexicon_confidence", "lexicon_positive", "lexicon_negative")
_LEXICON_CUT = 0.1  # the lexicon's own default threshold, fixed so features never move

_URL = re.compile(r"https?://\S+|www\.\S+")
_CASHTAG = re.compile(r"\$[A-Za-z][A-Za-z.]{0,9}\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\b\w\w+\b")


def tokens(text: str) -> list[str]:
    """Lower-cased words; links dropped, tickers and numbers reduced to one token each."""
    text = _URL.sub(" ", text)
    text = _CASHTAG.sub(" tkr ", text)
    text = _NUMBER.sub(" num ", text.lower())
    return _WORD.findall(text)


def ngram_counts(text: str) -> Counter[int]:
    """Bucket -> count over the text's words and adjacent word pairs."""
    words = tokens(text)
    grams = [f"w {w}" for w in words]
    grams += [f"b {a} {b}" for a, b in itertools.pairwise(words)]
    return Counter(zlib.crc32(g.encode()) % BUCKETS for g in grams)


def lexicon_features(text: str) -> tuple[tuple[float, float, float, float], list[str]]:
    """The rule scorer's score and confidence, its label as two indicators, and its cues."""
    score, confidence, cues = score_text(text)
    label = (float(score > _LEXICON_CUT), float(score < -_LEXICON_CUT))
    return (score, confidence, *label), cues

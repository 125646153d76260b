"""What the desk memory holds: kinds, entries, items, and the checks every write passes.

Kept apart from the store so the rankers and the outcome writer share one vocabulary without
importing chromadb.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradecrew.models import Regime

MAX_TEXT_CHARS = 100_000
MAX_K = 100
_RESERVED = frozenset({"kind", "symbol", "regime", "created_at", "created_ts"})


class MemoryKind(StrEnum):
    REPORT = "report"
    DECISION = "decision"
    OUTCOME = "outcome"
    REFLECTION = "reflection"


@dataclass(frozen=True)
class MemoryEntry:
    """Something to remember (``DeskMemory.remember_all``); checked when it is stored."""

    kind: MemoryKind | str
    text: str
    symbol: str | None = None
    regime: Regime | str | None = None
    metadata: dict[str, Any] | None = None


class MemoryItem(BaseModel):
    """One remembered thing and, when it came from a search, how far it was from the query."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: MemoryKind
    symbol: str | None = None
    regime: str | None = None
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    distance: float | None = Field(None, description="cosine distance to the query (0 = same)")
    score: float | None = Field(
        None, description="fused rank score of a search (higher = better; see memory.recall)"
    )
    created_at: datetime


def _symbol(symbol: str | None) -> str | None:
    if symbol is None:
        return None
    if not isinstance(symbol, str) or not symbol.strip() or len(symbol.strip()) > 32:
        raise ValueError(f"symbol must be a non-empty string of at most 32 chars, got {symbol!r}")
    return symbol.strip().upper()


def _regime(regime: Regime | str | None) -> str | None:
    if regime is None:
        return None
    if isinstance(regime, Regime):
        return regime.value
    if not isinstance(regime, str) or not regime.strip() or len(regime) > 64:
        raise ValueError(f"regime must be a non-empty string, got {regime!r}")
    return regime.strip().lower()


def _text(text: str, what: str = "text") -> str:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ValueError(f"{what} is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"{what} is longer than {MAX_TEXT_CHARS} characters")
    return text.strip()


def _kind(kind: MemoryKind | str | None) -> MemoryKind | None:
    if kind is None:
        return None
    try:
        return MemoryKind(kind)
    except ValueError:
        valid = ", ".join(k.value for k in MemoryKind)
        raise ValueError(f"unknown memory kind {kind!r}; use one of {valid}") from None


def _metadata(metadata: dict[str, Any] | None) -> dict[str, str | int | float | bool]:
    """Flat chromadb metadata: scalars kept, None dropped, anything else stored as JSON."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    out: dict[str, str | int | float | bool] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"metadata keys must be non-empty strings, got {key!r}")
        if key in _RESERVED:
            raise ValueError(f"metadata key {key!r} is reserved")
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"metadata {key!r} is not a finite number: {value}")
        if isinstance(value, str | int | float | bool):
            out[key] = value
        else:
            out[key] = json.dumps(value, sort_keys=True, default=str)
    return out


def memory_id(
    kind: MemoryKind, symbol: str | None, regime: str | None, text: str, meta: dict[str, Any]
) -> str:
    """The content hash that makes remembering idempotent (the clock is not part of it)."""
    payload = json.dumps(
        {"kind": kind.value, "symbol": symbol, "regime": regime, "text": text, "meta": meta},
        sort_keys=True,
    )
    return f"mem_{hashlib.sha256(payload.encode('utf-8')).hexdigest()[:32]}"


def _where(**equal: Any) -> dict[str, Any] | None:
    terms = [{k: v} for k, v in equal.items() if v is not None]
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"$and": terms}


def _context(kind: MemoryKind, symbol: str | None, regime: str | None, text: str) -> str:
    # Symbol and regime join the embedded text so "XAUUSD trending_bull" finds such items.
    head = " ".join(x for x in (kind.value, symbol or "", regime or "") if x)
    return f"{head}\n{text}"


def _item(item_id: str, doc: str | None, meta: Any, distance: float | None) -> MemoryItem:
    meta = dict(meta or {})
    created = datetime.fromisoformat(str(meta.pop("created_at")))
    meta.pop("created_ts", None)
    return MemoryItem(
        id=item_id,
        kind=MemoryKind(meta.pop("kind")),
        symbol=meta.pop("symbol", None),
        regime=meta.pop("regime", None),
        text=doc or "",
        metadata=meta,
        distance=distance,
        created_at=created,
    )


def _required(symbol: str) -> str:
    if symbol is None:
        raise ValueError("symbol is required")
    return symbol


def _k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValueError(f"k must be an integer in [1, {MAX_K}], got {k!r}")
    return k


def _pnl(pnl: float | None) -> float | None:
    if pnl is None:
        return None
    if isinstance(pnl, bool) or not isinstance(pnl, int | float) or not math.isfinite(pnl):
        raise ValueError(f"pnl must be a finite number, got {pnl!r}")
    return float(pnl)


def _with(metadata: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    out = dict(metadata or {})
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def _filters(
    symbol: str | None,
    regime: Regime | str | None,
    kind: MemoryKind | str | None,
    since: datetime | None,
    until: datetime | None,
    outcome: str | None,
) -> dict[str, Any] | None:
    """A chromadb ``where`` for a search's structured filters."""
    kind_ = _kind(kind)
    terms: list[dict[str, Any]] = [
        {k: v}
        for k, v in (
            ("symbol", _symbol(symbol)),
            ("regime", _regime(regime)),
            ("kind", kind_.value if kind_ is not None else None),
        )
        if v is not None
    ]
    for bound, op in ((since, "$gte"), (until, "$lte")):
        if bound is not None:
            if bound.tzinfo is None:
                raise ValueError("since/until need a timezone (UTC)")
            terms.append({"created_ts": {op: bound.timestamp()}})
    if since is not None and until is not None and since > until:
        raise ValueError("since is after until")
    if outcome is not None:
        sign = {"win": "$gt", "loss": "$lt"}.get(outcome.strip().lower())
        if sign is None:
            raise ValueError(f"outcome must be win or loss, got {outcome!r}")
        terms.append({"pnl": {sign: 0.0}})
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"$and": terms}

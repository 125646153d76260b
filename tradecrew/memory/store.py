"""The desk's long-term memory: research reports, decisions, outcomes and reflections.

A persistent chromadb collection under ``<TRADECREW_HOME>/memory``, one per embedding space.
Ids are a hash of the content, so remembering the same thing twice stores it once. Text is
data: nothing recalled from memory is ever acted upon, it is only shown to agents and people.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradecrew.models import Regime

COLLECTION_PREFIX = "desk_memory"
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


class DeskMemory:
    """Persistent, searchable memory; ``path`` defaults to ``<TRADECREW_HOME>/memory``.

    ``embedding`` is a name (``hashing`` default, ``auto``, ``onnx``,
    ``sentence-transformers:MODEL``) or a chromadb embedding function. Nothing is downloaded.
    """

    def __init__(self, path: str | Path | None = None, embedding: Any = None) -> None:
        import chromadb
        from chromadb.config import Settings

        from tradecrew.memory.embedding import embedding_key, resolve_embedding

        if path is None:
            from tradecrew.config import get_settings

            path = get_settings().home / "memory"
        self.path = Path(path).expanduser()
        self.path.mkdir(parents=True, exist_ok=True)
        self.embedding = resolve_embedding(embedding)
        self._client = chromadb.PersistentClient(
            path=str(self.path),
            settings=Settings(anonymized_telemetry=False, allow_reset=False),
        )
        self.collection_name = f"{COLLECTION_PREFIX}_{embedding_key(self.embedding)}"
        self._collection = self._client.get_or_create_collection(
            self.collection_name,
            embedding_function=self.embedding,
            metadata={"hnsw:space": "cosine"},
        )

    # ------------------------------------------------------------------ writing

    def remember(
        self,
        kind: MemoryKind | str,
        text: str,
        *,
        symbol: str | None = None,
        regime: Regime | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Store one item and return its id; the same content again returns the same id."""
        entry = MemoryEntry(kind=kind, text=text, symbol=symbol, regime=regime, metadata=metadata)
        return self.remember_all([entry])[0]

    def remember_all(self, entries: list[MemoryEntry]) -> list[str]:
        """Store several items in one write (a crew run remembers one per symbol); their ids,
        in order. Items already remembered keep their original ``created_at``."""
        prepared: dict[str, tuple[str, dict[str, Any], str]] = {}
        ids = []
        now = datetime.now(UTC)
        for entry in entries:
            kind_ = _kind(entry.kind)
            if kind_ is None:
                raise ValueError("kind is required")
            body, sym = _text(entry.text), _symbol(entry.symbol)
            reg, meta = _regime(entry.regime), _metadata(entry.metadata)
            item_id = memory_id(kind_, sym, reg, body, meta)
            ids.append(item_id)
            record: dict[str, Any] = {
                **meta,
                "kind": kind_.value,
                "created_at": now.isoformat(),
                "created_ts": now.timestamp(),
            }
            if sym is not None:
                record["symbol"] = sym
            if reg is not None:
                record["regime"] = reg
            prepared[item_id] = (body, record, _context(kind_, sym, reg, body))
        known = (
            set(self._collection.get(ids=list(prepared), include=[])["ids"]) if prepared else set()
        )
        new = [i for i in prepared if i not in known]
        if new:
            self._collection.add(
                ids=new,
                documents=[prepared[i][0] for i in new],
                metadatas=[prepared[i][1] for i in new],
                embeddings=self._embed([prepared[i][2] for i in new]),
            )
        return ids

    def remember_report(
        self,
        symbol: str,
        regime: Regime | str | None,
        text: str,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """A research report (or its summary) on ``symbol`` written while in ``regime``."""
        return self.remember(
            MemoryKind.REPORT, text, symbol=_required(symbol), regime=regime, metadata=metadata
        )

    def remember_decision(
        self,
        symbol: str,
        regime: Regime | str | None,
        text: str,
        metadata: dict[str, Any] | None = None,
        *,
        proposal_id: str | None = None,
    ) -> str:
        """A decision (proposal, risk verdict, approval) and why it was taken."""
        meta = _with(metadata, proposal_id=proposal_id)
        return self.remember(
            MemoryKind.DECISION, text, symbol=_required(symbol), regime=regime, metadata=meta
        )

    def remember_outcome(
        self,
        symbol: str,
        regime: Regime | str | None,
        text: str,
        metadata: dict[str, Any] | None = None,
        *,
        proposal_id: str | None = None,
        pnl: float | None = None,
    ) -> str:
        """What a trade did: fills, exit, profit or loss."""
        meta = _with(metadata, proposal_id=proposal_id, pnl=_pnl(pnl))
        return self.remember(
            MemoryKind.OUTCOME, text, symbol=_required(symbol), regime=regime, metadata=meta
        )

    def reflect(
        self,
        proposal_id: str,
        expected: str,
        happened: str,
        pnl: float | None,
        lesson: str,
        *,
        symbol: str | None = None,
        regime: Regime | str | None = None,
    ) -> str:
        """A post-trade reflection; symbol and regime default to those remembered for it."""
        pid = _text(proposal_id, "proposal_id")
        parts = [_text(expected, "expected"), _text(happened, "happened"), _text(lesson, "lesson")]
        if symbol is None or regime is None:
            known = self._collection.get(where={"proposal_id": pid}, include=["metadatas"])
            for meta in known["metadatas"] or []:
                symbol = symbol if symbol is not None else meta.get("symbol")
                regime = regime if regime is not None else meta.get("regime")
        result = _pnl(pnl)
        text = (
            f"Expected: {parts[0]}\nHappened: {parts[1]}\n"
            + (f"PnL: {result:+.2f}\n" if result is not None else "")
            + f"Lesson: {parts[2]}"
        )
        meta = _with(None, proposal_id=pid, pnl=result)
        return self.remember(
            MemoryKind.REFLECTION, text, symbol=symbol, regime=regime, metadata=meta
        )

    # ------------------------------------------------------------------ reading

    def recall(
        self,
        query: str,
        symbol: str | None = None,
        regime: Regime | str | None = None,
        kind: MemoryKind | str | None = None,
        k: int = 5,
    ) -> list[MemoryItem]:
        """Up to ``k`` items nearest to ``query`` (nearest first), filtered by exact fields."""
        text = _text(query, "query")
        kind_ = _kind(kind)
        where = _where(
            symbol=_symbol(symbol),
            regime=_regime(regime),
            kind=kind_.value if kind_ is not None else None,
        )
        return self._query(text, where, _k(k))

    def similar_situations(self, symbol: str, regime: Regime | str, k: int = 3) -> list[MemoryItem]:
        """Past decisions, outcomes and reflections in ``regime``, this symbol's first."""
        sym, reg, n = _symbol(_required(symbol)), _regime(regime), _k(k)
        if reg is None:
            raise ValueError("regime is required")
        kinds = {"kind": {"$in": [MemoryKind.DECISION, MemoryKind.OUTCOME, MemoryKind.REFLECTION]}}
        query = f"{sym} {reg} " + " ".join(k_.value for k_ in MemoryKind)
        own = self._query(query, {"$and": [{"symbol": sym}, {"regime": reg}, kinds]}, n)
        if len(own) < n:
            others = {"$and": [{"symbol": {"$ne": sym}}, {"regime": reg}, kinds]}
            own += self._query(query, others, n - len(own))
        return own

    def get(self, item_id: str) -> MemoryItem | None:
        """The item with this id, or None."""
        got = self._collection.get(ids=[item_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return _item(got["ids"][0], got["documents"][0], got["metadatas"][0], None)

    def count(self, kind: MemoryKind | str | None = None) -> int:
        """How many items are remembered (of one kind when given)."""
        kind_ = _kind(kind)
        if kind_ is None:
            return self._collection.count()
        return len(self._collection.get(where={"kind": kind_.value}, include=[])["ids"])

    # ------------------------------------------------------------------ internals

    def _embed(self, texts: list[str]) -> list[Any]:
        return list(self.embedding(texts))

    def _query(self, text: str, where: dict[str, Any] | None, k: int) -> list[MemoryItem]:
        total = self._collection.count()
        if total == 0 or k <= 0:
            return []
        res = self._collection.query(
            query_embeddings=self._embed([text]),
            n_results=min(k, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        ids = res["ids"][0]
        docs, metas, dists = res["documents"][0], res["metadatas"][0], res["distances"][0]
        rows = zip(ids, docs, metas, dists, strict=True)
        return [_item(i, d, m, float(dist)) for i, d, m, dist in rows]


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

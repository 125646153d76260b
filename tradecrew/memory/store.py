"""The desk's long-term memory: research reports, decisions, outcomes and reflections.

A persistent chromadb collection under ``<TRADECREW_HOME>/memory``, one per embedding space.
Ids are a hash of the content, so remembering the same thing twice stores it once. Text is
data: nothing recalled from memory is ever acted upon, it is only shown to agents and people.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from tradecrew.memory.entries import (
    MemoryEntry,
    MemoryItem,
    MemoryKind,
    _context,
    _filters,
    _item,
    _k,
    _kind,
    _metadata,
    _pnl,
    _regime,
    _required,
    _symbol,
    _text,
    _where,
    _with,
    memory_id,
)
from tradecrew.models import Regime

T = TypeVar("T")

COLLECTION_PREFIX = "desk_memory"
#: How many nearest items the embedding ranks in a search (the words rank all of them).
EMBED_POOL = 200


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

    @classmethod
    def from_settings(cls, settings: Any = None) -> DeskMemory:
        """The memory under ``<home>/memory`` with the embedding ``settings.memory`` names."""
        from tradecrew.memory.embedding import embedding_from_settings

        if settings is None:
            from tradecrew.config import get_settings

            settings = get_settings()
        return cls(settings.home / "memory", embedding_from_settings(settings))

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
        trade_id: str | None = None,
    ) -> str:
        """A post-trade reflection; symbol and regime default to those remembered for it."""
        pid = _text(proposal_id, "proposal_id")
        parts = [_text(expected, "expected"), _text(happened, "happened"), _text(lesson, "lesson")]
        if symbol is None or regime is None:
            known = self._collection.get(where={"proposal_id": pid}, include=["metadatas"])
            for meta in known["metadatas"] or []:
                symbol = symbol if symbol is not None else _stored_text(meta, "symbol")
                regime = regime if regime is not None else _stored_text(meta, "regime")
        result = _pnl(pnl)
        text = (
            f"Expected: {parts[0]}\nHappened: {parts[1]}\n"
            + (f"PnL: {result:+.2f}\n" if result is not None else "")
            + f"Lesson: {parts[2]}"
        )
        meta = _with(None, proposal_id=pid, pnl=result, trade_id=trade_id)
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

    def search(
        self,
        query: str,
        *,
        symbol: str | None = None,
        regime: Regime | str | None = None,
        kind: MemoryKind | str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        outcome: str | None = None,
        k: int = 5,
    ) -> list[MemoryItem]:
        """Up to ``k`` items for a plain-words query, best first: BM25 over the words and the
        instruments the query names (catalogue aliases), fused with the embedding's distance
        (``recall.hybrid_order``). Filters are exact: symbol, regime, kind, a creation window,
        and ``outcome`` ``win``/``loss`` (trades by the sign of their P&L)."""
        from tradecrew.memory.recall import cosine_distances, hybrid_order, query_symbols

        text, n = _text(query, "query"), _k(k)
        where = _filters(symbol, regime, kind, since, until, outcome)
        got = self._collection.get(where=where, include=["documents", "metadatas"])
        ids = got["ids"]
        if not ids:
            return []
        documents = _included(got["documents"], "documents")
        metas: list[dict[str, Any]] = [
            dict(m or {}) for m in _included(got["metadatas"], "metadatas")
        ]
        docs = [
            _context(MemoryKind(m["kind"]), m.get("symbol"), m.get("regime"), d or "")
            for m, d in zip(metas, documents, strict=True)
        ]
        # The symbols the query names join it, as they join every stored item's text.
        vector = self._embed([" ".join([text, *query_symbols(text)])])[0]
        distances = self._distances(vector, ids, where)
        order, fused = hybrid_order(text, docs, [m.get("symbol") for m in metas], distances)
        top = order[:n]
        missing = [ids[i] for i in top if not np.isfinite(distances[i])]
        if missing:  # outside the embedding's pool, yet ranked by words: measure them too
            extra = self._collection.get(ids=missing, include=["embeddings"])
            far = cosine_distances(np.asarray(vector, dtype=float), np.asarray(extra["embeddings"]))
            where_ = {i: float(d) for i, d in zip(extra["ids"], far, strict=True)}
            for i in top:
                distances[i] = where_.get(ids[i], distances[i])
        return [
            _item(ids[i], documents[i], metas[i], float(distances[i])).model_copy(
                update={"score": round(float(fused[i]), 6)}
            )
            for i in top
        ]

    def _distances(self, vector: Any, ids: list[str], where: dict[str, Any] | None) -> np.ndarray:
        """The cosine distance of the ``EMBED_POOL`` nearest items (inf for the others)."""
        res = self._collection.query(
            query_embeddings=[vector],
            n_results=min(EMBED_POOL, len(ids)),
            where=where,
            include=["distances"],
        )
        near = dict(zip(res["ids"][0], _included(res["distances"], "distances")[0], strict=True))
        return np.array([float(near.get(i, np.inf)) for i in ids])

    def past_outcomes(self, symbol: str, k: int = 3) -> list[MemoryItem]:
        """The latest closed trades (outcomes and reflections) on ``symbol``, newest first."""
        sym, n = _symbol(_required(symbol)), _k(k)
        kinds = {"kind": {"$in": [MemoryKind.OUTCOME.value, MemoryKind.REFLECTION.value]}}
        where: dict[str, Any] = {"$and": [{"symbol": sym}, kinds]}
        got = self._collection.get(where=where, include=["documents", "metadatas"])
        documents = _included(got["documents"], "documents")
        metadatas: list[Mapping[str, Any]] = _included(got["metadatas"], "metadatas")
        rows = sorted(
            zip(got["ids"], documents, metadatas, strict=True),
            key=lambda r: -float((r[2] or {}).get("created_ts", 0.0)),
        )
        return [_item(i, d, m, None) for i, d, m in rows[:n]]

    def remembered_trades(self, kind: MemoryKind | str = MemoryKind.OUTCOME) -> set[str]:
        """The ``trade_id`` of every remembered item of ``kind`` (closed trades already
        written, so a restart does not write them again)."""
        kind_ = _kind(kind) or MemoryKind.OUTCOME
        got = self._collection.get(where={"kind": kind_.value}, include=["metadatas"])
        return {str(m["trade_id"]) for m in got["metadatas"] or [] if m and "trade_id" in m}

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
        documents = _included(got["documents"], "documents")
        return _item(got["ids"][0], documents[0], _included(got["metadatas"], "metadatas")[0], None)

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
        docs = _included(res["documents"], "documents")[0]
        metas = _included(res["metadatas"], "metadatas")[0]
        dists = _included(res["distances"], "distances")[0]
        rows = zip(ids, docs, metas, dists, strict=True)
        return [_item(i, d, m, float(dist)) for i, d, m, dist in rows]


def _included(value: list[T] | None, field: str) -> list[T]:
    """A field of a Chroma result; Chroma leaves it None only when the request left it out."""
    if value is None:
        raise RuntimeError(f"the memory store returned no {field} although they were requested")
    return value


def _stored_text(meta: Mapping[str, Any], key: str) -> str | None:
    """A text field this store wrote into an item's metadata (absent when never set)."""
    value = meta.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"stored memory {key} is {value!r}, not text")
    return value

"""Compact forms of the two big read results: bars as columns and rows, analysis as a summary.

A model reading 100 bars as 100 objects of repeated keys reads three times the text it needs;
the analysis in full (every indicator, every session segment, every timeframe) is rarely what
a question needs. ``detail=true`` and ``layout="records"`` still give everything.
"""

from __future__ import annotations

from typing import Any, Literal

BAR_FIELDS = ("open", "high", "low", "close", "volume")
DEFAULT_BAR_FIELDS = ("open", "high", "low", "close")
Layout = Literal["rows", "records"]


def _stamp(value: str, daily: bool) -> str:
    """``2018-12-31`` for daily and coarser bars, ``2018-12-31T21:00Z`` for intraday ones."""
    if daily:
        return value[:10]
    return value[:16] + "Z" if len(value) >= 16 else value


def compact_bars(
    result: dict[str, Any], fields: list[str] | None, layout: Layout
) -> dict[str, Any]:
    """``get_bars`` as ``columns`` + ``rows`` (or records) holding only ``fields``."""
    chosen = [f for f in (fields or DEFAULT_BAR_FIELDS) if f in BAR_FIELDS]
    bars = result.get("bars") or []
    daily = str(result.get("timeframe", "")).upper() in ("D1", "W1", "MN1")
    head = {k: v for k, v in result.items() if k != "bars"}
    if layout == "records":
        return {
            **head,
            "bars": [
                {"timestamp": _stamp(str(b["timestamp"]), daily), **{f: b[f] for f in chosen}}
                for b in bars
            ],
        }
    return {
        **head,
        "columns": ["timestamp", *chosen],
        "rows": [[_stamp(str(b["timestamp"]), daily), *(b[f] for f in chosen)] for b in bars],
    }


_INDICATORS = (
    "rsi",
    "rsi_state",
    "macd_state",
    "stoch_k",
    "stoch_state",
    "mfi",
    "adx",
    "trend_strength",
    "trend_direction",
    "bollinger_position",
    "atr",
)


def _pick(data: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if not data:
        return None
    return {k: data[k] for k in keys if k in data}


def analysis_summary(full: dict[str, Any]) -> dict[str, Any]:
    """What most questions about a symbol need: the fused signal and each analyzer's
    headline reading (about a fifth of the full analysis)."""
    signal = full.get("signal") or {}
    correlation = full.get("correlation") or {}
    session = full.get("session") or {}
    blackout = full.get("blackout") or {}
    mtf = full.get("multi_timeframe") or {}
    out: dict[str, Any] = {
        k: full[k]
        for k in ("account_mode", "symbol", "timeframe", "source", "synthetic", "timestamp")
        if k in full
    }
    out["last_price"] = full.get("last_price")
    out["signal"] = {
        **{k: signal.get(k) for k in ("direction", "score", "strength", "confidence")},
        "components": {c["name"]: c.get("contribution") for c in signal.get("components", [])},
        "vetoes": signal.get("vetoes", []),
    }
    out["indicators"] = _pick(full.get("indicators"), _INDICATORS)
    regime = full.get("regime")
    out["regime"] = _pick(regime, ("regime", "confidence")) if regime else None
    if correlation:
        out["correlation"] = {p["peer"]: p.get("latest") for p in correlation.get("peers", [])}
        flagged = [p["peer"] for p in correlation.get("peers", []) if p.get("flagged")]
        if flagged:
            out["correlation_flagged"] = flagged
    if session:
        out["session"] = _pick(session, ("market_open", "open_sessions", "overlaps"))
    if blackout:
        out["blackout"] = _pick(
            blackout, ("in_blackout", "synthetic", "reason", "minutes_to_next_event")
        )
    if mtf:
        out["multi_timeframe"] = {
            t["timeframe"]: t.get("score") for t in mtf.get("timeframes", []) if t.get("available")
        }
    if full.get("sentiment"):
        out["sentiment"] = full["sentiment"]
    for key in ("headlines", "notice", "data_gaps", "notes"):
        if full.get(key):
            out[key] = full[key]
    out["form"] = "summary: detail=true gives every analyzer's full output"
    return out

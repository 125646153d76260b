"""How tool results travel: the JSON once, compact, as structured content, beside one short
line of text; floats rounded, prices to their instrument's tick.

FastMCP would send a dict result twice (indented JSON text and the structured content) with
every float at 17 digits. ``DeskMCP`` sends ``CallToolResult(content=[summary],
structuredContent=payload)`` instead, so a client (and the model behind it) reads each number
once, as the desk would print it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult, TextContent

from tradecrew.mcp_server.schemas import UNTRUSTED_FIELDS
from tradecrew.text import one_line

# Keys whose floats are prices of the enclosing record's symbol (rounded to its tick).
PRICE_KEYS = frozenset(
    {
        "price",
        "bid",
        "ask",
        "last",
        "mid",
        "open",
        "high",
        "low",
        "close",
        "stop_loss",
        "take_profit",
        "atr",
        "vwap",
    }
)
_SUMMARY_SCALARS = 8
_SUMMARY_TEXT = 60


def _is_price(key: str) -> bool:
    return key in PRICE_KEYS or key.endswith("_price")


def _number(value: float) -> float:
    """Six significant digits, and never more than two decimals above 100 (money, notional,
    volume): 0.8670145651914213 -> 0.867015, 95521.0482356086 -> 95521.05."""
    if not math.isfinite(value) or value == 0:
        return value
    if abs(value) >= 100:
        return round(value, 2)
    return float(f"{value:.6g}")


def round_result(payload: Any, symbol: str | None = None, key: str = "") -> Any:
    """``payload`` with its floats rounded: prices to the tick of the nearest ``symbol``
    above them, everything else to six significant digits."""
    from tradecrew.prices import round_price

    if isinstance(payload, bool) or payload is None:
        return payload
    if isinstance(payload, float):
        return round_price(payload, symbol) if _is_price(key) else _number(payload)
    if isinstance(payload, dict):
        own = payload.get("symbol")
        here = own if isinstance(own, str) else symbol
        return {k: round_result(v, here, str(k)) for k, v in payload.items()}
    if isinstance(payload, list | tuple):
        return [round_result(v, symbol, key) for v in payload]
    return payload


def summary_line(name: str, payload: dict[str, Any]) -> str:
    """One line naming the tool and the result's headline fields; the data itself is the
    structured content."""
    parts: list[str] = []
    for key, value in payload.items():
        if len(parts) >= _SUMMARY_SCALARS:
            break
        if key in UNTRUSTED_FIELDS:
            continue  # text from outside the desk stays inside its wrapper
        short_text = isinstance(value, str) and len(value) <= _SUMMARY_TEXT
        if short_text or value is None or isinstance(value, bool | int | float):
            parts.append(one_line(f"{key}={value}", 2 * _SUMMARY_TEXT))
        elif isinstance(value, list):
            parts.append(f"{key}: {len(value)} item(s)")
        elif isinstance(value, dict) and "untrusted_text" not in value:
            heads = [
                f"{k}={v}"
                for k, v in value.items()
                if k not in UNTRUSTED_FIELDS and isinstance(v, bool | int | float | str)
            ][:3]
            parts.append(one_line(f"{key}: " + (" ".join(heads) or f"{len(value)} field(s)"), 120))
    return f"{name}: " + ", ".join(parts) + " (the full result is the structured content)"


def shaped(name: str, structured: dict[str, Any]) -> CallToolResult:
    """The structured result rounded, with a one-line text summary."""
    payload = round_result(structured)
    return CallToolResult(
        content=[TextContent(type="text", text=summary_line(name, payload))],
        structuredContent=payload,
    )


class DeskMCP(FastMCP):
    """FastMCP whose dict results go out once, compact and rounded (see the module)."""

    async def call_tool(  # type: ignore[override]
        self, name: str, arguments: dict[str, Any]
    ) -> Sequence[Any] | dict[str, Any] | CallToolResult:
        result = await super().call_tool(name, arguments)
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
            return shaped(name, result[1])
        if isinstance(result, dict):
            return shaped(name, result)
        return result

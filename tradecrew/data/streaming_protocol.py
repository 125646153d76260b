"""Alpaca's market-data stream protocol: URLs, frames, the auth and subscribe handshake.

The same wire protocol alpaca-py's ``StockDataStream`` and ``CryptoDataStream`` speak:
the server greets with ``[{"T": "success", "msg": "connected"}]``, the client sends
``{"action": "auth", "key", "secret"}`` and gets ``authenticated`` (or ``{"T": "error",
"code", "msg"}``), then ``{"action": "subscribe", "quotes": [...], "trades": [...]}`` is
acknowledged by a ``subscription`` frame, and data arrives as lists of ``{"T": "q"|"t", "S":
symbol, ...}``. Frames are msgpack (binary, asked for with ``Content-Type:
application/msgpack``, as alpaca-py does) or JSON (text); both are read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import msgpack  # type: ignore[import-untyped]

from tradecrew.data.alpaca_transport import public_url
from tradecrew.data.base import DataError
from tradecrew.models import Quote
from tradecrew.net import is_loopback

DEFAULT_STREAM_URL = "wss://stream.data.alpaca.markets"
# Errors that another attempt cannot fix (alpaca's documented stream error codes).
FATAL_CODES = frozenset({401, 402, 404, 409})


class StreamError(DataError):
    """The stream refused us (bad keys, no subscription) or broke its protocol."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


def stream_url(
    base: str = DEFAULT_STREAM_URL,
    market: Literal["stocks", "crypto"] = "stocks",
    feed: str = "iex",
) -> str:
    """The endpoint alpaca-py would open for ``market`` (its ``url_override`` is the full
    URL; ``base`` here is its root): ``/v2/{feed}`` for stocks, ``/v1beta3/crypto/us`` for
    crypto. Plain ``ws://`` only to this machine: the auth frame carries the keys."""
    parts = urlsplit(base.strip())
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise DataError(f"the alpaca stream URL must be ws(s)://host..., got {public_url(base)!r}")
    if parts.scheme == "ws" and not is_loopback(parts.hostname):
        raise DataError(f"refusing to send Alpaca keys over plain ws to {parts.hostname}; use wss")
    root = base.strip().rstrip("/")
    if parts.path.strip("/"):  # a full endpoint already (alpaca-py's url_override)
        return root
    return f"{root}/v1beta3/crypto/us" if market == "crypto" else f"{root}/v2/{feed}"


def is_loopback_url(url: str) -> bool:
    return is_loopback(urlsplit(url).hostname)


def decode(frame: bytes | str) -> list[dict[str, Any]]:
    """The messages of one frame (a list of objects); StreamError when it is not one."""
    try:
        data = (
            json.loads(frame)
            if isinstance(frame, str)
            else msgpack.unpackb(frame, timestamp=3, strict_map_key=False)
        )
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise StreamError(f"malformed stream frame ({type(exc).__name__})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(m, dict) for m in data):
        raise StreamError("malformed stream frame (expected a list of objects)")
    return data


def encode(message: dict[str, Any], binary: bool) -> bytes | str:
    return msgpack.packb(message) if binary else json.dumps(message)


def _control(messages: list[dict[str, Any]], expected: str) -> None:
    first = messages[0] if messages else {}
    kind, text = first.get("T"), str(first.get("msg", ""))[:120]
    if kind == "error":
        code = first.get("code")
        fatal = isinstance(code, int) and code in FATAL_CODES
        raise StreamError(f"stream refused: {code} {text}".strip(), fatal=fatal)
    if kind != "success" or text != expected:
        raise StreamError(f"stream protocol: expected {expected!r}, got {kind!r}")


def handshake(ws: Any, key: str, secret: str, symbols: list[str], binary: bool) -> None:
    """Greeting, auth and subscription on an open connection ``ws`` (websockets' sync
    client); StreamError (fatal for bad keys or a missing subscription) when refused."""
    _control(decode(ws.recv(timeout=10)), "connected")
    ws.send(encode({"action": "auth", "key": key, "secret": secret}, binary))
    _control(decode(ws.recv(timeout=10)), "authenticated")
    ws.send(encode({"action": "subscribe", "quotes": symbols, "trades": symbols}, binary))
    for _ in range(5):  # quotes may race the acknowledgement; they are read later anyway
        messages = decode(ws.recv(timeout=10))
        for msg in messages:
            if msg.get("T") == "error":
                _control([msg], "subscribed")
        if any(m.get("T") == "subscription" for m in messages):
            return
    raise StreamError("stream protocol: no subscription acknowledgement")


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, msgpack.Timestamp):
        return value.to_datetime()
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        # RFC 3339 with nanoseconds: Python reads at most microseconds.
        if "." in text:
            head, _, rest = text.partition(".")
            digits = "".join(c for c in rest if c.isdigit())
            text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _price(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if number > 0 and number == number and number != float("inf") else None


def apply(msg: dict[str, Any], previous: Quote | None, source: str) -> Quote | None:
    """The symbol's quote after market-data message ``msg`` (a quote updates bid/ask, a
    trade updates last); None when the message is not usable market data."""
    kind, symbol, when = msg.get("T"), msg.get("S"), _time(msg.get("t"))
    if not isinstance(symbol, str) or not symbol or when is None:
        return None
    if kind == "q":
        bid, ask = _price(msg.get("bp")), _price(msg.get("ap"))
        if bid is None or ask is None or ask < bid:
            return None
        last = previous.last if previous is not None else (bid + ask) / 2.0
        return Quote(symbol=symbol, bid=bid, ask=ask, last=last, timestamp=when, source=source)
    if kind == "t":
        price = _price(msg.get("p"))
        if price is None:
            return None
        bid = previous.bid if previous is not None else price
        ask = previous.ask if previous is not None else price
        return Quote(symbol=symbol, bid=bid, ask=ask, last=price, timestamp=when, source=source)
    return None

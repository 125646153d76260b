"""A small Alpaca market-data server on 127.0.0.1 for tests, with fault injection.

It speaks the shapes alpaca-py reads: multi-symbol bars (``/v2/stocks/bars``,
``/v1beta3/crypto/us/bars``) with ``next_page_token`` pagination where ``limit`` counts bars
across all symbols of a page, and snapshots (``/v2/stocks/snapshots`` keyed by symbol at the
top level, ``/v1beta3/crypto/us/snapshots`` under ``snapshots``). Stocks need the keys;
crypto answers without them, as Alpaca's does. It can be told to fail the next requests
(429 with Retry-After, 5xx), to stall past the client's timeout, or to answer with a
malformed body.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.http import LoopbackServer, QuietHandler

STOCK_BARS = "/v2/stocks/bars"
CRYPTO_BARS = "/v1beta3/crypto/us/bars"
STOCK_SNAPSHOTS = "/v2/stocks/snapshots"
CRYPTO_SNAPSHOTS = "/v1beta3/crypto/us/snapshots"


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def daily_bars(
    n: int, last_day: datetime, start_price: float = 100.0, hour: int = 5, step: float = 0.5
) -> list[dict[str, Any]]:
    """``n`` weekday bars ending at ``last_day``, stamped at ``hour``:00 UTC as Alpaca does
    (05:00 is New York midnight in winter), with a deterministic zig-zag drift."""
    days: list[datetime] = []
    day = last_day.replace(hour=hour, minute=0, second=0, microsecond=0, tzinfo=UTC)
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    days.reverse()
    out, price = [], start_price
    for i, d in enumerate(days):
        o = price
        c = round(o + step * (1 if i % 3 else -1.5), 4)
        out.append(
            {
                "t": iso(d),
                "o": o,
                "h": round(max(o, c) + 0.4, 4),
                "l": round(min(o, c) - 0.4, 4),
                "c": c,
                "v": 1_000_000 + 1000 * i,
                "n": 5000 + i,
                "vw": round((o + c) / 2, 4),
            }
        )
        price = c
    return out


@dataclass
class Fault:
    """Applies to the next ``count`` requests whose path starts with ``path``."""

    count: int
    status: int = 500
    body: bytes | None = None
    headers: dict[str, str] | None = None
    path: str | None = None
    delay: float = 0.0  # seconds before answering (past the client's timeout)


class FakeAlpacaData(LoopbackServer):
    """The market's state plus the HTTP server in a daemon thread."""

    def __init__(
        self, api_key: str = "test-key", secret_key: str = "test-secret", page_size: int = 10_000
    ) -> None:
        self.api_key, self.secret_key = api_key, secret_key
        self.page_size = page_size
        # (Alpaca symbol, Alpaca timeframe such as "1Day") -> bars, oldest first
        self.bars: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.snapshots: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.log: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.RLock()
        self.serve(_handler(self))

    # ------------------------------------------------------------------ knobs

    def fail_next(
        self,
        n: int,
        status: int = 500,
        *,
        retry_after: str | None = None,
        path: str | None = None,
    ) -> None:
        body = json.dumps({"code": status * 100_000 + 10, "message": f"injected {status}"})
        headers = {"Retry-After": retry_after} if retry_after is not None else None
        self.faults.append(Fault(n, status, body.encode(), headers, path))

    def stall_next(self, n: int, seconds: float) -> None:
        """Answer the next ``n`` requests with a 500 only after ``seconds``."""
        self.faults.append(Fault(n, 500, b"{}", None, None, delay=seconds))

    def answer_next(self, body: bytes, status: int = 200, path: str | None = None) -> None:
        """Answer the next matching request with exactly ``body`` (malformed payloads)."""
        self.faults.append(Fault(1, status, body, None, path))

    def requests_to(self, prefix: str) -> list[dict[str, str]]:
        return [q for p, q in self.log if p.startswith(prefix)]

    def set_quote(self, symbol: str, bid: float, ask: float, last: float) -> None:
        now = iso(datetime.now(UTC))
        self.snapshots[symbol] = {
            "latestTrade": {"t": now, "x": "V", "p": last, "s": 100, "c": ["@"], "i": 1, "z": "C"},
            "latestQuote": {
                "t": now,
                "ax": "V",
                "ap": ask,
                "as": 3,
                "bx": "V",
                "bp": bid,
                "bs": 2,
                "c": ["R"],
                "z": "C",
            },
            "minuteBar": {"t": now, "o": last, "h": last, "l": last, "c": last, "v": 10},
            "dailyBar": {"t": now, "o": last, "h": last, "l": last, "c": last, "v": 1000},
            "prevDailyBar": {"t": now, "o": last, "h": last, "l": last, "c": last, "v": 900},
        }

    # ------------------------------------------------------------------ dispatch

    def handle(self, raw_path: str, headers: Any) -> tuple[int, bytes, dict[str, str], float]:
        url = urlparse(raw_path)
        path = url.path
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.lock:
            refused = self.admit(path, query, headers, keyless=path.startswith("/v1beta3/crypto/"))
            if refused is not None:
                return refused
            if path in (STOCK_BARS, CRYPTO_BARS):
                return 200, json.dumps(self._bars(query)).encode(), {}, 0.0
            if path in (STOCK_SNAPSHOTS, CRYPTO_SNAPSHOTS):
                symbols = [s for s in query.get("symbols", "").split(",") if s]
                found = {s: self.snapshots[s] for s in symbols if s in self.snapshots}
                payload = found if path == STOCK_SNAPSHOTS else {"snapshots": found}
                return 200, json.dumps(payload).encode(), {}, 0.0
            body = json.dumps({"code": 40410000, "message": "endpoint not found"}).encode()
            return 404, body, {}, 0.0

    def admit(
        self, path: str, query: dict[str, str], headers: Any, *, keyless: bool = False
    ) -> tuple[int, bytes, dict[str, str], float] | None:
        """Log the request (under ``self.lock``); the answer of a pending fault for ``path``,
        else a 401 for wrong keys (no keys at all pass when ``keyless``), else None."""
        self.log.append((path, query))
        fault = next((f for f in self.faults if f.path is None or path.startswith(f.path)), None)
        if fault is not None:
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
            return fault.status, fault.body or b"", fault.headers or {}, fault.delay
        keys = (headers.get("APCA-API-KEY-ID"), headers.get("APCA-API-SECRET-KEY"))
        if keys != (self.api_key, self.secret_key) and not (keyless and keys == (None, None)):
            # Echo what was sent, as a careless server might: the client must not repeat it.
            msg = f"request is not authorized (key {keys[0]}, secret {keys[1]})"
            return 401, json.dumps({"code": 40110000, "message": msg}).encode(), {}, 0.0
        return None

    def _bars(self, query: dict[str, str]) -> dict[str, Any]:
        symbols = [s for s in query.get("symbols", "").split(",") if s]
        tf = query.get("timeframe", "")
        start = _parse(query.get("start"))
        end = _parse(query.get("end"))
        items: list[tuple[str, dict[str, Any]]] = []
        for sym in sorted(symbols):
            for bar in self.bars.get((sym, tf), []):
                t = _parse(bar["t"])
                if (start is None or t >= start) and (end is None or t <= end):
                    items.append((sym, bar))
        offset = int(base64.b64decode(query["page_token"])) if query.get("page_token") else 0
        limit = min(int(query.get("limit") or self.page_size), self.page_size)
        page = items[offset : offset + limit]
        out: dict[str, list[dict[str, Any]]] = {}
        for sym, bar in page:
            out.setdefault(sym, []).append(bar)
        more = offset + limit < len(items)
        token = base64.b64encode(str(offset + limit).encode()).decode() if more else None
        return {"bars": out, "next_page_token": token}


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _handler(app: FakeAlpacaData) -> type[QuietHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real service

        def do_GET(self) -> None:
            status, data, headers, delay = app.handle(self.path, self.headers)
            if delay:
                time.sleep(delay)
            self.reply(status, data, {"Content-Type": "application/json", **headers})

    return Handler

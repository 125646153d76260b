"""A small Alpaca v2 REST server on 127.0.0.1 for tests, with fault injection.

It speaks the shapes alpaca-py parses (account, orders, positions, FILL activities, latest
stock and crypto quotes), fills market orders at the quote, and can be told to fail the next
requests (500/429/504/503), to delay a response after doing the work (the "order placed but
response lost" case), or to reject with Alpaca's ``{"code", "message"}`` error body.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.http import LoopbackServer, QuietHandler


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Fault:
    """Applies to the next ``count`` requests matching method and path prefix."""

    method: str | None
    path: str | None
    count: int
    status: int = 500
    body: dict[str, Any] = field(default_factory=lambda: {"code": 50010000, "message": "boom"})
    delay: float = 0.0
    process: bool = False  # do the work anyway before answering (lost response)

    def matches(self, method: str, path: str) -> bool:
        return (self.method in (None, method)) and (self.path is None or path == self.path)


class FakeAlpaca(LoopbackServer):
    """The venue's state plus the HTTP server in a daemon thread."""

    def __init__(self, api_key: str = "test-key", secret_key: str = "test-secret") -> None:
        self.api_key, self.secret_key = api_key, secret_key
        self.orders: dict[str, dict[str, Any]] = {}
        self.positions: dict[str, dict[str, Any]] = {}
        self.activities: list[dict[str, Any]] = []
        self.quotes: dict[str, tuple[float, float]] = {"AAPL": (189.9, 190.1)}
        self.cash = 100_000.0
        self.account_number = "PA3FAKE"  # Alpaca's paper accounts start with "PA"
        self.quote_age = 0.0  # seconds: how old the latest quotes it serves are
        self.assets: list[dict[str, Any]] = [_asset("AAPL", "Apple Inc. Common Stock")]
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str]] = []
        self.lock = threading.RLock()
        self.serve(_handler(self))

    # ------------------------------------------------------------------ knobs

    def fail_next(
        self,
        n: int,
        status: int = 500,
        method: str | None = None,
        path: str | None = None,
        process: bool = False,
    ) -> None:
        body = {"code": status * 100_000 + 10, "message": f"injected {status}"}
        self.faults.append(Fault(method, path, n, status, body, process=process))

    def delay_next(self, seconds: float, method: str = "POST", path: str = "/v2/orders") -> None:
        """Do the work, then answer only after ``seconds`` (past the client's timeout)."""
        self.faults.append(Fault(method, path, 1, 0, {}, delay=seconds, process=True))

    def reject_next(
        self, status: int, code: int, message: str, method: str = "POST", path: str = "/v2/orders"
    ) -> None:
        self.faults.append(Fault(method, path, 1, status, {"code": code, "message": message}))

    def order_posts(self) -> int:
        return sum(1 for m, p in self.log if (m, p) == ("POST", "/v2/orders"))

    # ------------------------------------------------------------------ dispatch

    def handle(
        self, method: str, raw_path: str, headers: Any, body: bytes
    ) -> tuple[int, Any, float]:
        url = urlparse(raw_path)
        path, query = url.path, {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.lock:
            self.log.append((method, path))
            if (headers.get("APCA-API-KEY-ID"), headers.get("APCA-API-SECRET-KEY")) != (
                self.api_key,
                self.secret_key,
            ):
                return 401, {"code": 40110000, "message": "request is not authorized"}, 0.0
            fault = next((f for f in self.faults if f.matches(method, path)), None)
            if fault is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                if not fault.process:
                    return fault.status, fault.body, fault.delay
            payload = json.loads(body) if body else None
            status, result = self._route(method, path, query, payload)
            if fault is not None and fault.status:
                return fault.status, fault.body, fault.delay
            return status, result, fault.delay if fault is not None else 0.0

    def _route(
        self, method: str, path: str, query: dict[str, str], payload: Any
    ) -> tuple[int, Any]:
        if (method, path) == ("GET", "/v2/account"):
            return 200, self._account()
        if (method, path) == ("GET", "/v2/positions"):
            return 200, list(self.positions.values())
        if (method, path) == ("POST", "/v2/orders"):
            return self._create(payload)
        if (method, path) == ("GET", "/v2/orders"):
            status = query.get("status", "open")
            found = [
                o
                for o in self.orders.values()
                if status == "all" or (status == "open") == (o["status"] in _OPEN)
            ]
            return 200, found
        if (method, path) == ("DELETE", "/v2/orders"):
            out = []
            for o in self.orders.values():
                if o["status"] in _OPEN:
                    o["status"] = "canceled"
                    out.append({"id": o["id"], "status": 200})
            return 207, out
        if (method, path) == ("GET", "/v2/orders:by_client_order_id"):
            cid = query.get("client_order_id")
            found = next((o for o in self.orders.values() if o["client_order_id"] == cid), None)
            return (200, found) if found else (404, {"code": 40410000, "message": "not found"})
        if path.startswith("/v2/orders/"):
            oid = path.rsplit("/", 1)[1]
            o = self.orders.get(oid)
            if o is None:
                return 404, {"code": 40410000, "message": "order not found"}
            if method == "GET":
                return 200, o
            if method == "DELETE":
                if o["status"] not in _OPEN:
                    return 422, {"code": 42210000, "message": "order is not cancelable"}
                o["status"] = "canceled"
                return 204, None
        if (method, path) == ("GET", "/v2/assets"):
            status = query.get("status")
            return 200, [a for a in self.assets if status in (None, a["status"])]
        if (method, path) == ("GET", "/v2/account/activities/FILL"):
            return 200, self.activities
        if (method, path) == ("GET", "/v2/stocks/quotes/latest"):
            return 200, {"quotes": self._quotes(query["symbols"])}
        if (method, path) == ("GET", "/v1beta3/crypto/us/latest/quotes"):
            return 200, {"quotes": self._quotes(query["symbols"])}
        return 404, {"code": 40400000, "message": f"no route {method} {path}"}

    def _create(self, req: dict[str, Any]) -> tuple[int, Any]:
        cid = req.get("client_order_id") or str(uuid.uuid4())
        if any(o["client_order_id"] == cid for o in self.orders.values()):
            return 422, {"code": 40010001, "message": "client_order_id must be unique"}
        symbol = req["symbol"]
        if symbol not in self.quotes:
            return 422, {"code": 40010001, "message": f"asset {symbol} not found"}
        legs = None
        if req.get("order_class") in ("bracket", "oto"):
            legs = []
            if "take_profit" in req:
                legs.append(
                    self._order(
                        cid + "-tp", symbol, req, "limit", limit=req["take_profit"]["limit_price"]
                    )
                )
            if "stop_loss" in req:
                legs.append(
                    self._order(
                        cid + "-sl", symbol, req, "stop", stop=req["stop_loss"]["stop_price"]
                    )
                )
        o = self._order(
            cid, symbol, req, req["type"], req.get("limit_price"), req.get("stop_price"), legs
        )
        self.orders[o["id"]] = o
        if req["type"] == "market":
            self._fill(o)
        return 200, o

    def _order(
        self,
        cid: str,
        symbol: str,
        req: dict[str, Any],
        kind: str,
        limit: Any = None,
        stop: Any = None,
        legs: Any = None,
    ) -> dict[str, Any]:
        now = _now()
        return {
            "id": str(uuid.uuid4()),
            "client_order_id": cid,
            "created_at": now,
            "updated_at": now,
            "submitted_at": now,
            "filled_at": None,
            "expired_at": None,
            "canceled_at": None,
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": str(uuid.uuid4()),
            "symbol": symbol,
            "asset_class": "crypto" if "/" in symbol else "us_equity",
            "notional": None,
            "qty": str(req["qty"]),
            "filled_qty": "0",
            "filled_avg_price": None,
            "order_class": req.get("order_class") or "simple",
            "order_type": kind,
            "type": kind,
            "side": req["side"],
            "time_in_force": req["time_in_force"],
            "limit_price": None if limit is None else str(limit),
            "stop_price": None if stop is None else str(stop),
            "status": "new",
            "extended_hours": False,
            "legs": legs,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }

    def _fill(self, o: dict[str, Any]) -> None:
        bid, ask = self.quotes[o["symbol"]]
        price, qty = (ask if o["side"] == "buy" else bid), float(o["qty"])
        o.update(
            status="filled", filled_qty=o["qty"], filled_avg_price=str(price), filled_at=_now()
        )
        sign = 1 if o["side"] == "buy" else -1
        self.cash -= sign * qty * price
        key = o["symbol"].replace("/", "")
        held = float(self.positions.get(key, {}).get("qty", 0)) + sign * qty
        self.positions[key] = {
            "asset_id": o["asset_id"],
            "symbol": key,
            "exchange": "NASDAQ",
            "asset_class": o["asset_class"],
            "avg_entry_price": str(price),
            "qty": str(held),
            "side": "long" if held >= 0 else "short",
            "market_value": str(held * price),
            "cost_basis": str(held * price),
            "unrealized_pl": "0",
            "current_price": str(price),
        }
        self.activities.append(
            {
                "id": f"{datetime.now(UTC):%Y%m%d%H%M%S%f}::{uuid.uuid4()}",
                "activity_type": "FILL",
                "transaction_time": _now(),
                "type": "fill",
                "price": str(price),
                "qty": o["qty"],
                "side": o["side"],
                "symbol": o["symbol"],
                "leaves_qty": "0",
                "order_id": o["id"],
                "cum_qty": o["qty"],
                "order_status": "filled",
            }
        )

    def _account(self) -> dict[str, Any]:
        value = sum(float(p["qty"]) * float(p["current_price"]) for p in self.positions.values())
        return {
            "id": "0d969814-40d6-4b2b-99ac-2e37427f1ad2",
            "account_number": self.account_number,
            "status": "ACTIVE",
            "currency": "USD",
            "cash": str(self.cash),
            "buying_power": str(2 * (self.cash + value)),
            "equity": str(self.cash + value),
            "last_equity": "100000",
            "portfolio_value": str(self.cash + value),
            "trading_blocked": False,
            "account_blocked": False,
        }

    def _quotes(self, symbols: str) -> dict[str, Any]:
        out = {}
        for s in symbols.split(","):
            if s in self.quotes:
                bid, ask = self.quotes[s]
                when = datetime.now(UTC) - timedelta(seconds=self.quote_age)
                out[s] = {
                    "t": when.isoformat().replace("+00:00", "Z"),
                    "bp": bid,
                    "bs": 3,
                    "ap": ask,
                    "as": 2,
                    "bx": "V",
                    "ax": "V",
                    "c": ["R"],
                    "z": "C",
                }
        return out


def _asset(symbol: str, name: str, **fields: Any) -> dict[str, Any]:
    """An asset record in the shape of Alpaca's ``GET /v2/assets`` (a US stock by default)."""
    record: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_OID, symbol)),
        "class": "us_equity",
        "exchange": "NASDAQ",
        "symbol": symbol,
        "name": name,
        "status": "active",
        "tradable": True,
        "marginable": True,
        "shortable": True,
        "easy_to_borrow": True,
        "fractionable": True,
        "attributes": [],
    }
    record.update(fields)
    return record


_OPEN = {"new", "accepted", "pending_new", "partially_filled", "held"}


def _handler(app: FakeAlpaca) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload, delay = app.handle(self.command, self.path, self.headers, body)
            if delay:
                time.sleep(delay)
            data = b"" if payload is None else json.dumps(payload).encode()
            # A client that gave up waiting: the work is done all the same.
            self.reply(status, data, {"Content-Type": "application/json"})

        do_GET = do_POST = do_DELETE = _serve

    return Handler

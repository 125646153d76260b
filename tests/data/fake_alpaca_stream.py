"""A small Alpaca market-data websocket on 127.0.0.1 for tests.

It speaks the stream protocol alpaca-py's ``StockDataStream`` does: a ``connected`` greeting,
``auth`` answered ``authenticated`` (or ``{"T": "error", "code": 402}`` for wrong keys), a
``subscribe`` acknowledged with a ``subscription`` frame, then quote (``q``) and trade (``t``)
messages. Frames are msgpack when the client asks for ``application/msgpack`` (alpaca-py
does), JSON otherwise. Each connection follows the next entry of ``plans``:
``"stream"`` sends a quote per symbol every ``interval`` until the client leaves;
``"drop:N"`` sends N rounds then cuts the connection; ``"quiet:N"`` sends N rounds then
stays connected and silent; ``"garbage"`` sends a frame that is not a message list;
``"reject"`` refuses the keys. The last plan repeats.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import msgpack
from websockets.sync.server import ServerConnection, serve

KEY, SECRET = "stream-key-id", "stream-secret-value"


class FakeAlpacaStream:
    def __init__(self, plans: list[str], *, interval: float = 0.02, price: float = 100.0) -> None:
        self.plans = list(plans)
        self.interval = interval
        self.price = price
        self.lock = threading.Lock()
        self.connections: list[float] = []  # monotonic open times
        self.closed: list[float] = []  # monotonic close times
        self.auth: list[dict[str, Any]] = []
        self.subscribed: list[dict[str, Any]] = []
        self.encodings: list[str] = []
        self._server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/v2/iex"

    def start(self) -> FakeAlpacaStream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    # ------------------------------------------------------------------ one connection

    def _handle(self, ws: ServerConnection) -> None:
        binary = ws.request is not None and (
            ws.request.headers.get("Content-Type") == "application/msgpack"
        )
        with self.lock:
            index = len(self.connections)
            self.connections.append(time.monotonic())
            self.encodings.append("msgpack" if binary else "json")
            plan = self.plans[min(index, len(self.plans) - 1)]

        def send(messages: list[dict[str, Any]]) -> None:
            ws.send(msgpack.packb(messages) if binary else json.dumps(messages))

        def recv() -> dict[str, Any]:
            frame = ws.recv(timeout=5)
            return msgpack.unpackb(frame) if isinstance(frame, bytes) else json.loads(frame)

        try:
            send([{"T": "success", "msg": "connected"}])
            auth = recv()
            with self.lock:
                self.auth.append(auth)
            if plan == "reject" or (auth.get("key"), auth.get("secret")) != (KEY, SECRET):
                send([{"T": "error", "code": 402, "msg": "auth failed"}])
                ws.close()
                return
            send([{"T": "success", "msg": "authenticated"}])
            sub = recv()
            with self.lock:
                self.subscribed.append(sub)
            symbols = list(sub.get("quotes", []))
            send([{"T": "subscription", "trades": sub.get("trades", []), "quotes": symbols}])
            self._follow(plan, symbols, send, binary, ws)
        except Exception:  # the client went away: that ends this connection
            pass
        finally:
            with self.lock:
                self.closed.append(time.monotonic())

    def _follow(self, plan: str, symbols: list[str], send: Any, binary: bool, ws: Any) -> None:
        kind, _, count = plan.partition(":")
        rounds = int(count) if count else 10**9
        if kind == "garbage":
            ws.send(b"\xc1\xc1" if binary else "not json at all")
            ws.recv(timeout=5)
            return
        for i in range(rounds):
            messages = []
            for sym in symbols:
                self.price += 0.01
                stamp = datetime.now(UTC)
                t: Any = msgpack.Timestamp.from_datetime(stamp) if binary else stamp.isoformat()
                messages.append(
                    {"T": "q", "S": sym, "bp": self.price, "ap": self.price + 0.02, "t": t}
                )
                if i % 2:
                    messages.append({"T": "t", "S": sym, "p": self.price + 0.01, "t": t})
            send(messages)
            time.sleep(self.interval)
        if kind == "drop":
            ws.close()
            return
        # quiet (or a stream that ran out): connected, nothing sent, until the client leaves
        while True:
            ws.recv(timeout=30)

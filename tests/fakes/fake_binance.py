"""A stand-in for Binance's public spot REST API on 127.0.0.1, in its real shapes:
``/api/v3/exchangeInfo``, ``/api/v3/klines`` (arrays, ``startTime``/``limit`` paging, at most
1000 a page) and ``/api/v3/ticker/24hr``. ``faults`` scripts the next answers: ``429:N``
(with ``Retry-After: N``), ``500``, ``malformed`` (not JSON), ``empty`` (``[]``)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http import LoopbackServer, QuietHandler

DAY_MS = 86_400_000


def spot_symbol(base: str, quote: str) -> dict[str, Any]:
    """One ``symbols`` entry of exchangeInfo, with the filters ccxt reads."""
    return {
        "symbol": base + quote,
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "0.01000000",
                "maxPrice": "1000000.00000000",
                "tickSize": "0.01000000",
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": "0.00001000",
                "maxQty": "9000.00000000",
                "stepSize": "0.00001000",
            },
            {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def klines(n: int, last_open_ms: int, price: float, step_ms: int = DAY_MS) -> list[list[Any]]:
    """``n`` klines ending with the one opening at ``last_open_ms``, as Binance sends them."""
    out = []
    for i in range(n):
        t = last_open_ms - (n - 1 - i) * step_ms
        c = price + i * 10.0
        out.append(
            [t, f"{c - 5:.2f}", f"{c + 20:.2f}", f"{c - 20:.2f}", f"{c:.2f}", "12.5",
             t + step_ms - 1, f"{c * 12.5:.2f}", 100, "6.0", f"{c * 6:.2f}", "0"]
        )  # fmt: skip
    return out


class FakeBinance(LoopbackServer):
    def __init__(self) -> None:
        self.markets = [spot_symbol("BTC", "USDT"), spot_symbol("ETH", "USDT")]
        self.klines: dict[tuple[str, str], list[list[Any]]] = {}
        self.faults: list[str] = []
        self.log: list[tuple[str, dict[str, str]]] = []
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                fake.log.append((parts.path, query))
                fault = fake.faults.pop(0) if fake.faults else None
                if fault is not None and fault.startswith("429"):
                    body = {"code": -1003, "msg": "Too many requests; current limit is 6000."}
                    after = fault.partition(":")[2] or "0"
                    return self.send(429, body, {"Retry-After": after})
                if fault == "500":
                    return self.send(500, {"code": -1001, "msg": "Internal error."})
                if fault == "malformed":
                    return self.reply(200, b"<html>gateway</html>", {"Content-Type": "text/html"})
                if fault == "empty":
                    return self.send(200, [])
                if parts.path == "/api/v3/exchangeInfo":
                    return self.send(200, fake.exchange_info())
                if parts.path == "/api/v3/klines":
                    return self.send(*fake.page(query))
                if parts.path == "/api/v3/ticker/24hr":
                    return self.send(*fake.ticker(query))
                return self.send(404, {"code": -1, "msg": "not found"})

            def send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.reply(status, data, {"Content-Type": "application/json", **(headers or {})})

        self.serve(Handler)

    def requests(self, path: str) -> list[dict[str, str]]:
        return [q for p, q in self.log if p == path]

    def exchange_info(self) -> dict[str, Any]:
        return {
            "timezone": "UTC",
            "serverTime": int(time.time() * 1000),
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": self.markets,
        }

    def page(self, query: dict[str, str]) -> tuple[int, Any]:
        series = self.klines.get((query.get("symbol", ""), query.get("interval", "")))
        if series is None:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        start = int(query.get("startTime", 0))
        limit = min(int(query.get("limit", 500)), 1000)
        return 200, [k for k in series if k[0] >= start][:limit]

    def ticker(self, query: dict[str, str]) -> tuple[int, Any]:
        sym = query.get("symbol", "")
        series = self.klines.get((sym, "1d"))
        if not series:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        last = series[-1]
        close = float(last[4])
        return 200, {
            "symbol": sym,
            "priceChange": "10.00",
            "priceChangePercent": "0.01",
            "weightedAvgPrice": last[4],
            "prevClosePrice": f"{close - 10:.2f}",
            "lastPrice": last[4],
            "lastQty": "0.01",
            "bidPrice": f"{close - 0.01:.2f}",
            "bidQty": "1.0",
            "askPrice": f"{close + 0.01:.2f}",
            "askQty": "1.0",
            "openPrice": last[1],
            "highPrice": last[2],
            "lowPrice": last[3],
            "volume": last[5],
            "quoteVolume": last[7],
            "openTime": last[0],
            "closeTime": last[6],
            "firstId": 1,
            "lastId": 100,
            "count": 100,
        }

"""A fake ``MetaTrader5`` module: records every request, executes it against a tiny book,
and returns results with the real attribute names. Scripted outcomes model a lost reply
(executed, then TIMEOUT), a dropped bridge (nothing executed, None or an exception) and
plain rejections.
"""

from __future__ import annotations

import itertools
from collections import namedtuple
from typing import Any

AccountInfo = namedtuple(
    "AccountInfo", "login trade_mode balance equity margin_free currency profit"
)
SymbolInfo = namedtuple(
    "SymbolInfo", "name trade_contract_size volume_min volume_max volume_step filling_mode"
)
Tick = namedtuple("Tick", "time bid ask last volume time_msc")
OrderSendResult = namedtuple(
    "OrderSendResult", "retcode deal order volume price bid ask comment request_id request"
)
TradeOrder = namedtuple(
    "TradeOrder",
    "ticket time_setup type type_time state magic volume_initial volume_current price_open "
    "sl tp price_current price_stoplimit symbol comment",
)
TradeDeal = namedtuple(
    "TradeDeal",
    "ticket order time type entry magic volume price commission profit symbol comment",
)
TradePosition = namedtuple(
    "TradePosition",
    "ticket time type magic volume price_open sl tp price_current profit symbol comment",
)

SYMBOLS = {
    "XAUUSD": SymbolInfo("XAUUSD", 100.0, 0.01, 100.0, 0.01, 3),
    "EURUSD": SymbolInfo("EURUSD", 100_000.0, 0.01, 500.0, 0.01, 1),
    "GOLD.m": SymbolInfo("GOLD.m", 100.0, 0.01, 100.0, 0.01, 2),
}
TICKS = {"XAUUSD": (2300.0, 2300.5), "EURUSD": (1.0850, 1.0851), "GOLD.m": (2300.0, 2300.5)}


class FakeMT5:
    def __init__(self, trade_mode: int = 0) -> None:
        self.trade_mode = trade_mode
        self.requests: list[dict[str, Any]] = []
        self.script: list[str] = []
        self.open: dict[int, TradeOrder] = {}
        self.history: list[TradeOrder] = []
        self.deals: list[TradeDeal] = []
        self.positions: list[TradePosition] = []
        self.error = (1, "Success")
        self.down = False
        self._tickets = itertools.count(1000)
        self.init_kwargs: dict[str, Any] = {}

    # --------------------------------------------------------------- terminal api

    def initialize(self, **kwargs: Any) -> bool:
        self.init_kwargs = kwargs
        if self.down:
            self.error = (-10003, "IPC initialize failed, MetaTrader 5 x64 not found")
        return not self.down

    def last_error(self) -> tuple[int, str]:
        return self.error

    def account_info(self) -> AccountInfo | None:
        if self.down:
            return self._fail()
        return AccountInfo(555, self.trade_mode, 10_000.0, 10_050.0, 9_000.0, "USD", 50.0)

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        return SYMBOLS.get(symbol) if not self.down else self._fail()

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        if self.down or symbol not in TICKS:
            return self._fail()
        bid, ask = TICKS[symbol]
        return Tick(1_717_000_000, bid, ask, 0.0, 0, 1_717_000_000_000)

    def orders_get(self, **_: Any) -> tuple[TradeOrder, ...] | None:
        return tuple(self.open.values()) if not self.down else self._fail()

    def history_orders_get(self, date_from: Any, date_to: Any, **_: Any) -> Any:
        return tuple(self.history) if not self.down else self._fail()

    def history_deals_get(self, date_from: Any, date_to: Any, **_: Any) -> Any:
        return tuple(self.deals) if not self.down else self._fail()

    def positions_get(self, **_: Any) -> tuple[TradePosition, ...] | None:
        return tuple(self.positions) if not self.down else self._fail()

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        self.requests.append(dict(request))
        step = self.script.pop(0) if self.script else "ok"
        if step == "none":  # the terminal lost the server before sending
            self.error = (-10004, "No IPC connection")
            return None
        if step == "raise":
            raise EOFError("bridge connection closed")
        if step.startswith("retcode:"):
            return self._result(int(step.split(":")[1]), request, 0, 0, "rejected by server")
        result = self._execute(request)
        if step == "timeout_after":  # executed on the server, reply lost
            return result._replace(retcode=10012, comment="Request timed out")
        return result

    # --------------------------------------------------------------- the book

    def _execute(self, req: dict[str, Any]) -> OrderSendResult:
        if req["action"] == 8:  # TRADE_ACTION_REMOVE
            order = self.open.pop(req["order"], None)
            if order is None:
                return self._result(10013, req, 0, 0, "Invalid request")
            self.history.append(order._replace(state=2))
            return self._result(10009, req, 0, order.ticket, "Request executed")
        ticket = next(self._tickets)
        order = TradeOrder(
            ticket,
            1_717_000_000,
            req["type"],
            req["type_time"],
            1,
            req["magic"],
            req["volume"],
            req["volume"],
            req.get("price", 0.0),
            req.get("sl", 0.0),
            req.get("tp", 0.0),
            req.get("price", 0.0),
            req.get("stoplimit", 0.0),
            req["symbol"],
            req["comment"],
        )
        if req["action"] == 5:  # TRADE_ACTION_PENDING
            self.open[ticket] = order
            return self._result(10009, req, 0, ticket, "Request executed")
        self.history.append(order._replace(state=4, volume_current=0.0))
        deal = TradeDeal(
            ticket + 50_000,
            ticket,
            1_717_000_001,
            req["type"],
            0,
            req["magic"],
            req["volume"],
            req["price"],
            -0.7,
            0.0,
            req["symbol"],
            req["comment"],
        )
        self.deals.append(deal)
        sign = 1 if req["type"] == 0 else -1
        self.positions.append(
            TradePosition(
                ticket,
                1_717_000_001,
                req["type"],
                req["magic"],
                req["volume"],
                req["price"],
                0.0,
                0.0,
                req["price"] + sign * 1.0,
                sign * 1.0 * req["volume"] * 100,
                req["symbol"],
                req["comment"],
            )
        )
        return self._result(10009, req, deal.ticket, ticket, "Request executed")

    def _result(
        self, code: int, req: dict[str, Any], deal: int, order: int, comment: str
    ) -> OrderSendResult:
        done = code == 10009 and req.get("action") == 1
        return OrderSendResult(
            code,
            deal,
            order,
            req.get("volume", 0.0) if done else 0.0,
            req.get("price", 0.0) if done else 0.0,
            0.0,
            0.0,
            comment,
            1,
            req,
        )

    def _fail(self) -> None:
        self.error = (-10004, "No IPC connection")
        return None

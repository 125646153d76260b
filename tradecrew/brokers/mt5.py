"""MetaTrader 5 through the ``MetaTrader5`` module (Windows) or the mt5linux bridge.

The module object is injected (or loaded lazily), so tests drive the adapter with a fake.
Quantities are converted from units to lots with the symbol's contract size. MT5 has no
client order id, so the order ``comment`` carries a short deterministic id derived from
it; a placement whose outcome is unknown is looked up by that comment before any resend.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tradecrew.brokers.base import (
    BrokerError,
    BrokerUnavailable,
    NotSupported,
    OrderOutcomeUnknown,
    OrderRejected,
    UnknownOrder,
    place_idempotently,
    retry_reads,
)
from tradecrew.brokers.mt5_constants import (
    UNCERTAIN_RETCODES,
    DealType,
    Filling,
    Mt5OrderType,
    OrderState,
    OrderTime,
    PositionType,
    Retcode,
    TradeAction,
)
from tradecrew.brokers.mt5_mapping import KIND_OF, STATE_MAP, short_id
from tradecrew.brokers.mt5_mode import refuse_live_account, refuse_other_account
from tradecrew.brokers.mt5_requests import build_request, filling_for, to_lots
from tradecrew.config import Settings, get_settings
from tradecrew.data.mt5_terminal import Mt5TerminalError, load_module
from tradecrew.instruments import get_instrument, normalize_symbol
from tradecrew.models import (
    Account,
    AccountMode,
    Fill,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    TimeInForce,
    utcnow,
)
from tradecrew.text import one_line


class Mt5Broker:
    """A MetaTrader 5 terminal. Real (non-demo) accounts need ``broker.live_trading`` and
    ``live=True``; comments carry ``short_id(client_order_id)``, orders our ``magic``."""

    name = "mt5"

    def __init__(
        self,
        module: Any = None,
        *,
        settings: Settings | None = None,
        live: bool = False,
        host: str | None = None,
        port: int | None = None,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        magic: int = 7_340_001,
        deviation: int = 20,
        symbol_map: dict[str, str] | None = None,
        lookback_days: int = 7,
        read_attempts: int = 3,
        backoff: float = 0.5,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        cfg = (settings or get_settings()).broker
        if module is None:
            try:
                module = load_module(host or cfg.mt5_host, port or cfg.mt5_port)
            except Mt5TerminalError as exc:
                raise BrokerError(str(exc)) from None
        self._mt5 = module
        self.magic, self.deviation = magic, deviation
        self._symbols = dict(symbol_map or {})
        self._desk_symbols = {v: k for k, v in self._symbols.items()}
        self._lookback = timedelta(days=lookback_days)
        self._attempts, self._backoff, self._clock = read_attempts, backoff, clock
        self._client_ids: dict[str, str] = {}
        self._desk_ids: dict[str, str] = {}
        creds = {"login": login, "password": password, "server": server}
        if not module.initialize(**{k: v for k, v in creds.items() if v is not None}):
            raise BrokerUnavailable(f"MT5 initialize failed: {self._last_error()}")
        info = self._read(module.account_info)
        self._login = info.login
        self._mode = refuse_live_account(info, live and cfg.live_trading)

    @property
    def mode(self) -> AccountMode:
        return self._mode

    # ------------------------------------------------------------------ reads

    def account(self) -> Account:
        a = self._read(self._mt5.account_info)
        refuse_other_account(self._login, self._mode, a)
        return Account(
            account_id=str(a.login),
            broker=self.name,
            mode=self.mode,
            currency=a.currency,
            cash=float(a.balance),
            equity=float(a.equity),
            buying_power=float(a.margin_free),
        )

    def positions(self) -> list[Position]:
        """Net position per symbol (hedging accounts' tickets are summed)."""
        net: dict[str, tuple[float, float, float, float]] = {}
        for p in self._read(self._mt5.positions_get):
            symbol = self._desk_symbol(p.symbol)
            sign = 1.0 if PositionType(p.type) is PositionType.BUY else -1.0
            units = sign * p.volume * self._contract(p.symbol)
            q, cost, pnl, _ = net.get(symbol, (0.0, 0.0, 0.0, 0.0))
            net[symbol] = (q + units, cost + units * p.price_open, pnl + p.profit, p.price_current)
        return [
            Position(
                symbol=s, quantity=q, average_price=cost / q, market_price=mark, unrealized_pnl=pnl
            )
            for s, (q, cost, pnl, mark) in sorted(net.items())
            if abs(q) > 1e-12
        ]

    def orders(self, open_only: bool = False) -> list[Order]:
        found = [self._order(o) for o in self._read(self._mt5.orders_get)]
        if not open_only:
            start, end = self._window()
            hist = self._read(lambda: self._mt5.history_orders_get(start, end))
            found += [self._order(o) for o in hist]
        return found

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        return retry_reads(
            lambda: self._guard(lambda: self._lookup(client_order_id), allow_none=True),
            attempts=self._attempts,
            backoff=self._backoff,
        )

    def quote(self, symbol: str) -> Quote:
        tick = self._read(lambda: self._mt5.symbol_info_tick(self._broker_symbol(symbol)))
        return Quote(
            symbol=get_instrument(symbol).symbol,
            bid=float(tick.bid),
            ask=float(tick.ask),
            last=float(tick.last or (tick.bid + tick.ask) / 2),
            timestamp=datetime.fromtimestamp(tick.time, UTC),
            source="mt5",
        )

    def fills(self, since: datetime | None = None) -> list[Fill]:
        start, end = self._window()
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("since must be timezone-aware (UTC)")
            start = since
        out = []
        for d in self._read(lambda: self._mt5.history_deals_get(start, end)):
            if d.type not in (DealType.BUY, DealType.SELL) or d.volume <= 0:
                continue  # balance, credit and other non-trade deals
            cid = self._client_ids.get(d.comment[:16], d.comment or str(d.order))
            out.append(
                Fill(
                    order_id=self._desk_ids.get(cid, str(d.order)),
                    client_order_id=cid,
                    symbol=self._desk_symbol(d.symbol),
                    side=Side.BUY if DealType(d.type) is DealType.BUY else Side.SELL,
                    quantity=d.volume * self._contract(d.symbol),
                    price=float(d.price),
                    commission=-float(d.commission or 0.0),
                    timestamp=datetime.fromtimestamp(d.time, UTC),
                    broker_fill_id=str(d.ticket),
                )
            )
        return out

    # ------------------------------------------------------------------ orders

    def submit(self, order: Order) -> Order:
        """Send once; on TIMEOUT/CONNECTION or a lost result, look the comment up in open and
        historical orders and resend (same comment) only when the terminal has no trace."""
        cid, tag = order.client_order_id, short_id(order.client_order_id)
        refuse_other_account(self._login, self._mode, self._read(self._mt5.account_info))
        self._client_ids[tag] = cid
        self._desk_ids[cid] = order.id
        sym = self._broker_symbol(order.symbol)
        lots = self._lots(order, sym)

        def send() -> Order:
            request = self._request(order, sym, lots, tag)  # fresh price on every send
            try:
                result = self._mt5.order_send(request)
            except Exception as exc:  # the bridge dropped mid-request: outcome unknown
                raise OrderOutcomeUnknown(cid, f"{type(exc).__name__} in order_send") from None
            if result is None:
                raise OrderOutcomeUnknown(cid, f"order_send gave no result: {self._last_error()}")
            code = int(result.retcode)
            if code in UNCERTAIN_RETCODES:
                raise OrderOutcomeUnknown(cid, f"{Retcode(code).name} ({code})")
            if code not in (Retcode.DONE, Retcode.PLACED, Retcode.DONE_PARTIAL):
                name = Retcode(code).name if code in Retcode._value2member_map_ else "UNKNOWN"
                raise OrderRejected(f"{name} ({code}): {result.comment}", code=code)
            return self._placed(order, request, result)

        def lookup() -> Order | None:
            return self._guard(lambda: self._lookup(cid), allow_none=True)

        return place_idempotently(cid, send, lookup, backoff=self._backoff)

    def cancel(self, order_id: str) -> None:
        """Remove a pending order by ticket, client order id or the desk's order id."""
        ticket = order_id if order_id.isdigit() else None
        if ticket is None:
            cid = next((c for c, d in self._desk_ids.items() if d == order_id), order_id)
            found = self.get_order_by_client_id(cid)
            if found is None:
                raise UnknownOrder(f"MT5 has no order {order_id!r}")
            if found.status is not OrderStatus.ACCEPTED:
                raise OrderRejected(f"order is {found.status.value}; it cannot be cancelled")
            ticket = found.broker_order_id
        result = self._read(
            lambda: self._mt5.order_send(
                {"action": int(TradeAction.REMOVE), "order": int(ticket or 0)}
            )
        )
        if int(result.retcode) != Retcode.DONE:
            raise OrderRejected(
                f"cancel refused ({result.retcode}): {result.comment}", code=int(result.retcode)
            )

    def cancel_all(self, symbol: str | None = None) -> int:
        wanted = None if symbol is None else self._broker_symbol(symbol)
        tickets = [
            o.ticket
            for o in self._read(self._mt5.orders_get)
            if wanted is None or o.symbol == wanted
        ]
        for ticket in tickets:
            self.cancel(str(ticket))
        return len(tickets)

    # ------------------------------------------------------------------ internals

    def _request(self, order: Order, sym: str, lots: float, tag: str) -> dict[str, Any]:
        filling = self._filling(sym)
        tick = None
        if order.order_type is OrderType.MARKET:
            tick = self._read(lambda: self._mt5.symbol_info_tick(sym))
        return build_request(
            order,
            sym,
            lots,
            tag,
            magic=self.magic,
            deviation=self.deviation,
            filling=filling,
            tick=tick,
        )

    def _placed(self, order: Order, request: dict[str, Any], result: Any) -> Order:
        code, cs = int(result.retcode), self._contract(request["symbol"])
        status, filled, price = OrderStatus.ACCEPTED, 0.0, None
        if request["action"] == TradeAction.DEAL and code != Retcode.PLACED:
            filled, price = float(result.volume) * cs, float(result.price) or None
            status = OrderStatus.FILLED if code == Retcode.DONE else OrderStatus.PARTIALLY_FILLED
        return order.model_copy(
            update={
                "status": status,
                "filled_quantity": filled,
                "average_fill_price": price,
                "broker": self.name,
                "broker_order_id": str(result.order),
                "updated_at": utcnow(),
                "status_reason": f"mt5: {Retcode(code).name}",
            }
        )

    def _lookup(self, cid: str) -> Order | None:
        """Find the order by its comment tag; None only when the terminal answered and has no
        trace of it in open orders, order history or deals."""
        tag = short_id(cid)
        start, end = self._window()
        for getter in (
            lambda: self._mt5.orders_get(),
            lambda: self._mt5.history_orders_get(start, end),
        ):
            found = getter()
            if found is None:
                raise BrokerUnavailable(f"MT5 look-up failed: {self._last_error()}")
            for o in found:
                if (o.comment or "").startswith(tag):
                    return self._order(o)
        deals = self._mt5.history_deals_get(start, end)
        if deals is None:
            raise BrokerUnavailable(f"MT5 look-up failed: {self._last_error()}")
        if any((d.comment or "").startswith(tag) for d in deals):
            raise BrokerUnavailable(f"deal for {cid} found before its order; try again")
        return None

    def _order(self, o: Any) -> Order:
        kind = KIND_OF.get(Mt5OrderType(o.type))
        if kind is None:
            raise NotSupported(f"MT5 order type {o.type} has no desk equivalent")
        cs = self._contract(o.symbol)
        cid = self._client_ids.get((o.comment or "")[:16], o.comment or str(o.ticket))
        filled = (o.volume_initial - o.volume_current) * cs
        pending_price = float(o.price_open) or None
        return Order(
            id=self._desk_ids.get(cid, f"mt5_{o.ticket}"),
            client_order_id=cid,
            symbol=self._desk_symbol(o.symbol),
            side=Side.BUY if int(o.type) % 2 == 0 else Side.SELL,
            quantity=o.volume_initial * cs,
            order_type=kind,
            limit_price=pending_price
            if kind is OrderType.LIMIT
            else (float(o.price_stoplimit) if kind is OrderType.STOP_LIMIT else None),
            stop_price=pending_price if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None,
            stop_loss=float(o.sl) or None,
            take_profit=float(o.tp) or None,
            status=STATE_MAP[OrderState(o.state)],
            filled_quantity=filled,
            broker=self.name,
            broker_order_id=str(o.ticket),
            external=o.magic != self.magic,
            time_in_force=TimeInForce.DAY if o.type_time == OrderTime.DAY else TimeInForce.GTC,
        )

    def _lots(self, order: Order, sym: str) -> float:
        return to_lots(order, sym, self._read(lambda: self._mt5.symbol_info(sym)))

    def _filling(self, sym: str) -> Filling:
        return filling_for(self._read(lambda: self._mt5.symbol_info(sym)).filling_mode)

    def _contract(self, sym: str) -> float:
        return float(self._read(lambda: self._mt5.symbol_info(sym)).trade_contract_size)

    def _broker_symbol(self, symbol: str) -> str:
        desk = get_instrument(symbol).symbol
        return self._symbols.get(desk, desk)

    def _desk_symbol(self, sym: str) -> str:
        return self._desk_symbols.get(sym) or normalize_symbol(sym)

    def _window(self) -> tuple[datetime, datetime]:
        now = self._clock()
        return now - self._lookback, now + timedelta(days=1)  # servers run ahead of UTC

    def _read(self, fn: Callable[[], Any]) -> Any:
        return retry_reads(lambda: self._guard(fn), attempts=self._attempts, backoff=self._backoff)

    def _guard(self, fn: Callable[[], Any], allow_none: bool = False) -> Any:
        """One call with bridge failures and None results as BrokerUnavailable."""
        try:
            value = fn()
        except (ConnectionError, EOFError, TimeoutError, OSError) as exc:
            raise BrokerUnavailable(f"MT5 unreachable: {type(exc).__name__}") from None
        if value is None and not allow_none:
            raise BrokerUnavailable(f"MT5 call failed: {self._last_error()}")
        return value

    def _last_error(self) -> str:
        try:
            code, message = self._mt5.last_error()
            return one_line(f"{code} {message}", 300)  # the terminal's words: one plain line
        except Exception:
            return "no detail"

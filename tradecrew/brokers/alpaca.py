"""Alpaca (US equities and crypto) through alpaca-py, paper by default.

alpaca-py resends 429/504 responses for every method, order POSTs included, and sets no
HTTP timeout. This adapter turns both off: reads are retried here with backoff, and a
placement whose outcome is unknown is looked up by client order id before any resend.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from pydantic import SecretStr

from tradecrew.brokers.alpaca_mapping import (
    alpaca_model,
    from_alpaca_order,
    from_alpaca_symbol,
    is_crypto,
    looks_like_uuid,
    order_request,
    to_alpaca_symbol,
)
from tradecrew.brokers.alpaca_mode import (
    PAPER_URL,
    account_mode,
    endpoint_mode,
    refuse_live_endpoint,
    trading_endpoint,
)
from tradecrew.brokers.base import (
    BrokerError,
    BrokerUnavailable,
    LiveTradingRefused,
    OrderOutcomeUnknown,
    OrderRejected,
    UnknownOrder,
    place_idempotently,
    retry_reads,
)
from tradecrew.config import Settings, get_settings
from tradecrew.models import Account, AccountMode, Fill, Order, Position, Quote, Side
from tradecrew.text import redacted

# Re-exported for callers that import them from here.
__all__ = [
    "PAPER_URL",
    "AlpacaBroker",
    "endpoint_mode",
    "refuse_live_endpoint",
    "trading_endpoint",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


class _TimeoutSession(requests.Session):
    """alpaca-py passes no timeout; without one a lost response hangs placement forever."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, *args, **kwargs)


class AlpacaBroker:
    """Alpaca's trading API. Keys come from settings (``TRADECREW_BROKER__ALPACA_*``) or
    ``APCA_API_KEY_ID``/``APCA_API_SECRET_KEY``.

    The account mode comes from the endpoint used and from what the account reports, never
    from a flag: only the known paper endpoint with a paper account ("PA...") is paper.
    Anything live needs both ``broker.live_trading`` and ``live=True``, or the constructor
    refuses. ``live=True`` alone only picks the live endpoint when no URL is configured.
    """

    name = "alpaca"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        live: bool = False,
        api_key: str | SecretStr | None = None,
        secret_key: str | SecretStr | None = None,
        trading_url: str | None = None,
        data_url: str | None = None,
        timeout: float = 10.0,
        read_attempts: int = 4,
        backoff: float = 0.5,
    ) -> None:
        from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
        from alpaca.trading.client import TradingClient

        settings = settings or get_settings()
        cfg = settings.broker
        if live and not cfg.live_trading:
            raise BrokerError(
                "live trading is off: set TRADECREW_BROKER__LIVE_TRADING=true and pass live=True"
            )
        key = _secret(api_key) or _secret(cfg.alpaca_api_key) or os.environ.get("APCA_API_KEY_ID")
        secret = (
            _secret(secret_key)
            or _secret(cfg.alpaca_secret_key)
            or os.environ.get("APCA_API_SECRET_KEY")
        )
        if not key or not secret:
            raise BrokerError(
                "Alpaca keys missing: set TRADECREW_BROKER__ALPACA_API_KEY and "
                "TRADECREW_BROKER__ALPACA_SECRET_KEY (or APCA_API_KEY_ID/APCA_API_SECRET_KEY)"
            )
        self._secrets = (key, secret)
        self._attempts = read_attempts
        self._backoff = backoff
        self._opted_in = live and cfg.live_trading
        url = trading_endpoint(settings, live, trading_url)
        self._mode = refuse_live_endpoint(url, self._opted_in)
        self._trading = TradingClient(key, secret, url_override=url)
        self._stocks = StockHistoricalDataClient(key, secret, url_override=data_url)
        self._crypto = CryptoHistoricalDataClient(key, secret, url_override=data_url)
        for client in (self._trading, self._stocks, self._crypto):
            client._retry = 0  # no SDK-level resends: see the module docstring
            client._session = _TimeoutSession(timeout)
        self._desk_ids: dict[str, str] = {}
        self._client_ids: dict[str, str] = {}
        self._refused: str | None = None
        if self._mode is AccountMode.PAPER:
            # The paper endpoint must also serve a paper account; when it cannot be read now,
            # every later account read checks it again (see account()).
            try:
                number = alpaca_model(self._read(self._trading.get_account)).account_number
            except BrokerUnavailable as exc:
                log.warning("Alpaca account not readable at start (%s); checked on first read", exc)
            else:
                if account_mode(number) is AccountMode.LIVE:
                    if not self._opted_in:
                        raise LiveTradingRefused(f"Alpaca account {number} is a live account")
                    self._mode = AccountMode.LIVE

    def __repr__(self) -> str:
        return f"AlpacaBroker(mode={self.mode.value})"

    @property
    def mode(self) -> AccountMode:
        return self._mode

    # ------------------------------------------------------------------ reads

    def account(self) -> Account:
        a = alpaca_model(self._read(self._trading.get_account))
        if self._mode is AccountMode.PAPER and account_mode(a.account_number) is AccountMode.LIVE:
            # The desk fixed its approval rule from the mode at start, so a live account
            # found behind the paper endpoint later stops this adapter instead of changing it.
            self._mode = AccountMode.LIVE
            self._refused = f"Alpaca account {a.account_number} turned out to be a live account"
            raise LiveTradingRefused(self._refused, "restart the desk, with both live opt-ins")
        return Account(
            account_id=a.account_number,
            broker=self.name,
            mode=self.mode,
            currency=a.currency or "USD",
            cash=float(a.cash or 0),
            equity=float(a.equity or 0),
            buying_power=float(a.buying_power or 0),
            start_of_day_equity=float(a.last_equity) if a.last_equity else None,
        )

    def positions(self) -> list[Position]:
        out = []
        for p in alpaca_model(self._read(self._trading.get_all_positions)):
            sign = -1.0 if getattr(p.side, "value", p.side) == "short" else 1.0
            out.append(
                Position(
                    symbol=from_alpaca_symbol(p.symbol),
                    quantity=sign * abs(float(p.qty)),
                    average_price=float(p.avg_entry_price),
                    market_price=float(p.current_price) if p.current_price else None,
                    unrealized_pnl=float(p.unrealized_pl or 0),
                )
            )
        return out

    def orders(self, open_only: bool = False) -> list[Order]:
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        status = QueryOrderStatus.OPEN if open_only else QueryOrderStatus.ALL
        query = GetOrdersRequest(status=status, limit=500, nested=True)
        found = self._read(lambda: self._trading.get_orders(filter=query))
        return [self._order(o) for o in found]

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        try:
            found = self._read(lambda: self._trading.get_order_by_client_id(client_order_id))
        except UnknownOrder:
            return None
        return self._order(found)

    def quote(self, symbol: str) -> Quote:
        from alpaca.data.requests import CryptoLatestQuoteRequest, StockLatestQuoteRequest

        sym = to_alpaca_symbol(symbol)
        if is_crypto(sym):
            crypto_req = CryptoLatestQuoteRequest(symbol_or_symbols=sym)
            got = self._read(lambda: self._crypto.get_crypto_latest_quote(crypto_req))
        else:
            stock_req = StockLatestQuoteRequest(symbol_or_symbols=sym)
            got = self._read(lambda: self._stocks.get_stock_latest_quote(stock_req))
        if sym not in got:
            raise BrokerUnavailable(f"Alpaca returned no quote for {sym}")
        q = got[sym]
        bid, ask = float(q.bid_price), float(q.ask_price)
        return Quote(
            symbol=from_alpaca_symbol(sym),
            bid=bid,
            ask=ask,
            last=(bid + ask) / 2.0,
            timestamp=q.timestamp,
            source="alpaca",
        )

    def fills(self, since: datetime | None = None) -> list[Fill]:
        """Executions from Alpaca's FILL account activities, oldest first."""
        params: dict[str, Any] = {"direction": "asc", "page_size": 100}
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("since must be timezone-aware (UTC)")
            params["after"] = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        raw = self._read(lambda: self._trading.get("/account/activities/FILL", params)) or []
        out = []
        for a in raw:
            order_id = str(a["order_id"])
            client_id = self._client_ids.get(order_id) or self._client_id_of(order_id)
            out.append(
                Fill(
                    order_id=self._desk_ids.get(client_id, order_id),
                    client_order_id=client_id,
                    symbol=from_alpaca_symbol(a["symbol"]),
                    side=Side(a["side"]),
                    quantity=float(a["qty"]),
                    price=float(a["price"]),
                    timestamp=datetime.fromisoformat(a["transaction_time"].replace("Z", "+00:00")),
                    broker_fill_id=str(a["id"]),
                )
            )
        return out

    # ------------------------------------------------------------------ orders

    def submit(self, order: Order) -> Order:
        """Place once; on a timeout or 5xx look the client order id up first and resend (same
        id) only when Alpaca confirms it has no such order."""
        if self._refused:
            raise LiveTradingRefused(self._refused, "restart the desk, with both live opt-ins")
        request = order_request(order)  # NotSupported before anything is sent
        cid = order.client_order_id
        self._desk_ids[cid] = order.id

        def send() -> Order:
            try:
                placed = self._trading.submit_order(request)
            except Exception as exc:
                duplicate = self._placement_error(cid, exc)
                if not duplicate:
                    raise
                found = self.get_order_by_client_id(cid)
                if found is None:
                    raise OrderOutcomeUnknown(cid, "duplicate id reported yet not found") from None
                return found
            return self._order(placed)

        return place_idempotently(
            cid, send, lambda: self._lookup_strict(cid), backoff=self._backoff
        )

    def cancel(self, order_id: str) -> None:
        """Cancel by Alpaca order id, client order id or the desk's order id."""
        target = order_id
        if order_id in self._desk_ids.values():
            order_id = next(c for c, d in self._desk_ids.items() if d == order_id)
        if not looks_like_uuid(order_id):
            found = self.get_order_by_client_id(order_id)
            if found is None:
                raise UnknownOrder(f"Alpaca has no order {target!r}")
            order_id = found.broker_order_id or ""
        try:
            self._read(lambda: self._trading.cancel_order_by_id(order_id))
        except BrokerError as exc:
            if "not cancelable" in str(exc) or "422" in str(exc):
                raise OrderRejected(f"order {target} cannot be cancelled: {exc}") from None
            raise

    def cancel_all(self, symbol: str | None = None) -> int:
        if symbol is None:
            return len(self._read(self._trading.cancel_orders) or [])
        wanted = from_alpaca_symbol(to_alpaca_symbol(symbol))
        open_orders = [o for o in self.orders(open_only=True) if o.symbol == wanted]
        for o in open_orders:
            self.cancel(o.broker_order_id or o.client_order_id)
        return len(open_orders)

    # ------------------------------------------------------------------ internals

    def _order(self, obj: Any) -> Order:
        order = from_alpaca_order(obj, self._desk_ids.get(obj.client_order_id))
        self._client_ids[str(obj.id)] = obj.client_order_id
        return order

    def _client_id_of(self, order_id: str) -> str:
        found = alpaca_model(self._read(lambda: self._trading.get_order_by_id(order_id)))
        self._client_ids[order_id] = found.client_order_id
        return found.client_order_id

    def _lookup_strict(self, cid: str) -> Order | None:
        """None only on Alpaca's 404 for the id; any other failure propagates."""
        try:
            return self._order(self._call(lambda: self._trading.get_order_by_client_id(cid)))
        except UnknownOrder:
            return None

    def _read(self, fn: Callable[[], T]) -> T:
        return retry_reads(lambda: self._call(fn), attempts=self._attempts, backoff=self._backoff)

    def _call(self, fn: Callable[[], T]) -> T:
        from alpaca.common.exceptions import APIError

        if self._refused:
            raise LiveTradingRefused(self._refused, "restart the desk, with both live opt-ins")
        try:
            return fn()
        except APIError as exc:
            status, message = exc.status_code, self._message(exc)
            if status == 429 or (status or 0) >= 500:
                raise BrokerUnavailable(f"Alpaca {status}: {message}") from None
            if status == 404:
                raise UnknownOrder(f"Alpaca 404: {message}") from None
            raise BrokerError(f"Alpaca {status}: {message}") from None
        except requests.RequestException as exc:
            raise BrokerUnavailable(f"Alpaca unreachable: {type(exc).__name__}") from None

    def _placement_error(self, cid: str, exc: Exception) -> bool:
        """Raise the typed error for a failed POST; True means 'duplicate client id'."""
        from alpaca.common.exceptions import APIError

        if isinstance(exc, APIError):
            status, message = exc.status_code or 0, self._message(exc)
            if status == 429 or status >= 500:
                raise OrderOutcomeUnknown(cid, f"Alpaca {status}: {message}") from None
            if status == 422 and "client_order_id" in message and "unique" in message:
                return True
            raise OrderRejected(message, code=_code(exc) or status) from None
        if isinstance(exc, requests.exceptions.ConnectTimeout) or _never_connected(exc):
            raise BrokerUnavailable(f"Alpaca unreachable: {type(exc).__name__}") from None
        if isinstance(exc, requests.RequestException):
            raise OrderOutcomeUnknown(cid, f"{type(exc).__name__} while placing") from None
        return False

    def _message(self, exc: Any) -> str:
        try:
            text = str(exc.message)
        except Exception:
            text = str(getattr(exc, "_error", ""))
        # The server's words reach terminals and logs: one line, no escapes, no keys, capped.
        return redacted(text, self._secrets, 300)


def _secret(value: str | SecretStr | None) -> str | None:
    if isinstance(value, SecretStr):
        return value.get_secret_value() or None
    return value or None


def _code(exc: Any) -> Any:
    try:
        return exc.code
    except Exception:
        return None


def _never_connected(exc: Exception) -> bool:
    """A refused connection means the request never left; anything later is uncertain."""
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    text = repr(exc.args[0]) if exc.args else ""
    return "NewConnectionError" in text or "Connection refused" in text

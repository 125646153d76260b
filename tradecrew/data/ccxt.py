"""``CcxtProvider``: public OHLCV and tickers of crypto exchanges through ccxt (extra ``ccxt``),
without keys: ``--source ccxt:binance`` (or ``data.ccxt_exchange``).

OHLCV is paged with ``since``/``limit`` until the exchange has nothing newer; each page is
retried on its own on 429 (waiting as long as ``Retry-After`` asks) and 5xx. The desk's
``BTCUSD`` reads the exchange's ``BTC/USD`` market, else ``BTC/USDT`` or ``BTC/USDC`` (many
exchanges list no dollar pair); ``SOL/USDT`` names a market directly.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from tradecrew.config import Settings, get_settings
from tradecrew.data.alpaca_transport import public_url
from tradecrew.data.base import DataError, SourceUnavailable, UnknownSymbolError
from tradecrew.data.live import CachedLiveProvider, canonical
from tradecrew.instruments import find_instrument, provided_instrument
from tradecrew.models import AssetClass, Quote, Timeframe
from tradecrew.text import one_line

PROVIDER = "ccxt"
_PAGE = 1000  # the most most exchanges' kline endpoints return in one answer
_MAX_PAGES = 200  # a server that keeps answering is stopped, not followed forever
_COIN = re.compile(r"^[A-Z0-9]{2,12}$")
_QUOTES = ("USDT", "USDC", "USD", "EUR", "BTC", "ETH")
_DOLLARS = ("USD", "USDT", "USDC")
_EXCHANGE = re.compile(r"^[a-z0-9_]{2,30}$")
INTERVALS = {tf: tf.value[1:] + tf.value[0].lower() for tf in Timeframe if tf.value[0] in "MH"}
INTERVALS[Timeframe.D1] = "1d"


def load_ccxt() -> Any:
    """The ccxt module (the import seam), or one line saying how to install it."""
    try:
        import ccxt
    except ImportError:
        raise SourceUnavailable(
            PROVIDER,
            "ccxt is not installed; run `uv sync --extra ccxt` or `pip install 'tradecrew[ccxt]'`",
        ) from None
    return ccxt


def desk_pair(symbol: str) -> tuple[str, str, str]:
    """Desk symbol, base and quote of a crypto pair (``BTCUSD``, ``bitcoin``, ``SOL/USDT``)."""
    text = str(symbol).strip().upper()
    inst = find_instrument(text)
    if inst is not None:
        if inst.asset_class is not AssetClass.CRYPTO:
            raise UnknownSymbolError(
                symbol,
                [],
                PROVIDER,
                detail=f"{inst.symbol} is not a crypto pair; ccxt serves "
                "crypto exchanges (BTCUSD, ETH/USDT)",
            )
        return inst.symbol, inst.base_currency, inst.quote_currency
    base, slash, quote = text.partition("/")
    if not slash:  # SOLUSDT: split at a known quote currency
        quote = next((q for q in _QUOTES if text.endswith(q) and len(text) > len(q) + 1), "")
        base = text[: -len(quote)] if quote else ""
    if not (_COIN.match(base) and _COIN.match(quote)):
        raise UnknownSymbolError(
            symbol, [], PROVIDER, detail="not a crypto pair (BTCUSD, ETH/USDT, SOL/USDC)"
        )
    return base + quote, base, quote


class CcxtProvider(CachedLiveProvider):
    """Bars and tickers from one crypto exchange's public API, cached on disk."""

    name = PROVIDER
    native = frozenset(INTERVALS)

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        exchange: str | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        cfg = settings or get_settings()
        self.exchange_id = (exchange or cfg.data.ccxt_exchange).strip().lower()
        if not _EXCHANGE.match(self.exchange_id):
            raise DataError(f"not a ccxt exchange id: {self.exchange_id[:40]!r} (binance, kraken)")
        self.url = url or cfg.data.ccxt_url
        super().__init__(cfg, cache_key=f"ccxt_{self.exchange_id}", **kwargs)
        self._ex: Any = None

    def __repr__(self) -> str:
        return f"CcxtProvider(exchange={self.exchange_id!r})"

    # ------------------------------------------------------------------ hooks

    def _resolve(self, symbol: str) -> tuple[str, str]:
        desk, base, quote = desk_pair(symbol)
        return desk, f"{base}/{quote}"

    def _registered(self, desk: str, native: str) -> None:
        if find_instrument(desk) is None:
            provided_instrument(native, AssetClass.CRYPTO, f"ccxt:{self.exchange_id}")

    def _fetch(
        self, natives: list[str], tf: Timeframe, since: pd.Timestamp
    ) -> dict[str, pd.DataFrame]:
        out: dict[str, pd.DataFrame] = {}
        for native in natives:
            market = self._market(native)
            if market is None:
                continue
            rows = self._pages(market, INTERVALS[tf], int(since.timestamp() * 1000))
            if rows:
                out[native] = self._frame(rows, native, tf)
            else:
                self._why[native] = f"{self.exchange_id} has no {tf.value} bars for {market}"
        return out

    def quote(self, symbol: str) -> Quote:
        """Bid, ask and last from the exchange's ticker (one request)."""
        desk, native = self._resolve(symbol)
        market = self._market(native)
        if market is None:
            raise UnknownSymbolError(symbol, [], PROVIDER, detail=self._why[native])
        t = self._call(lambda: self._exchange().fetch_ticker(market), symbol)
        try:
            last = float(t.get("last") or t.get("close") or 0.0)
            bid, ask = float(t.get("bid") or last), float(t.get("ask") or last)
            when = pd.Timestamp(int(t["timestamp"]), unit="ms", tz="UTC")
        except (AttributeError, KeyError, TypeError, ValueError):
            raise SourceUnavailable(PROVIDER, f"malformed ticker for {market}") from None
        if last <= 0 or not 0 < bid <= ask:
            raise SourceUnavailable(PROVIDER, f"the ticker for {market} holds no price")
        self._registered(desk, native)
        return Quote(
            symbol=desk,
            bid=bid,
            ask=ask,
            last=last,
            timestamp=when.to_pydatetime(),
            synthetic=False,
            source=PROVIDER,
        )

    # ------------------------------------------------------------------ exchange

    def _exchange(self) -> Any:
        if self._ex is not None:
            return self._ex
        ccxt = load_ccxt()
        cls = getattr(ccxt, self.exchange_id, None)
        if cls is None or self.exchange_id not in getattr(ccxt, "exchanges", []):
            raise DataError(f"ccxt knows no exchange {self.exchange_id!r}")
        ex = cls(
            {
                "enableRateLimit": True,
                "enableLastJsonResponse": True,  # tells a body that is not JSON from no bars
                "timeout": int(self._cfg.timeout_seconds * 1000),
                # Spot markets only: one public request, no derivatives endpoints.
                "options": {"fetchMarkets": {"types": ["spot"]}, "defaultType": "spot"},
            }
        )
        if self.url:
            ex.urls["api"] = _rehost(ex.urls["api"], self.url)
        self._ex = ex
        return ex

    def _market(self, native: str) -> str | None:
        """The exchange's market for a desk pair: BTC/USD, else BTC/USDT or BTC/USDC."""
        ex = self._exchange()
        markets = self._call(ex.load_markets)
        if not isinstance(markets, dict) or not markets:
            raise SourceUnavailable(
                PROVIDER, f"{self.exchange_id} listed no markets (an empty or malformed reply)"
            )
        base, _, quote = native.partition("/")
        tries = [native] + (
            [f"{base}/{q}" for q in _DOLLARS if q != quote] if quote == "USD" else []
        )
        for name in tries:
            if name in markets:
                return name
        self._why[native] = f"{self.exchange_id} lists no market {' or '.join(tries)}"
        return None

    def _pages(self, market: str, interval: str, since_ms: int) -> list[list[Any]]:
        ex = self._exchange()
        rows: list[list[Any]] = []
        for _ in range(_MAX_PAGES):
            page = self._call(
                lambda at=since_ms: ex.fetch_ohlcv(market, interval, since=at, limit=_PAGE), market
            )
            # ccxt reads a body that is not JSON as no candles; the raw reply tells them apart
            if not isinstance(page, list) or getattr(ex, "last_json_response", []) is None:
                raise SourceUnavailable(
                    PROVIDER, f"malformed OHLCV reply for {market} from {self.exchange_id}"
                )
            fresh = [r for r in page if isinstance(r, list) and r and r[0] >= since_ms]
            if not fresh:
                break
            rows.extend(fresh)
            if len(page) < _PAGE:
                break
            since_ms = int(fresh[-1][0]) + 1
        return rows

    def _frame(self, rows: list[list[Any]], market: str, tf: Timeframe) -> pd.DataFrame:
        try:
            frame = pd.DataFrame(
                [r[1:6] for r in rows],
                columns=["open", "high", "low", "close", "volume"],
                index=pd.to_datetime([int(r[0]) for r in rows], unit="ms", utc=True),
                dtype="float64",
            )
        except (IndexError, TypeError, ValueError):
            raise SourceUnavailable(PROVIDER, f"malformed OHLCV for {market}") from None
        return canonical(frame, f"{market} {tf.value}", PROVIDER, daily=tf is Timeframe.D1)

    def _call(self, fn: Any, symbol: str = "") -> Any:
        """One ccxt call with retries, its failures as one line naming ccxt and the exchange."""
        ccxt = load_ccxt()
        where = f"{self.exchange_id} ({public_url(self.url)})" if self.url else self.exchange_id

        def retryable(exc: BaseException) -> float | None:
            if isinstance(exc, ccxt.DDoSProtection):
                return _retry_after(self._ex) or 0.0
            if isinstance(exc, ccxt.OperationFailed):  # ccxt's "try again" family: 5xx, timeouts
                return 0.0
            return None

        try:
            return self._retry(fn, retryable)
        except ccxt.BadSymbol as exc:
            raise UnknownSymbolError(symbol, [], PROVIDER, detail=_text(exc)) from None
        except ccxt.DDoSProtection:  # RateLimitExceeded and a bare 429 alike
            raise SourceUnavailable(PROVIDER, f"rate limited (429) by {where}") from None
        except (ccxt.ExchangeNotAvailable, ccxt.RequestTimeout) as exc:
            raise SourceUnavailable(
                PROVIDER, f"{where} is unavailable ({type(exc).__name__})"
            ) from None
        except ccxt.AuthenticationError:
            raise SourceUnavailable(
                PROVIDER, f"{where} refused the request (authentication)"
            ) from None
        except ccxt.NetworkError as exc:
            raise SourceUnavailable(
                PROVIDER, f"cannot reach {where} (no network? {type(exc).__name__})"
            ) from None
        except ccxt.OperationFailed as exc:
            raise SourceUnavailable(
                PROVIDER, f"{where} is unavailable ({type(exc).__name__})"
            ) from None
        except ccxt.BaseError as exc:
            raise SourceUnavailable(PROVIDER, f"{where} answered: {_text(exc)}") from None
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            # ccxt reads the payload as it parses: a reply of the wrong shape ends here
            raise SourceUnavailable(
                PROVIDER, f"malformed reply from {where} ({type(exc).__name__})"
            ) from None


def _rehost(api: Any, url: str) -> Any:
    """The exchange's API URLs with their scheme and host replaced by ``url``'s."""
    new = urlsplit(url)
    if isinstance(api, dict):
        return {k: _rehost(v, url) for k, v in api.items()}
    if isinstance(api, str) and api.startswith("http"):
        old = urlsplit(api)
        return urlunsplit((new.scheme, new.netloc, old.path, old.query, ""))
    return api


def _retry_after(ex: Any) -> float | None:
    headers = getattr(ex, "last_response_headers", None) or {}
    value = next((v for k, v in dict(headers).items() if str(k).lower() == "retry-after"), None)
    try:
        return max(float(value), 0.0) if value is not None else None
    except (TypeError, ValueError):
        return None


def _text(exc: BaseException) -> str:
    return one_line(str(exc), 200)

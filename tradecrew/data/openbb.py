"""``OpenBBProvider``: prices through the OpenBB Platform (extra ``openbb``), cached on disk.

Forex asks ``obb.currency.price.historical`` (``EURUSD``), crypto ``obb.crypto.price.
historical`` (``BTCUSD``), everything else ``obb.equity.price.historical`` with the Yahoo
ticker (``GC=F`` for gold, ``^GSPC`` for the S&P 500), all from the provider named by
``data.openbb_provider`` (``yfinance``, the one the extra installs).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from tradecrew.config import Settings, get_settings
from tradecrew.data.base import SourceUnavailable
from tradecrew.data.live import CachedLiveProvider, canonical
from tradecrew.data.openbb_access import PROVIDER, call, field, load_obb
from tradecrew.data.yfinance_symbols import INTERVALS, to_yahoo  # OpenBB takes Yahoo's intervals
from tradecrew.instruments import find_instrument, provided_instrument
from tradecrew.models import AssetClass, Timeframe


def route(symbol: str) -> tuple[str, str, str]:
    """Desk symbol, the ``obb`` command family and the symbol it takes."""
    desk, ticker = to_yahoo(symbol)
    inst = find_instrument(desk)
    if inst is not None and inst.asset_class is AssetClass.FOREX:
        return desk, "currency", desk
    if ticker.endswith("-USD") or (inst is not None and inst.asset_class is AssetClass.CRYPTO):
        return desk, "crypto", desk
    return desk, "equity", ticker


class OpenBBProvider(CachedLiveProvider):
    """Bars from the OpenBB Platform; quotes are the last daily close."""

    name = PROVIDER
    native = frozenset(INTERVALS)

    def __init__(self, settings: Settings | None = None, **kwargs: Any) -> None:
        cfg = settings or get_settings()
        super().__init__(cfg, **kwargs)
        self.provider = cfg.data.openbb_provider
        self._routes: dict[str, tuple[str, str]] = {}

    def __repr__(self) -> str:
        return f"OpenBBProvider(provider={self.provider!r})"

    def _resolve(self, symbol: str) -> tuple[str, str]:
        desk, family, native = route(symbol)
        self._routes[native] = (family, desk)
        return desk, native

    def _registered(self, desk: str, native: str) -> None:
        if find_instrument(desk) is not None:
            return
        family, _ = self._routes.get(native, ("equity", desk))
        if family == "crypto" and native.endswith("USD"):
            provided_instrument(f"{native[:-3]}/USD", AssetClass.CRYPTO, PROVIDER)
        elif family == "equity" and native.isalpha() and len(native) <= 5:
            provided_instrument(native, AssetClass.EQUITY, PROVIDER)

    def _fetch(
        self, natives: list[str], tf: Timeframe, since: pd.Timestamp
    ) -> dict[str, pd.DataFrame]:
        obb = load_obb()
        out: dict[str, pd.DataFrame] = {}
        for native in natives:
            family, _ = self._routes.get(native, ("equity", native))
            command = getattr(obb, family).price.historical
            what = f"{family}.price.historical({native})"

            def fetch(c: Any = command, n: str = native) -> Any:
                return c(
                    symbol=n,
                    start_date=since.date(),
                    interval=INTERVALS[tf],
                    provider=self.provider,
                )

            results = call(
                fetch,
                what=what,
                symbol=native,
                cfg=self._cfg,
                backoff=self._backoff,
                sleep=self._sleep,
            )
            if not results:
                self._why[native] = f"{what} returned no rows"
                continue
            out[native] = _frame(results, what, tf)
        return out


def _frame(results: list[Any], what: str, tf: Timeframe) -> pd.DataFrame:
    try:
        stamps = [_stamp(field(r, "date")) for r in results]
        rows = [
            [field(r, "open"), field(r, "high"), field(r, "low"), field(r, "close"),
             field(r, "volume") or 0.0]
            for r in results
        ]  # fmt: skip
        frame = pd.DataFrame(
            rows,
            columns=["open", "high", "low", "close", "volume"],
            index=pd.DatetimeIndex(stamps),
            dtype="float64",
        )
    except (TypeError, ValueError) as exc:
        raise SourceUnavailable(PROVIDER, f"{what}: malformed rows ({exc})") from None
    return canonical(frame, what, PROVIDER, daily=tf is Timeframe.D1)


def _stamp(value: Any) -> pd.Timestamp:
    if isinstance(value, datetime | date | str):
        ts = pd.Timestamp(value)
        return ts if ts.tzinfo is not None else ts.tz_localize("UTC")
    raise TypeError(f"a row's date is {type(value).__name__}")


__all__ = ["OpenBBProvider", "route"]

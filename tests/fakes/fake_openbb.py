"""A stand-in for the ``openbb`` package (not installed in dev) with the Platform's shapes:
``from openbb import obb``; ``obb.equity/currency/crypto.price.historical(symbol=...,
start_date=..., interval=..., provider=...)`` and ``obb.news.company(symbol=..., ...)``
return an OBBject (``results``: pydantic Data rows with extra fields allowed; ``provider``;
``to_dataframe()`` indexed by ``date``). A provider failure raises ``OpenBBError`` with the
Platform's words ("Results not found.", "Unauthorized", "429 Too Many Requests").
``install(monkeypatch)`` puts it in ``sys.modules``; every call is recorded in ``calls``.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd
import pytest
from pydantic import BaseModel, ConfigDict


class OpenBBError(Exception):
    """openbb_core.app.model.abstract.error.OpenBBError"""


class Data(BaseModel):
    model_config = ConfigDict(extra="allow")


class PriceHistoricalData(Data):
    date: date | datetime
    open: float
    high: float
    low: float
    close: float
    volume: float | None = None


class CompanyNewsData(Data):
    date: datetime
    title: str
    author: str | None = None
    excerpt: str | None = None
    body: str | None = None
    images: Any = None
    url: str
    symbols: str | None = None


@dataclass
class OBBject:
    results: list[Any]
    provider: str | None = None
    warnings: list[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dataframe(self, index: str | None = "date") -> pd.DataFrame:
        frame = pd.DataFrame([r.model_dump() for r in self.results])
        return frame.set_index(index) if index and index in frame else frame


class FakeOpenBB:
    def __init__(self) -> None:
        self.prices: dict[tuple[str, str, str], list[dict[str, Any]]] = {}  # family, sym, iv
        self.news: dict[str, list[dict[str, Any]]] = {}
        self.errors: list[str] = []  # the words of the next failures
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeOpenBB:
        module = types.ModuleType("openbb")

        def family(name: str) -> types.SimpleNamespace:
            def historical(symbol: str, **kw: Any) -> OBBject:
                return self._historical(name, symbol, kw)

            return types.SimpleNamespace(price=types.SimpleNamespace(historical=historical))

        module.obb = types.SimpleNamespace(  # type: ignore[attr-defined]
            equity=family("equity"),
            currency=family("currency"),
            crypto=family("crypto"),
            news=types.SimpleNamespace(company=self._company),
        )
        monkeypatch.setitem(sys.modules, "openbb", module)
        return self

    def _fail(self) -> None:
        if self.errors:
            raise OpenBBError(self.errors.pop(0))

    def _historical(self, family: str, symbol: str, kw: dict[str, Any]) -> OBBject:
        self.calls.append((f"{family}.price.historical", {"symbol": symbol, **kw}))
        self._fail()
        rows = self.prices.get((family, symbol, kw.get("interval", "1d")))
        if not rows:
            raise OpenBBError("Results not found.")
        start = kw.get("start_date")
        keep = [r for r in rows if start is None or pd.Timestamp(r["date"]).date() >= start]
        return OBBject([PriceHistoricalData(**r) for r in keep], kw.get("provider"))

    def _company(self, symbol: str, **kw: Any) -> OBBject:
        self.calls.append(("news.company", {"symbol": symbol, **kw}))
        self._fail()
        rows = self.news.get(symbol)
        if not rows:
            raise OpenBBError("Results not found.")
        return OBBject([CompanyNewsData(**r) for r in rows][: kw.get("limit")], kw.get("provider"))


def daily_rows(n: int, last: str, price: float) -> list[dict[str, Any]]:
    """``n`` weekday rows ending ``last``, dated as OpenBB's daily rows are (a ``date``)."""
    days = pd.bdate_range(end=last, periods=n)
    return [
        {
            "date": d.date(),
            "open": price + i - 0.2,
            "high": price + i + 1,
            "low": price + i - 1,
            "close": price + i,
            "volume": 1000.0,
            "vwap": price + i,  # a provider's extra field
        }
        for i, d in enumerate(days)
    ]

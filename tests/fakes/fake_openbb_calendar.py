"""A stand-in for the ``openbb`` package's economic calendar, for tests without the extra.

``install(monkeypatch, rows)`` puts a module named ``openbb`` in ``sys.modules`` whose
``obb.economy.calendar(start_date, end_date, provider=...)`` answers like OpenBB's: an
OBBject-like result with ``results``, a list of pydantic Data rows (date, country, event,
importance or impact, currency, consensus, previous, actual). ``error`` makes it raise as
a failing provider does. Calls are recorded.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict


class EconomicCalendarData(BaseModel):
    model_config = ConfigDict(extra="allow")

    date: datetime
    country: str | None = None
    event: str | None = None
    importance: int | str | None = None
    currency: str | None = None
    consensus: str | float | None = None
    previous: str | float | None = None
    actual: str | float | None = None


@dataclass
class OBBject:
    results: list[Any]
    provider: str | None = None


@dataclass
class FakeCalendar:
    rows: list[dict[str, Any]]
    error: Exception | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(
        self, start_date: date | None = None, end_date: date | None = None, **kw: Any
    ) -> OBBject:
        self.calls.append({"start_date": start_date, "end_date": end_date, **kw})
        if self.error is not None:
            raise self.error
        return OBBject([EconomicCalendarData(**r) for r in self.rows], kw.get("provider"))


def install(monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]]) -> FakeCalendar:
    calendar = FakeCalendar(rows)
    module = types.ModuleType("openbb")
    module.obb = types.SimpleNamespace(economy=types.SimpleNamespace(calendar=calendar))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "openbb", module)
    return calendar

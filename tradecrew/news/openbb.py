"""Headlines from the OpenBB Platform's ``obb.news.company`` (extra ``openbb``), from the
provider named by ``data.openbb_provider``. Rows follow OpenBB's CompanyNewsData: ``date``,
``title``, ``url``, ``symbols`` (comma-separated), with ``excerpt``/``text`` and ``source``
where the provider sends them. Their text is untrusted; ``Headline`` cleans it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tradecrew.config import Settings, get_settings
from tradecrew.data.base import SourceUnavailable, UnknownSymbolError
from tradecrew.data.openbb_access import PROVIDER, call, field, load_obb
from tradecrew.news.models import Headline, news_symbol, utc


def headline_from_openbb(row: Any, provider: str) -> Headline:
    """One ``obb.news.company`` row; a ValueError (or pydantic's) when it is not one."""
    symbols = field(row, "symbols") or ""
    tags = symbols.split(",") if isinstance(symbols, str) else list(symbols)
    url = field(row, "url")
    return Headline(
        provider="openbb",
        provider_id=str(field(row, "id") or url or "") or None,
        source=str(field(row, "source") or field(row, "publisher") or f"openbb:{provider}"),
        headline=field(row, "title"),
        url=url,
        summary=str(field(row, "excerpt") or field(row, "text") or ""),
        symbols=[s.strip() for s in tags if isinstance(s, str)],
        published_at=field(row, "date"),
    )


class OpenBBNews:
    """News about a symbol through OpenBB (keys, where its provider needs them, live in
    OpenBB's own settings)."""

    name = PROVIDER

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        cfg = settings or get_settings()
        self._cfg = cfg.data
        self.provider = cfg.data.openbb_provider
        self._backoff = backoff
        self._sleep = sleep

    def fetch(
        self, symbol: str, *, start: datetime, end: datetime | None = None, limit: int = 200
    ) -> list[Headline]:
        """Up to ``limit`` items about ``symbol`` published in ``[start, end]``, newest first."""
        sym = news_symbol(symbol)
        obb = load_obb()
        lo, hi = utc(start), utc(end) if end is not None else None
        what = f"news.company({sym})"
        try:
            rows = call(
                lambda: obb.news.company(
                    symbol=sym,
                    start_date=lo.date(),
                    end_date=hi.date() if hi is not None else None,
                    limit=max(int(limit), 1),
                    provider=self.provider,
                ),
                what=what,
                symbol=sym,
                cfg=self._cfg,
                backoff=self._backoff,
                sleep=self._sleep,
            )
        except UnknownSymbolError:
            return []  # OpenBB says "no results" for a quiet symbol: that is no news
        items: list[Headline] = []
        for row in rows:
            try:
                item = headline_from_openbb(row, self.provider)
            except (ValueError, TypeError, AttributeError):
                raise SourceUnavailable(PROVIDER, f"{what}: malformed news row") from None
            if item.published_at >= lo and (hi is None or item.published_at <= hi):
                items.append(item)
        items.sort(key=lambda h: h.published_at, reverse=True)
        return items[:limit]

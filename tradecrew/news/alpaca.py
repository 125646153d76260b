"""Headlines from Alpaca's news API (``GET /v1beta1/news``) through alpaca-py's ``NewsClient``.

It shares the market-data provider's transport: the data URL setting, the same keys, a
session with timeouts and Retry-After-aware retries, and one-line errors naming alpaca.
alpaca-py follows ``next_page_token`` itself; each page is retried on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from tradecrew.config import Settings, get_settings
from tradecrew.data.alpaca_access import alpaca_keys, checked_url, use_retrying_session
from tradecrew.data.alpaca_transport import PROVIDER, call, public_url
from tradecrew.data.base import SourceUnavailable, UnknownSymbolError
from tradecrew.news.models import Headline, news_symbol, utc

_PAGE = 50  # the most Alpaca's news endpoint returns per page


def headline_from_alpaca(raw: Any) -> Headline:
    """One item of the ``news`` array (alpaca-py's ``News`` fields); a ValueError if it is
    not one."""
    if not isinstance(raw, dict):
        raise ValueError(f"a news item is {type(raw).__name__}, not an object")
    symbols = raw.get("symbols")
    if not isinstance(symbols, list):
        raise ValueError("a news item has no symbols list")
    return Headline(
        provider="alpaca",
        provider_id=str(raw["id"]),
        source=str(raw.get("source") or "alpaca"),
        headline=raw["headline"],
        url=raw.get("url"),
        summary=str(raw.get("summary") or ""),
        symbols=[s for s in symbols if isinstance(s, str)],
        published_at=raw["created_at"],
    )


class AlpacaNews:
    """News about symbols from Alpaca (needs the API keys, as the data provider does)."""

    name = PROVIDER

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        api_key: str | SecretStr | None = None,
        secret_key: str | SecretStr | None = None,
        url: str | None = None,
        backoff: float = 0.5,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        cfg = settings or get_settings()
        self._cfg = cfg.data
        self.url = checked_url(url or cfg.data.alpaca_data_url)
        self._key, self._secret_key = alpaca_keys(cfg, api_key, secret_key)
        self._backoff = backoff
        self._sleep = sleep
        self._client: Any = None

    def __repr__(self) -> str:  # keys stay out of every repr and log line
        return f"AlpacaNews(url={self.url!r})"

    def fetch(
        self, symbol: str, *, start: datetime, end: datetime | None = None, limit: int = 200
    ) -> list[Headline]:
        """Up to ``limit`` items about ``symbol`` created in ``[start, end]``, newest first."""
        from alpaca.data.requests import NewsRequest

        sym = news_symbol(symbol)
        req = NewsRequest(
            symbols=sym,
            start=utc(start),
            end=utc(end) if end is not None else None,
            limit=max(int(limit), 1),
            sort="desc",
        )
        client = self._news_client()

        def fetch_and_read() -> list[Headline]:
            return [headline_from_alpaca(item) for item in self._pages(client, req, limit)]

        secrets = tuple(s for s in (self._key, self._secret_key) if s)
        try:
            return call(fetch_and_read, url=self.url, symbols=[sym], secrets=secrets)
        except UnknownSymbolError as exc:
            if "404" in str(exc):  # no news endpoint at that URL: an outage, not a bad symbol
                raise SourceUnavailable(
                    PROVIDER, f"no news endpoint at {public_url(self.url)} (404)"
                ) from None
            raise

    @staticmethod
    def _pages(client: Any, req: Any, limit: int) -> list[Any]:
        """Follow ``next_page_token`` here rather than in alpaca-py, whose loop never ends
        when a server keeps handing out tokens with empty pages."""
        params = req.to_request_fields()
        items: list[Any] = []
        seen: set[str] = set()
        token: str | None = None
        while len(items) < limit:
            params["limit"] = min(limit - len(items), _PAGE)
            if token is not None:
                params["page_token"] = token
            reply = client.get("/news", dict(params))
            page = reply.get("news") if isinstance(reply, dict) else None
            if not isinstance(page, list):
                raise ValueError("the reply holds no news list")
            items.extend(page)
            token = reply.get("next_page_token")
            if not token or not page:
                break
            if not isinstance(token, str) or token in seen:
                raise ValueError("the server repeated a page token")
            seen.add(token)
        return items[:limit]

    def _news_client(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            from alpaca.data.historical.news import NewsClient
        except ImportError:
            raise SourceUnavailable(
                PROVIDER, "alpaca-py is not installed; install the extra: tradecrew[alpaca]"
            ) from None
        if not (self._key and self._secret_key):
            raise SourceUnavailable(
                PROVIDER,
                "no API keys for news: set APCA_API_KEY_ID and APCA_API_SECRET_KEY (or "
                "TRADECREW_BROKER__ALPACA_API_KEY and TRADECREW_BROKER__ALPACA_SECRET_KEY)",
            )
        client = NewsClient(self._key, self._secret_key, url_override=self.url, raw_data=True)
        use_retrying_session(client, self._cfg, self._backoff, self._sleep)
        self._client = client
        return client

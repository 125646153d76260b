"""Where alerts go: a webhook (JSON POST) and the Telegram Bot API, over plain httpx.

Both URLs carry secrets (the bot token is in Telegram's path; a webhook URL often holds a
token). The client is only ever given a placeholder URL: a transport swaps in the real one
for the request that goes on the wire, so httpx's own log lines, exceptions and reprs never
see it. Failures are reported as ``SinkError`` with the exception's type only.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from tradecrew.alerts.events import AlertEvent
from tradecrew.errors import Unavailable

_PLACEHOLDER = "https://sink.invalid"


class SinkError(Unavailable):
    """A sink did not take an alert (an outage); the message never holds a URL or a token."""


class _SecretURL(httpx.BaseTransport):
    """Sends each request to the secret base URL instead of the placeholder."""

    def __init__(self, base: str) -> None:
        self._base = httpx.URL(base)
        self._inner = httpx.HTTPTransport(retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        suffix = request.url.raw_path  # b"/" for the base itself, b"/sendMessage" for a method
        url = self._base
        if suffix != b"/":
            url = url.copy_with(raw_path=url.raw_path.rstrip(b"/") + suffix)
        real = httpx.Request(
            request.method,
            url,
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return self._inner.handle_request(real)

    def close(self) -> None:
        self._inner.close()


def secret_client(base: str, timeout: float) -> httpx.Client:
    """An httpx client whose requests to ``_PLACEHOLDER`` paths go to ``base``."""
    return httpx.Client(
        base_url=_PLACEHOLDER,
        transport=_SecretURL(base),
        timeout=timeout,
        follow_redirects=False,
    )


def call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request; any transport failure or non-2xx answer is a SinkError without URLs."""
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise SinkError(f"{type(exc).__name__}") from None
    if not response.is_success:
        raise SinkError(f"HTTP {response.status_code}")
    return response


class WebhookSink:
    """POSTs the alert as JSON to the configured URL."""

    name = "webhook"

    def __init__(self, url: SecretStr, timeout: float) -> None:
        self._client = secret_client(url.get_secret_value(), timeout)

    def deliver(self, event: AlertEvent, buttons: list[dict[str, str]] | None = None) -> None:
        call(self._client, "POST", "/", json=event.model_dump(mode="json"))

    def close(self) -> None:
        self._client.close()


class TelegramBot:
    """The three Bot API methods the desk uses: sendMessage, getUpdates, answerCallbackQuery."""

    def __init__(self, api_url: str, token: SecretStr, timeout: float) -> None:
        base = f"{api_url.rstrip('/')}/bot{token.get_secret_value()}"
        self._client = secret_client(base, timeout)
        self._timeout = timeout

    def api(self, method: str, payload: dict[str, Any], wait: float = 0.0) -> Any:
        """Call ``method``; the ``result`` of an ``ok`` answer, else SinkError."""
        try:
            response = call(
                self._client, "POST", f"/{method}", json=payload, timeout=self._timeout + wait
            )
        except SinkError as exc:
            raise SinkError(f"the Telegram Bot API's {method} failed: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            raise SinkError(f"{method}: the answer is not JSON") from None
        if not isinstance(body, dict) or body.get("ok") is not True:
            raise SinkError(f"{method}: the Bot API refused the call")
        return body.get("result")

    def close(self) -> None:
        self._client.close()


class TelegramSink:
    """Sends alerts to the configured chat, with approve/reject buttons when given."""

    name = "telegram"

    def __init__(self, bot: TelegramBot, chat_id: str) -> None:
        self._bot = bot
        self._chat_id = chat_id

    def deliver(self, event: AlertEvent, buttons: list[dict[str, str]] | None = None) -> None:
        payload: dict[str, Any] = {
            "chat_id": int(self._chat_id),
            "text": event.as_text()[:4000],
            "disable_web_page_preview": True,
        }
        if buttons:
            payload["reply_markup"] = {"inline_keyboard": [buttons]}
        self._bot.api("sendMessage", payload)

    def close(self) -> None:
        self._bot.close()

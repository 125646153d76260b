"""How the alpaca data provider talks HTTP: timeouts, retries, and one-line errors.

alpaca-py sets no timeout and resends a 429 after a fixed three seconds whatever the server
asked for. Its clients here get a session that times out, retries 429, 5xx and timeouts with
exponential backoff, honours ``Retry-After`` (and gives up at once when the server asks for a
longer wait than the settings allow), and never retries a refused connection or a 4xx. Each
page of a paginated answer is retried on its own, so a 429 on page 3 does not refetch 1 and 2.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
)

from tradecrew.data.base import SourceUnavailable, UnknownSymbolError
from tradecrew.text import redacted

log = logging.getLogger(__name__)
T = TypeVar("T")
PROVIDER = "alpaca"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def public_url(url: str) -> str:
    """The URL without any user:password part, fit for a message."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """``Retry-After`` as seconds (either form the RFC allows), or None."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


class RetryingSession(requests.Session):
    """A ``requests`` session for idempotent market-data GETs: timeout, backoff, Retry-After."""

    def __init__(
        self,
        *,
        timeout: float,
        attempts: int,
        backoff: float,
        max_wait: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.timeout = timeout
        self.attempts = max(attempts, 1)
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep

    def _wait(self, state: RetryCallState) -> float:
        asked = None if state.outcome is None or state.outcome.failed else state.outcome.result()
        after = retry_after_seconds(asked)
        if after is not None:
            return after
        return min(self.backoff * 2 ** (state.attempt_number - 1), self.max_wait)

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.attempts:
            return True
        asked = None if state.outcome is None or state.outcome.failed else state.outcome.result()
        after = retry_after_seconds(asked)
        return after is not None and after > self.max_wait  # waiting that long is an outage

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        send = super().request

        def retryable(response: requests.Response) -> bool:
            return response.status_code in _RETRY_STATUS

        def log_retry(state: RetryCallState) -> None:
            outcome = state.outcome
            what = (
                type(outcome.exception()).__name__
                if outcome is not None and outcome.failed
                else getattr(outcome.result() if outcome else None, "status_code", "?")
            )
            log.info("alpaca data: %s; retry %d", what, state.attempt_number)

        retrying = Retrying(
            retry=retry_if_result(retryable) | retry_if_exception_type(requests.Timeout),
            stop=self._stop,
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=log_retry,
            # Out of attempts: hand the last answer to alpaca-py, which raises APIError on it.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        return retrying(send, method, url, *args, **kwargs)


def call(fn: Callable[[], T], *, url: str, symbols: list[str], secrets: tuple[str, ...]) -> T:
    """Run one alpaca-py call and turn every way it can fail into one line naming alpaca.

    An unknown symbol (404, 400/422 "invalid symbol") is bad input (``UnknownSymbolError``);
    everything else that stops an answer is ``SourceUnavailable``.
    """
    from alpaca.common.exceptions import APIError

    where = public_url(url)
    try:
        return fn()
    except APIError as exc:
        status = exc.status_code or 0
        text = _clean(_api_message(exc), secrets)
        if status in (401, 403):
            raise SourceUnavailable(
                PROVIDER,
                f"the API key was refused ({status}: {text}); check APCA_API_KEY_ID and "
                "APCA_API_SECRET_KEY",
            ) from None
        if status == 404 or (status in (400, 422) and "symbol" in text.lower()):
            raise UnknownSymbolError(
                ", ".join(symbols), [], PROVIDER, detail=f"{status}: {text}"
            ) from None
        if status == 429:
            after = retry_after_seconds(exc.response)
            hint = f"; the server asks to wait {after:.0f} s" if after is not None else ""
            raise SourceUnavailable(PROVIDER, f"rate limited (429) at {where}{hint}") from None
        if status >= 500:
            raise SourceUnavailable(PROVIDER, f"server error {status} at {where}: {text}") from None
        raise SourceUnavailable(PROVIDER, f"request refused ({status}: {text})") from None
    except requests.exceptions.JSONDecodeError:
        raise SourceUnavailable(PROVIDER, f"malformed reply from {where}: not JSON") from None
    except requests.Timeout:
        raise SourceUnavailable(PROVIDER, f"no answer from {where} (timed out)") from None
    except requests.ConnectionError as exc:
        raise SourceUnavailable(
            PROVIDER, f"cannot reach {where} (no network or connection refused: {_reason(exc)})"
        ) from None
    except requests.RequestException as exc:
        raise SourceUnavailable(PROVIDER, f"request failed: {type(exc).__name__}") from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # alpaca-py reads the payload while paginating: a reply of the wrong shape ends here.
        raise SourceUnavailable(
            PROVIDER, f"malformed reply from {where}: {_clean(str(exc), secrets)}"
        ) from None


def _api_message(exc: Any) -> str:
    try:
        return str(exc.message)
    except Exception:
        return str(getattr(exc, "_error", ""))[:200] or "no detail"


def _clean(text: str, secrets: tuple[str, ...]) -> str:
    # A server's words: no escapes, no forged lines, no echoed keys, 200 characters at most.
    return redacted(text, secrets, 200)


def _reason(exc: Exception) -> str:
    text = repr(exc.args[0]) if exc.args else type(exc).__name__
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "getaddrinfo" in text or "resolve" in text:
        return "host not found"
    return type(exc).__name__

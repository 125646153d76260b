"""The HTTP layer under every LLM call: replay cache, budget, concurrency limit, retries.

The OpenAI client sends its requests through ``GatewayTransport``; the gateway answers from
``<home>/llm_cache/`` when it can (sha256 of the request body, base URL and cache version),
refuses once the run's token or money budget is spent, holds at most ``max_concurrency``
requests in flight, retries 429 and 5xx answers honouring ``Retry-After``, and records
every call. After an outage it fails fast, so one dead server does not stall a watchlist.
"""

from __future__ import annotations

import contextvars
import email.utils
import hashlib
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx

from tradecrew.agents.recorder import RunRecorder
from tradecrew.agents.schemas import LLMCallRecord
from tradecrew.homedir import private_file

CACHE_VERSION = 1
_MAX_RETRY_AFTER = 60.0
_NO_RETRY_DOWN = {401, 403, 404}
# Opening a connection takes milliseconds when the server is up: waiting longer only delays
# the answer that it is not (the model's own answer keeps the run's longer read timeout).
CONNECT_TIMEOUT = 2.5

# USD per million tokens (input, output): list prices, an estimate only.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o4-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o1": (15.00, 60.00),
}


def price_for(model: str) -> tuple[float, float] | None:
    """The price pair of ``model`` (longest known prefix wins), None when unknown."""
    name = model.split("/", 1)[1] if model.startswith("openai/") else model
    matches = [k for k in PRICES_PER_MTOK if name == k or name.startswith(k + "-")]
    return PRICES_PER_MTOK[max(matches, key=len)] if matches else None


class LLMError(RuntimeError):
    """Base of the gateway's refusals; the runner turns them into a clean stop."""


class BudgetExceeded(LLMError):
    """The run spent its token or money budget."""


class LLMUnavailable(LLMError):
    """The LLM server failed (errors, timeouts, refused connections) after retries."""


class ReplayCacheMiss(LLMError):
    """Replay needed an answer the cache does not hold: inputs differ from the recorded run."""


@dataclass(frozen=True)
class CallScope:
    symbol: str
    agent: str | None


_scope: contextvars.ContextVar[CallScope | None] = contextvars.ContextVar(
    "tradecrew_llm_scope", default=None
)


def set_scope(scope: CallScope) -> contextvars.Token[CallScope | None]:
    """Attribute the requests of the current thread to ``scope`` until reset."""
    return _scope.set(scope)


def reset_scope(token: contextvars.Token[CallScope | None]) -> None:
    _scope.reset(token)


def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context (honouring SSL_CERT_FILE / SSL_CERT_DIR), loaded once.

    Loading the CA bundle takes tens of milliseconds; a context is safe to share.
    """
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@lru_cache(maxsize=4)
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context()  # reads the same two variables


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        seconds = parsed.timestamp() - time.time() if parsed else 0.0
    return max(0.0, min(seconds, _MAX_RETRY_AFTER))


class LLMGateway:
    """Shared by every LLM of one run."""

    def __init__(
        self,
        *,
        cache_dir: Path,
        base_url: str | None,
        recorder: RunRecorder,
        max_tokens: int,
        max_cost: float,
        max_concurrency: int,
        max_retries: int,
        use_cache: bool = True,
        offline: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cache_dir = cache_dir
        self.base_url = base_url
        self.recorder = recorder
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.max_retries = max_retries
        self.use_cache = use_cache or offline
        self.offline = offline
        self.sleep = sleep
        self.tokens_spent = 0
        self.cost_spent = 0.0
        self.unpriced: set[str] = set()
        self.down_reason: str | None = None
        self.budget_reason: str | None = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._pool: httpx.HTTPTransport | None = None

    # ------------------------------------------------------------------ policy
    def cache_key(self, body: dict[str, Any]) -> str:
        blob = json.dumps(
            {"v": CACHE_VERSION, "base_url": self.base_url, "body": body},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def _cache_path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def check_budget(self) -> None:
        """Raise BudgetExceeded once the run has spent its tokens or money."""
        with self._lock:
            if self.budget_reason is None:
                if self.tokens_spent >= self.max_tokens:
                    self.budget_reason = (
                        f"token budget exceeded: {self.tokens_spent} of {self.max_tokens} "
                        "tokens spent (TRADECREW_LLM__MAX_TOKENS_PER_RUN)"
                    )
                elif self.cost_spent > 0 and self.cost_spent >= self.max_cost:
                    self.budget_reason = (
                        f"cost budget exceeded: ${self.cost_spent:.4f} of "
                        f"${self.max_cost:.4f} spent (TRADECREW_LLM__MAX_COST_PER_RUN)"
                    )
            reason = self.budget_reason
        if reason:
            raise BudgetExceeded(reason)

    def _cost(self, model: str, prompt: int, completion: int) -> float:
        price = price_for(model)
        if price is None:
            self.unpriced.add(model)
            return 0.0
        return (prompt * price[0] + completion * price[1]) / 1_000_000

    def _record(self, body: dict[str, Any], key: str, **fields: Any) -> None:
        scope = _scope.get()
        self.recorder.add_llm_call(
            LLMCallRecord(
                symbol=scope.symbol if scope else "",
                agent=scope.agent if scope else None,
                model=str(body.get("model", "")),
                cache_key=key,
                **fields,
            )
        )

    # ------------------------------------------------------------------ the call
    def handle(
        self, request: httpx.Request, forward: Callable[[httpx.Request], httpx.Response]
    ) -> httpx.Response:
        """Answer one HTTP request: from the cache, or the server within budget and retries."""
        if request.method != "POST" or not request.url.path.endswith("/chat/completions"):
            if self.offline:
                raise ReplayCacheMiss(f"replay cannot send {request.method} {request.url.path}")
            return forward(request)
        body = json.loads(request.read() or b"{}")
        key = self.cache_key(body)
        start = time.perf_counter()
        cacheable = self.use_cache and not body.get("stream")
        path = self._cache_path(key)
        if cacheable and path.is_file():
            payload = json.loads(path.read_text(encoding="utf-8"))
            usage = payload.get("usage") or {}
            self._record(
                body,
                key,
                cached=True,
                status=200,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                latency_ms=round((time.perf_counter() - start) * 1000, 3),
            )
            return httpx.Response(200, json=payload, request=request)
        if self.offline:
            raise ReplayCacheMiss(
                "replay: no cached answer for a request of this run (the crew file, settings "
                "or data changed since it was recorded)"
            )
        if self.down_reason:
            raise LLMUnavailable(self.down_reason)
        self.check_budget()
        with self._slots:
            response, attempts = self._send(request, forward)
        content = response.read()
        latency = round((time.perf_counter() - start) * 1000, 3)
        if response.status_code != 200:
            self._record(
                body,
                key,
                cached=False,
                status=response.status_code,
                latency_ms=latency,
                attempts=attempts,
            )
            if response.status_code in _NO_RETRY_DOWN or response.status_code >= 429:
                self._mark_down(f"LLM server answered HTTP {response.status_code}")
                raise LLMUnavailable(self.down_reason or "LLM server error")
            return response
        payload = json.loads(content) if not body.get("stream") else {}
        usage = payload.get("usage") or {}
        prompt = int(usage.get("prompt_tokens") or 0)
        completion = int(usage.get("completion_tokens") or 0)
        cost = self._cost(str(body.get("model", "")), prompt, completion)
        with self._lock:
            self.tokens_spent += prompt + completion
            self.cost_spent += cost
        self._record(
            body,
            key,
            cached=False,
            status=200,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost=round(cost, 8),
            latency_ms=latency,
            attempts=attempts,
        )
        if cacheable and payload.get("choices"):
            _write_atomic(path, json.dumps(payload))
        headers = {"content-type": response.headers.get("content-type", "application/json")}
        return httpx.Response(200, content=content, headers=headers, request=request)

    def _send(
        self, request: httpx.Request, forward: Callable[[httpx.Request], httpx.Response]
    ) -> tuple[httpx.Response, int]:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = forward(request)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                # Refused or unresolvable: nobody is listening, a retry would only wait.
                if isinstance(exc, httpx.ConnectError) or attempt > self.max_retries:
                    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
                    self._mark_down(f"LLM server at {self.base_url or 'OpenAI'} {kind}: {exc}")
                    raise LLMUnavailable(self.down_reason or str(exc)) from exc
                self.sleep(min(0.5 * 2 ** (attempt - 1), 8.0))
                continue
            retryable = response.status_code == 429 or response.status_code >= 500
            if not retryable or attempt > self.max_retries:
                return response, attempt
            wait = _retry_after(response)
            response.read()
            response.close()
            self.sleep(wait if wait is not None else min(0.5 * 2 ** (attempt - 1), 8.0))

    def _mark_down(self, reason: str) -> None:
        with self._lock:
            if self.down_reason is None:
                self.down_reason = reason

    def transport(self) -> GatewayTransport:
        """A transport for one client; every client of the run shares one connection pool."""
        return GatewayTransport(self)

    def _forward(self, request: httpx.Request) -> httpx.Response:
        # One pool for the whole run, not one per agent: connections to the server are reused
        # across agents and symbols.
        with self._lock:
            if self._pool is None:
                self._pool = httpx.HTTPTransport(verify=tls_context())
            pool = self._pool
        timeout = dict(request.extensions.get("timeout") or {})
        connect = timeout.get("connect")
        timeout["connect"] = CONNECT_TIMEOUT if connect is None else min(connect, CONNECT_TIMEOUT)
        request.extensions["timeout"] = timeout
        return pool.handle_request(request)

    def preflight(self) -> str | None:
        """Open (and close) one connection to the LLM server before the run builds its crew;
        the reason it failed (the gateway is then down), or None. Cached and replayed runs
        need no server."""
        if self.offline:
            return None
        reason = probe_llm_server(self.base_url)
        if reason:
            self._mark_down(reason)
        return self.down_reason

    def close(self) -> None:
        """Close the run's connections; a later request opens a new pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


def probe_llm_server(base_url: str | None) -> str | None:
    """Why the LLM server at ``base_url`` (OpenAI's by default) cannot be reached, or None:
    one TCP connection, opened and closed within ``CONNECT_TIMEOUT``."""
    url = httpx.URL(base_url or "https://api.openai.com/v1")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.host, port), timeout=CONNECT_TIMEOUT):
            return None
    except OSError as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return f"LLM server at {base_url or 'OpenAI'} cannot be reached: {reason}"


class GatewayTransport(httpx.BaseTransport):
    """An httpx transport that sends through the gateway."""

    def __init__(self, gateway: LLMGateway) -> None:
        self.gateway = gateway

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.gateway.handle(request, self.gateway._forward)

    def close(self) -> None:
        """Nothing of its own to close: the pool belongs to the gateway (``LLMGateway.close``)."""


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    private_file(tmp)  # cached model answers are the user's alone; writing keeps the mode
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

"""The HTTP layer under LLM calls: cache, budget, retries with Retry-After, outage, replay."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from tests.fakes.llm_server import ScriptedLLMServer, fault, text
from tradecrew.agents.gateway import (
    BudgetExceeded,
    LLMGateway,
    LLMUnavailable,
    ReplayCacheMiss,
    price_for,
    tls_context,
)
from tradecrew.agents.recorder import RunRecorder

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _gateway(tmp_path: Path, srv: ScriptedLLMServer | None = None, **kw) -> LLMGateway:
    sleeps: list[float] = []
    values = {
        "cache_dir": tmp_path / "cache",
        "base_url": srv.base_url if srv else None,
        "recorder": RunRecorder(),
        "max_tokens": 10_000,
        "max_cost": 1.0,
        "max_concurrency": 2,
        "max_retries": 2,
        "sleep": sleeps.append,
    } | kw
    gateway = LLMGateway(**values)
    gateway.sleeps = sleeps  # type: ignore[attr-defined]
    return gateway


def _post(gateway: LLMGateway, url: str, body=BODY) -> httpx.Response:
    with httpx.Client(transport=gateway.transport()) as client:
        return client.post(f"{url}/chat/completions", json=body)


def test_identical_request_is_answered_from_the_cache(tmp_path: Path) -> None:
    with ScriptedLLMServer([text("one"), text("two")]) as srv:
        gateway = _gateway(tmp_path, srv)
        first = _post(gateway, srv.base_url).json()
        again = _post(gateway, srv.base_url).json()
        other = _post(gateway, srv.base_url, BODY | {"temperature": 0.5}).json()
        assert len(srv.requests) == 2
    assert again == first and other["choices"][0]["message"]["content"] == "two"
    assert [c.cached for c in gateway.recorder.llm_calls] == [False, True, False]
    offline = _gateway(tmp_path, srv, offline=True)
    assert _post(offline, srv.base_url).json() == first
    with pytest.raises(ReplayCacheMiss):
        _post(offline, srv.base_url, BODY | {"seed": 1})


def test_429_waits_for_retry_after_then_succeeds(tmp_path: Path) -> None:
    with ScriptedLLMServer([fault(429, retry_after=7), text("ok")]) as srv:
        gateway = _gateway(tmp_path, srv)
        assert _post(gateway, srv.base_url).status_code == 200
    assert gateway.sleeps == [7.0]
    assert gateway.recorder.llm_calls[0].attempts == 2


def test_persistent_500_is_an_outage_and_later_calls_fail_fast(tmp_path: Path) -> None:
    with ScriptedLLMServer([fault(500)] * 3) as srv:
        gateway = _gateway(tmp_path, srv)
        with pytest.raises(LLMUnavailable, match="HTTP 500"):
            _post(gateway, srv.base_url)
        with pytest.raises(LLMUnavailable):
            _post(gateway, srv.base_url, BODY | {"seed": 2})
        assert len(srv.requests) == 3
    assert gateway.sleeps == [0.5, 1.0]


def test_budget_in_tokens_and_money(tmp_path: Path) -> None:
    with ScriptedLLMServer([text("a", prompt_tokens=600, completion_tokens=500)]) as srv:
        gateway = _gateway(tmp_path, srv, max_tokens=1000)
        _post(gateway, srv.base_url)
        with pytest.raises(BudgetExceeded, match="token budget exceeded: 1100 of 1000"):
            _post(gateway, srv.base_url, BODY | {"seed": 3})
    with ScriptedLLMServer([text("a", prompt_tokens=1_000_000, completion_tokens=0)]) as srv:
        gateway = _gateway(tmp_path / "2", srv, max_cost=0.1, max_tokens=10**9)
        _post(gateway, srv.base_url)
        assert gateway.cost_spent == pytest.approx(0.15)
        with pytest.raises(BudgetExceeded, match="cost budget"):
            gateway.check_budget()


def test_prices_by_model_prefix_and_unknown_models() -> None:
    assert price_for("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert price_for("openai/gpt-4o") == (2.50, 10.00)
    assert price_for("llama3:8b") is None


def test_streaming_answers_are_forwarded_uncached(tmp_path: Path) -> None:
    with ScriptedLLMServer([text("s1"), text("s2")]) as srv:
        gateway = _gateway(tmp_path, srv)
        for _ in range(2):
            assert "data: [DONE]" in _post(gateway, srv.base_url, BODY | {"stream": True}).text
        assert len(srv.requests) == 2


def _count_connections(srv: ScriptedLLMServer) -> list[object]:
    """Accepted TCP connections of the scripted server, as they arrive."""
    httpd = srv._httpd
    assert httpd is not None
    accepted: list[object] = []
    accept = httpd.get_request

    def counting() -> tuple[object, object]:
        conn = accept()
        accepted.append(conn[1])
        return conn

    httpd.get_request = counting  # type: ignore[method-assign]
    return accepted


def test_every_client_of_a_run_shares_one_connection_pool(tmp_path: Path) -> None:
    with ScriptedLLMServer([text("a"), text("b"), text("c"), text("d")]) as srv:
        accepted = _count_connections(srv)
        gateway = _gateway(tmp_path, srv, use_cache=False)
        # Each _post opens and closes its own client, as each agent's LLM has its own.
        for i in range(3):
            assert _post(gateway, srv.base_url, BODY | {"seed": i}).status_code == 200
        assert len(srv.requests) == 3 and len(accepted) == 1
        gateway.close()
        gateway.close()  # closing twice is harmless
        # A closed gateway opens a new pool if it is asked again.
        assert _post(gateway, srv.base_url, BODY | {"seed": 9}).status_code == 200
        assert len(accepted) == 2
        gateway.close()


def test_tls_context_is_loaded_once_and_follows_ssl_cert_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import certifi

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    default = tls_context()
    assert tls_context() is default
    assert default.verify_mode == ssl.CERT_REQUIRED and default.check_hostname
    assert default.cert_store_stats()["x509_ca"] > 0
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    custom = tls_context()
    assert custom is not default and custom.cert_store_stats()["x509_ca"] > 0
    monkeypatch.setenv("SSL_CERT_FILE", str(Path(__file__)))  # not a CA bundle
    with pytest.raises(ssl.SSLError):
        tls_context()

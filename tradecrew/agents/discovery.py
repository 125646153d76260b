"""Asking the crew's LLM for discovery hypotheses (``tradecrew research discover --llm``).

The request goes out as the crew's do: the resolved model and endpoint, through the run's
gateway (budget, retries, cache). The answer is untrusted text: only lines that parse as
expressions of the safe language are kept (:func:`tradecrew.research.hypotheses.read_expressions`).
"""

from __future__ import annotations

from typing import Any

from tradecrew.research.expr import FUNCTIONS, SERIES
from tradecrew.research.hypotheses import Proposals, read_expressions

__all__ = ["llm_hypotheses"]

OPENAI_BASE_URL = "https://api.openai.com/v1"


def _prompt(symbol: str, n: int) -> str:
    funcs = ", ".join(
        f"{name}({', '.join(a.replace('win', 'N').replace('lag', 'K') for a in args)})"
        for name, (args, _) in FUNCTIONS.items()
    )
    return (
        f"Propose {n} trading rules for {symbol} in the desk's expression language, one per "
        "line, nothing else. A rule is true while a long position should be held. Syntax: "
        "arithmetic + - * /, comparisons < <= > >= == !=, and/or/not, parentheses, numbers. "
        f"Series: {', '.join(sorted(SERIES))}. Functions (N and K are whole numbers, K >= 0 "
        f"bars back): {funcs}. Example: rsi(close, 14) < 30 and close > sma(close, 200)"
    )


def llm_hypotheses(
    symbol: str, n: int, *, settings: Any, model: str | None = None, base_url: str | None = None
) -> Proposals:
    """Ask the crew's LLM (resolved and sent as the desk's crew does: its gateway, budget,
    retries and cache) for ``n`` rules; a ValueError when no LLM is configured."""
    import httpx

    from tradecrew.agents.gateway import LLMGateway, LLMUnavailable
    from tradecrew.agents.llm import missing_key_reason, resolve_llm
    from tradecrew.agents.recorder import RunRecorder

    config = resolve_llm(model=model, base_url=base_url, settings=settings)
    if config is None:
        raise ValueError(
            "--llm needs a model: set TRADECREW_LLM__MODEL (and TRADECREW_LLM__BASE_URL for a "
            "local OpenAI-compatible server)"
        )
    reason = missing_key_reason(config)
    if reason:
        raise ValueError(reason)
    llm = settings.llm
    gateway = LLMGateway(
        cache_dir=settings.ensure_home() / "llm_cache",
        base_url=config.base_url,
        recorder=RunRecorder(),
        max_tokens=llm.max_tokens_per_run,
        max_cost=llm.max_cost_per_run,
        max_concurrency=1,
        max_retries=llm.max_retries,
    )
    body: dict[str, Any] = {
        "model": config.model,
        "messages": [
            {"role": "system", "content": "You write trading rules as short expressions."},
            {"role": "user", "content": _prompt(symbol, n)},
        ],
    }
    if config.temperature is not None:
        body["temperature"] = config.temperature
    headers = (
        {"Authorization": f"Bearer {config.api_key.get_secret_value()}"} if config.api_key else {}
    )
    url = (config.base_url or OPENAI_BASE_URL).rstrip("/") + "/chat/completions"
    # One OpenAI-compatible request through the crew's gateway; plain httpx keeps the OpenAI
    # SDK (seconds to import) out of a command that sends a single request.
    client = httpx.Client(transport=gateway.transport(), timeout=config.timeout_seconds)
    try:
        response = client.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise LLMUnavailable(f"LLM server at {url} failed: {type(exc).__name__}") from None
    finally:
        client.close()
        gateway.close()
    if response.status_code != 200:
        raise LLMUnavailable(f"LLM server answered HTTP {response.status_code}")
    return read_expressions(_content(response), n)


def _content(response: Any) -> str:
    """The first choice's text, or "" for any other shape (the answer is untrusted)."""
    try:
        text = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
    return text if isinstance(text, str) else ""

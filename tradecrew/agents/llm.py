"""Which LLM the crew uses, and building it so that it talks to nothing but that endpoint.

Model: CLI, then the agent's ``llm`` in crew.yaml, then crew.yaml's top-level ``llm``, then
settings (``TRADECREW_LLM__*``). No model anywhere means deterministic mode.
Base URL: CLI, then settings, then the crew file (agent, then top level); the environment
beats every file. The API key only ever comes from the environment (settings or
``OPENAI_API_KEY``) and is only sent where the same person pointed it: the CLI's or the
environment's base URL, or the provider's default. A crew file's base URL (the file may be a
stranger's ``crew.yaml`` in the current folder) is called without the key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import SecretStr

from tradecrew.config import LLMSettings, Settings, get_settings
from tradecrew.crewfile import AgentSpec, CrewFile

# What the installed crewai (1.15) reads before it would phone home: telemetry
# (crewai_core.telemetry), trace upload (events/listeners/tracing/utils.py), the PyPI version
# check (events/utils/console_formatter.py); and where it keeps its local files.
_FORCED_ENV = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_TRACKING": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_DISABLE_VERSION_CHECK": "true",
}
_DEFAULT_ENV = {"OTEL_SDK_DISABLED": "true", "CREWAI_STORAGE_DIR": "tradecrew"}
_PLACEHOLDER_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key


def prepare_crewai_environment() -> None:
    """Switch off CrewAI's telemetry, tracing and version check; call before importing it."""
    os.environ.update(_FORCED_ENV)
    for key, value in _DEFAULT_ENV.items():
        os.environ.setdefault(key, value)


@dataclass(frozen=True)
class LLMConfig:
    """A resolved LLM: which model at which endpoint, with the run's limits."""

    model: str
    base_url: str | None
    api_key: SecretStr | None
    timeout_seconds: float
    temperature: float | None = None
    key_withheld: bool = False  # a key exists, but the base URL came from a crew file

    def __repr__(self) -> str:  # the key never prints, even masked
        return f"LLMConfig(model={self.model!r}, base_url={self.base_url!r})"


def _api_key(llm: LLMSettings) -> SecretStr | None:
    if llm.api_key is not None and llm.api_key.get_secret_value():
        return llm.api_key
    env = os.environ.get("OPENAI_API_KEY")
    return SecretStr(env) if env else None


def resolve_llm(
    *,
    model: str | None = None,
    base_url: str | None = None,
    crew: CrewFile | None = None,
    agent: AgentSpec | None = None,
    settings: Settings | None = None,
) -> LLMConfig | None:
    """The LLM for the crew (or one agent); None means deterministic mode."""
    settings = settings or get_settings()
    specs = [s for s in (agent.llm if agent else None, crew.llm if crew else None) if s]
    # The environment beats every file: a crew file's models apply only where it sets none.
    chosen_model = model or settings.llm.model or next((s.model for s in specs if s.model), None)
    if not chosen_model:
        return None
    temperature = next((s.temperature for s in specs if s.temperature is not None), None)
    key = _api_key(settings.llm)
    url = base_url or settings.llm.base_url
    from_file = next((s.base_url for s in specs if s.base_url), None) if not url else None
    return LLMConfig(
        model=str(chosen_model),
        base_url=url or from_file,
        api_key=None if from_file else key,
        timeout_seconds=settings.llm.timeout_seconds,
        temperature=temperature,
        key_withheld=bool(from_file and key),
    )


def missing_key_reason(config: LLMConfig) -> str | None:
    """Why this config cannot work (OpenAI itself without a key), or None."""
    if config.base_url is None and config.api_key is None:
        return (
            f"model {config.model!r} needs an API key: set OPENAI_API_KEY or "
            "TRADECREW_LLM__API_KEY, or a base_url for a local server"
        )
    return None


@lru_cache(maxsize=1)
def _desk_llm_class() -> type[Any]:
    prepare_crewai_environment()
    import httpx
    from crewai.llms.providers.openai.completion import OpenAICompletion
    from openai import AsyncOpenAI, OpenAI
    from pydantic import PrivateAttr

    from tradecrew.agents.gateway import CallScope, reset_scope, set_scope

    class DeskLLM(OpenAICompletion):  # type: ignore[misc]
        """CrewAI's native OpenAI provider, sending through the run's gateway."""

        _gateway: Any = PrivateAttr(default=None)
        _symbol: str = PrivateAttr(default="")

        def _build_sync_client(self) -> Any:
            if self._gateway is None:  # built again once make_llm attached the gateway
                raise ValueError("no gateway yet")
            params = self._get_client_params()
            params["max_retries"] = 0  # the gateway retries, honouring Retry-After
            return OpenAI(**params, http_client=httpx.Client(transport=self._gateway.transport()))

        def _build_async_client(self) -> Any:
            params = self._get_client_params()
            params["max_retries"] = 0
            return AsyncOpenAI(**params, http_client=httpx.AsyncClient(transport=_NoAsync()))

        def get_input_tokens_count(
            self, messages: Any, tools: Any = None, response_model: Any = None
        ) -> int:
            # OpenAI's counting endpoint would be one more request per call: estimate one
            # token per four characters, as CrewAI's fallback does (without its warning).
            text = json.dumps([messages, tools], default=str)
            return len(text) // 4 + 1

        def call(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
            agent = kwargs.get("from_agent")
            token = set_scope(CallScope(self._symbol, getattr(agent, "role", None)))
            try:
                self._gateway.check_budget()
                return super().call(messages, *args, **kwargs)
            finally:
                reset_scope(token)

    class _NoAsync(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise RuntimeError("the desk runs its crews synchronously; async LLM calls are off")

    return DeskLLM


def make_llm(config: LLMConfig, gateway: Any, symbol: str = "") -> Any:
    """A CrewAI LLM for ``config`` whose every request goes through ``gateway``."""
    cls = _desk_llm_class()
    key = config.api_key.get_secret_value() if config.api_key else _PLACEHOLDER_KEY
    kwargs: dict[str, Any] = {
        "model": config.model,
        "api_key": key,
        "timeout": config.timeout_seconds,
        "max_retries": 0,
        "stream": False,
    }
    if config.base_url:
        kwargs["base_url"] = config.base_url
        kwargs["custom_openai"] = True  # a compatible server: never fall back to /responses
    if config.temperature is not None:
        kwargs["temperature"] = config.temperature
    llm = cls(**kwargs)
    llm._gateway = gateway
    llm._symbol = symbol
    # Clients were built in the validator, before the gateway was attached.
    llm._client = None
    llm._async_client = None
    return llm

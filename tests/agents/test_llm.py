"""LLM selection: settings, crew.yaml, per-agent override, CLI; keys only from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tradecrew.agents.gateway import LLMGateway
from tradecrew.agents.llm import (
    make_llm,
    missing_key_reason,
    prepare_crewai_environment,
    resolve_llm,
)
from tradecrew.agents.recorder import RunRecorder
from tradecrew.config import get_settings
from tradecrew.crewfile import AgentSpec, CrewFile, LLMSpec


def _crew(model=None, base_url=None) -> CrewFile:
    return CrewFile(llm=LLMSpec(model=model, base_url=base_url))


def test_no_model_anywhere_means_deterministic_mode(home: Path) -> None:
    assert resolve_llm(crew=_crew()) is None


def test_precedence_cli_then_agent_then_crew_then_settings(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECREW_LLM__MODEL", "settings-model")
    monkeypatch.setenv("TRADECREW_LLM__BASE_URL", "http://127.0.0.1:1/v1")
    get_settings.cache_clear()
    assert resolve_llm(crew=_crew()).model == "settings-model"
    crew = _crew(model="crew-model")
    assert resolve_llm(crew=crew).model == "crew-model"
    agent = AgentSpec(role="r", goal="g", llm=LLMSpec(model="agent-model", temperature=0.2))
    config = resolve_llm(crew=crew, agent=agent)
    assert (config.model, config.temperature) == ("agent-model", 0.2)
    assert config.base_url == "http://127.0.0.1:1/v1"
    cli = resolve_llm(model="cli-model", base_url="http://127.0.0.1:2/v1", crew=crew, agent=agent)
    assert (cli.model, cli.base_url) == ("cli-model", "http://127.0.0.1:2/v1")


def test_key_comes_from_the_environment_and_never_prints(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    config = resolve_llm(model="gpt-4o-mini", crew=_crew())
    assert config.api_key.get_secret_value() == "sk-secret-123"
    assert "sk-secret" not in repr(config) and "sk-secret" not in str(config)
    assert missing_key_reason(config) is None
    monkeypatch.delenv("OPENAI_API_KEY")
    assert "OPENAI_API_KEY" in missing_key_reason(resolve_llm(model="gpt-4o", crew=_crew()))
    assert (
        missing_key_reason(
            resolve_llm(model="llama3", base_url="http://127.0.0.1:1/v1", crew=_crew())
        )
        is None
    )


def test_crewai_telemetry_tracing_and_version_check_are_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CREWAI_TRACING_ENABLED", "true")
    prepare_crewai_environment()
    assert os.environ["CREWAI_DISABLE_TELEMETRY"] == "true"
    assert os.environ["CREWAI_TRACING_ENABLED"] == "false"
    assert os.environ["CREWAI_DISABLE_VERSION_CHECK"] == "true"
    from crewai_core.telemetry import Telemetry as CoreTelemetry

    assert CoreTelemetry._is_telemetry_disabled()


def test_built_llm_targets_only_the_configured_endpoint(home: Path) -> None:
    config = resolve_llm(model="local-model", base_url="http://127.0.0.1:9/v1", crew=_crew())
    gateway = LLMGateway(
        cache_dir=home / "c",
        base_url=config.base_url,
        recorder=RunRecorder(),
        max_tokens=1,
        max_cost=0,
        max_concurrency=1,
        max_retries=0,
    )
    llm = make_llm(config, gateway=gateway, symbol="XAUUSD")
    assert llm.model == "local-model" and llm.stream is False
    client = llm._get_sync_client()
    assert str(client.base_url) == "http://127.0.0.1:9/v1/"
    assert client.max_retries == 0

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


def test_precedence_cli_then_environment_then_agent_then_crew(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crew = _crew(model="crew-model")
    agent = AgentSpec(role="r", goal="g", llm=LLMSpec(model="agent-model", temperature=0.2))
    assert resolve_llm(crew=crew).model == "crew-model"
    assert resolve_llm(crew=crew, agent=agent).model == "agent-model"
    monkeypatch.setenv("TRADECREW_LLM__MODEL", "settings-model")
    monkeypatch.setenv("TRADECREW_LLM__BASE_URL", "http://127.0.0.1:1/v1")
    get_settings.cache_clear()
    # The environment beats every file, per-agent models included.
    assert resolve_llm(crew=_crew()).model == "settings-model"
    assert resolve_llm(crew=crew).model == "settings-model"
    config = resolve_llm(crew=crew, agent=agent)
    assert (config.model, config.temperature) == ("settings-model", 0.2)
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


ENV_KEY = "sk-env-secret-7f3a9c2e51"


def _hostile_crew_here(folder: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository's crew, its LLM pointed at ``url``, as ./crew.yaml of the current folder."""
    import yaml

    doc = yaml.safe_load((Path(__file__).parents[2] / "crew.yaml").read_text(encoding="utf-8"))
    doc["llm"] = {"model": "gpt-4o-mini", "base_url": url}
    doc["agents"]["research_analyst"]["llm"] = {"base_url": url}
    folder.mkdir(exist_ok=True)
    (folder / "crew.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    monkeypatch.chdir(folder)
    monkeypatch.delenv("TRADECREW_CREW_FILE", raising=False)
    get_settings.cache_clear()


def test_crew_file_in_the_current_folder_never_receives_the_environments_key(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server, proposals
) -> None:
    from tradecrew.agents import run_crew

    monkeypatch.setenv("TRADECREW_LLM__API_KEY", ENV_KEY)
    _hostile_crew_here(tmp_path / "cwd", server.base_url, monkeypatch)
    result = run_crew(["XAUUSD"], dry_run=True, propose=proposals, remember=False)
    assert server.requests, "the crew file's server is still called, without the key"
    sent = [h.get("authorization", "") for h in server.headers]
    assert sent and not any(ENV_KEY in value for value in sent)
    assert "API key is not sent there" in result.message
    assert ENV_KEY not in result.model_dump_json()


def test_the_key_goes_only_to_the_environments_or_the_callers_base_url(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECREW_LLM__API_KEY", ENV_KEY)
    get_settings.cache_clear()
    hostile = "http://127.0.0.1:9/v1"
    agent = AgentSpec(role="r", goal="g", llm=LLMSpec(base_url=hostile))
    from_file = resolve_llm(crew=_crew(model="m", base_url=hostile), agent=agent)
    assert (from_file.base_url, from_file.api_key, from_file.key_withheld) == (
        hostile,
        None,
        True,
    )
    # The provider's default URL (no base URL anywhere) and the caller's URL get the key.
    assert resolve_llm(crew=_crew(model="m")).api_key.get_secret_value() == ENV_KEY
    cli = resolve_llm(base_url="http://127.0.0.1:2/v1", crew=_crew("m", hostile), agent=agent)
    assert cli.base_url == "http://127.0.0.1:2/v1" and cli.api_key is not None
    # The environment's base URL beats every file, and it is trusted with the key.
    monkeypatch.setenv("TRADECREW_LLM__BASE_URL", "http://127.0.0.1:3/v1")
    get_settings.cache_clear()
    env = resolve_llm(crew=_crew("m", hostile), agent=agent)
    assert env.base_url == "http://127.0.0.1:3/v1" and env.api_key is not None


def test_a_client_for_a_crew_files_url_carries_no_key(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    config = resolve_llm(crew=_crew(model="m", base_url="http://127.0.0.1:9/v1"))
    gateway = LLMGateway(
        cache_dir=Path("unused"),
        base_url=config.base_url,
        recorder=RunRecorder(),
        max_tokens=1,
        max_cost=0,
        max_concurrency=1,
        max_retries=0,
    )
    client = make_llm(config, gateway=gateway)._get_sync_client()
    assert client.api_key != ENV_KEY and ENV_KEY not in str(client.auth_headers)

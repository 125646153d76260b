"""Fixtures for the crew tests: an isolated home, a proposal recorder, a scripted LLM server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.agents.scripts import DeskScript
from tests.fakes.llm_server import ScriptedLLMServer
from tradecrew.models import ProposalRequest


@dataclass
class FakeOutcome:
    proposal_id: str
    status: str = "pending"


@dataclass
class ProposalBox:
    """Stands in for the desk's ``propose``: keeps every request it is handed."""

    requests: list[ProposalRequest] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)

    def __call__(self, request: ProposalRequest, actor: str) -> FakeOutcome:
        assert isinstance(request, ProposalRequest)
        self.requests.append(request)
        self.actors.append(actor)
        return FakeOutcome(proposal_id=f"prp_{len(self.requests):04d}")


@pytest.fixture
def home(tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home with the repository's crew.yaml and no LLM from the environment."""
    for key in (
        "TRADECREW_LLM__MODEL",
        "TRADECREW_LLM__BASE_URL",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "TRADECREW_LLM__API_KEY",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TRADECREW_CREW_FILE", str(Path(__file__).parents[2] / "crew.yaml"))
    return tradecrew_home


@pytest.fixture
def proposals() -> ProposalBox:
    return ProposalBox()


@pytest.fixture
def script() -> DeskScript:
    return DeskScript()


@pytest.fixture
def server(script: DeskScript) -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(responder=script) as srv:
        yield srv


def settings_env(monkeypatch: pytest.MonkeyPatch, **values: Any) -> None:
    """Set TRADECREW_LLM__* values and re-read settings."""
    from tradecrew.config import get_settings

    for key, value in values.items():
        monkeypatch.setenv(f"TRADECREW_LLM__{key.upper()}", str(value))
    get_settings.cache_clear()

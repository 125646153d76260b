"""``crew.yaml``: the crew's agents and tasks, plus the desk's ``hybrid_ai`` settings section.

Users change the crew by editing this file alone, so it is validated strictly on load and a
mistake is reported with the file and the field, not a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tradecrew.crewpolicy import refused_fields

CREW_FILE_ENV = "TRADECREW_CREW_FILE"


class CrewFileError(ValueError):
    """crew.yaml is missing, unreadable or does not match the schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LLMSpec(_Strict):
    model: str | None = None
    base_url: str | None = None
    temperature: float | None = Field(None, ge=0.0, le=2.0)


class AgentSpec(_Strict):
    role: str = Field(min_length=1)
    goal: str = Field(min_length=1)
    backstory: str = ""
    tools: list[str] = Field(default_factory=list)
    llm: LLMSpec | None = None
    can_veto: bool = False
    max_iter: int = Field(8, ge=1, le=50)


class TaskSpec(_Strict):
    description: str = Field(min_length=1)
    expected_output: str = Field(min_length=1)
    agent: str
    context: list[str] = Field(default_factory=list)
    output: str | None = Field(None, description="name of the pydantic output model")


class HybridAI(BaseModel):
    """Desk settings kept beside the crew; validated in full by ``config.Settings``.

    No broker section: venue, keys, live trading and approval come only from the environment
    (see ``crewpolicy``); risk limits here may only tighten those of defaults + environment.
    """

    model_config = ConfigDict(extra="forbid")

    components: dict[str, Any] | None = None
    fusion: dict[str, Any] | None = None
    risk: dict[str, Any] | None = None


class CrewFile(_Strict):
    version: int = 1
    llm: LLMSpec = Field(default_factory=LLMSpec)
    hybrid_ai: HybridAI | None = None
    agents: dict[str, AgentSpec] = Field(default_factory=dict)
    tasks: dict[str, TaskSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references_resolve(self) -> CrewFile:
        for name, task in self.tasks.items():
            if task.agent not in self.agents:
                raise ValueError(f"task {name!r} names unknown agent {task.agent!r}")
            for dep in task.context:
                if dep not in self.tasks:
                    raise ValueError(f"task {name!r} has unknown context task {dep!r}")
        return self


def default_crew_path() -> Path:
    """crew.yaml beside the package when installed, else at the repository root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "crew.yaml", here.parent / "crew.yaml"):
        if candidate.is_file():
            return candidate
    return here.parent / "crew.yaml"


def crew_origin() -> tuple[Path | None, str]:
    """The crew file in force and why: $TRADECREW_CREW_FILE, ./crew.yaml, then the packaged one."""
    explicit = os.environ.get(CREW_FILE_ENV)
    if explicit:
        return Path(explicit), f"named by ${CREW_FILE_ENV}"
    local = Path.cwd() / "crew.yaml"
    if local.is_file():
        return local, "crew.yaml in the current folder"
    default = default_crew_path()
    return (default, "packaged default") if default.is_file() else (None, "no crew file")


def crew_path() -> Path | None:
    """The crew file in force: $TRADECREW_CREW_FILE, ./crew.yaml, then the packaged one."""
    return crew_origin()[0]


def load_crew_file(path: Path | None = None) -> CrewFile:
    """Load and validate a crew file; no file at all means an empty, valid crew."""
    path = path or crew_path()
    if path is None:
        return CrewFile()
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CrewFileError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise CrewFileError(f"{path}: not valid YAML: {exc}") from None
    if raw is None:
        return CrewFile()
    if not isinstance(raw, dict):
        raise CrewFileError(f"{path}: expected a mapping at the top level")
    refused = refused_fields(raw)
    if refused:
        raise CrewFileError(f"{path}: {'; '.join(refused)}")
    try:
        return CrewFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise CrewFileError(f"{path}: {problems}") from None

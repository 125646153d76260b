"""Settings: defaults, then ``crew.yaml`` (its ``hybrid_ai`` section), then ``TRADECREW_*`` env.

Nested fields use ``__`` in the environment: ``TRADECREW_RISK__MAX_DAILY_LOSS_PCT=0.02``,
``TRADECREW_COMPONENTS__SENTIMENT__BACKEND=finbert``. Secrets (API keys) only ever come from
the environment and are ``SecretStr`` so they never print.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# The section models live in config_sections; the ones callers import from here are re-exported.
from tradecrew.config_sections import (
    MAX_CORRELATION_WINDOW,
    AlertSettings,
    BrokerSettings,
    CalendarComponent,
    Components,
    CorrelationComponent,
    DataSettings,
    FusionSettings,
    GuardSettings,
    LLMSettings,
    McpSettings,
    MemorySettings,
    NewsSettings,
    ResearchSettings,
    RiskSettings,
    ServeSettings,
    SessionComponent,
)
from tradecrew.crewfile import CrewFileError, crew_path, load_crew_file
from tradecrew.crewpolicy import (
    GATE_COMPONENT_RULES,
    flatten,
    loosened_component,
    loosened_risk,
    not_overridden,
)

__all__ = [
    "MAX_CORRELATION_WINDOW",
    "AlertSettings",
    "BrokerSettings",
    "CalendarComponent",
    "Components",
    "CorrelationComponent",
    "DataSettings",
    "FusionSettings",
    "GuardSettings",
    "HomeUnusable",
    "LLMSettings",
    "McpSettings",
    "MemorySettings",
    "NewsSettings",
    "RiskSettings",
    "ServeSettings",
    "SessionComponent",
    "Settings",
    "crew_file_changes",
    "get_settings",
]

_M = TypeVar("_M", bound=BaseModel)


class HomeUnusable(ValueError):
    """TRADECREW_HOME names something that is not a folder the desk can create or use."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRADECREW_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    home: Path = Field(default_factory=lambda: Path.home() / ".tradecrew")
    crew_file: Path | None = None
    database_url: str | None = None
    data_source: str = Field(
        "sample",
        description="sample | csv:PATH | alpaca | yfinance | openbb | mt5 | ccxt[:EXCHANGE]",
    )
    symbols: list[str] = Field(
        default_factory=lambda: ["XAUUSD", "EURUSD", "GBPUSD", "SPX", "BTCUSD"]
    )
    timeframe: str = "D1"
    components: Components = Field(default_factory=Components)
    fusion: FusionSettings = Field(default_factory=FusionSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    news: NewsSettings = Field(default_factory=NewsSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    # Environment only: a crew file (untrusted, maybe from the current folder) cannot loosen
    # the overfitting guards, because HYBRID_SECTIONS does not include this section.
    research: ResearchSettings = Field(default_factory=ResearchSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    # Environment only (not a crew-file section): it holds the bot token and webhook URL.
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The crew file may come from the current folder: it ranks last, and it may only
        # tighten the risk limits that defaults + environment (+ init) give.
        crew = _CrewFileSource(settings_cls, init_settings, env_settings)
        return (init_settings, env_settings, crew)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'tradecrew.db'}"

    def ensure_home(self) -> Path:
        """The home folder, created 0700; refused when another user owns it or can write it."""
        from tradecrew.homedir import private_home

        try:
            return private_home(self.home)
        except (FileExistsError, NotADirectoryError):
            raise HomeUnusable(
                f"TRADECREW_HOME {self.home} is not a folder (a file is in its place); "
                "point TRADECREW_HOME at a folder"
            ) from None
        except PermissionError:
            raise HomeUnusable(
                f"TRADECREW_HOME {self.home} cannot be created here: permission denied"
            ) from None


class _CrewFileSource(PydanticBaseSettingsSource):
    """Reads the ``hybrid_ai`` section of crew.yaml: components, fusion, tighter risk limits.

    ``above`` are the sources that outrank the file; a risk limit the file loosens relative
    to them is refused with a CrewFileError naming the field.
    """

    def __init__(
        self, settings_cls: type[BaseSettings], *above: PydanticBaseSettingsSource
    ) -> None:
        super().__init__(settings_cls)
        self._above = above

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def _outranking(self, *keys: str) -> dict[str, Any]:
        """Section ``keys`` as the outranking sources set it (the defaults not included)."""
        merged: dict[str, Any] = {}
        for source in reversed(self._above):  # the highest-ranked source is first
            node: Any = source()
            for key in keys:
                node = node.model_dump() if isinstance(node, BaseModel) else node
                node = node.get(key) if isinstance(node, dict) else None
            node = node.model_dump() if isinstance(node, BaseModel) else node
            if isinstance(node, dict):
                merged.update(node)
        return merged

    def _tightens(self, mine: dict[str, Any], model: type[_M], check: Any, *keys: str) -> list[str]:
        """``check``'s complaints about the values of ``mine`` that are in force."""
        above = self._outranking(*keys)
        in_force = not_overridden(mine, above)  # what the environment sets, it decides
        if not in_force:
            return []
        try:
            base = model.model_validate(above)
        except ValidationError:
            return []  # Settings reports the environment's own mistake
        return list(check(in_force, base))

    def __call__(self) -> dict[str, Any]:
        crew = load_crew_file()
        section = crew.hybrid_ai.model_dump(exclude_none=True) if crew.hybrid_ai else {}
        problems: list[str] = []
        if section.get("risk"):
            problems += self._tightens(section["risk"], RiskSettings, loosened_risk, "risk")
        for name in GATE_COMPONENT_RULES:
            # The risk gate reads these component fields too: they tighten only.
            part = (section.get("components") or {}).get(name)
            if isinstance(part, dict) and part:
                model = type(getattr(Components(), name))
                problems += self._tightens(
                    part,
                    model,
                    lambda mine, base, name=name: loosened_component(name, mine, base),
                    "components",
                    name,
                )
        if problems:
            raise CrewFileError(f"{crew_path()}: {'; '.join(problems)}")
        return section


def crew_file_changes() -> tuple[list[str], list[str]]:
    """The settings the crew file sets that are in force, and those the environment overrides."""
    crew = load_crew_file()
    section = crew.hybrid_ai.model_dump(exclude_none=True) if crew.hybrid_ai else {}
    env = flatten(EnvSettingsSource(Settings)())

    def overridden(key: str) -> bool:  # the key, or a whole section above it, set in env
        return any(key == k or key.startswith(f"{k}.") for k in env)

    mine = flatten(section)
    return (
        sorted(k for k in mine if not overridden(k)),
        sorted(k for k in mine if overridden(k)),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after env changes."""
    return Settings()

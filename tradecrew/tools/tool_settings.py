"""What the tools read from the settings their caller holds, as structural types.

The tools never load the settings themselves: a front end passes its own (the process
settings, or a configuration version applied over them), and ``tradecrew.config.Settings``
has every attribute named here. Only the section models are imported, never the singleton.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from tradecrew.config_sections import Components, FusionSettings, LLMSettings


class AnalysisSettings(Protocol):
    """What one analysis runs with: the analyzers' switches and thresholds, the fusion, and
    the sentiment backends' model settings and home folder."""

    @property
    def home(self) -> Path: ...

    @property
    def components(self) -> Components: ...

    @property
    def fusion(self) -> FusionSettings: ...

    @property
    def llm(self) -> LLMSettings: ...


class ToolSettings(AnalysisSettings, Protocol):
    """What the registry's tools run with: an analysis's settings and the data source a
    query without its own reads."""

    @property
    def data_source(self) -> str: ...

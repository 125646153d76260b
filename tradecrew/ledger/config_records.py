"""Records of the desk's analysis configuration versions and champion/challenger experiments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from tradecrew.models import Model, new_id, utcnow

#: Who changed a configuration on their own: the AutoML run and the A/B monitor.
MACHINE_CHANNEL = "system"


class ConfigVersion(Model):
    """One version of the analysis configuration; the newest is the active one.

    ``content`` is what the version overrides of the settings (fusion weights, components on
    or off and their thresholds); version 0 (no row) is the settings alone."""

    version: int
    based_on: int | None = None
    kind: str
    content: dict[str, Any] = Field(default_factory=dict)
    evidence: dict[str, Any] = Field(default_factory=dict)
    actor: str
    channel: str
    reason: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class ABExperiment(Model):
    """Champion (the configuration version live at the start) against a challenger (another
    version's number, or ``traditional``), both evaluated in shadow over the same votes."""

    id: str = Field(default_factory=lambda: new_id("abx"))
    champion: int
    challenger: str
    symbols: list[str]
    timeframe: str
    status: str = "running"
    started_at: datetime = Field(default_factory=utcnow)
    started_by: str
    stopped_at: datetime | None = None
    stopped_by: str | None = None
    outcome: dict[str, Any] = Field(default_factory=dict)


class ABObservation(Model):
    """One bar: each arm's hypothetical position from the same votes and its net return over
    the next bar; ``attribution``: the champion's per-component contribution times the
    bar's market return."""

    experiment_id: str
    symbol: str
    bar_time: datetime
    champion_position: float
    challenger_position: float
    champion_return: float
    challenger_return: float
    attribution: dict[str, float] = Field(default_factory=dict)

"""The desk's analysis configuration as versions in the ledger: fusion weights, components on
or off and their thresholds, over the settings' defaults.

The active version (the ledger's newest) overrides the settings for every analysis the desk
proposes from. A version never touches a risk limit: it holds no ``risk`` field, and the
component fields the risk gate reads (``crewpolicy.GATE_COMPONENT_RULES``) may only tighten.
Every change is a new version, audited with its actor, channel and reason, and reversible:
``rollback`` makes a new version restoring the one before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradecrew.config import Components, FusionSettings, Settings
from tradecrew.crewpolicy import GATE_COMPONENT_RULES

if TYPE_CHECKING:
    from tradecrew.ledger import ConfigVersion, Ledger

#: Votes of the fusion that no settings section switches: off means weight 0.
FUSION_ONLY = ("trend", "momentum", "volume", "mtf")
#: Analyzers with a ``settings.components.<name>`` section and its ``enabled`` switch.
SECTIONS = ("regime", "sentiment", "correlation", "session", "calendar")
COMPONENTS = (*FUSION_ONLY, *SECTIONS)
#: The thresholds a version may set, per section.
THRESHOLDS: dict[str, tuple[str, ...]] = {
    "regime": ("min_confidence",),
    "sentiment": ("threshold",),
    "correlation": ("max_correlation",),
    "calendar": ("minutes_before", "minutes_after", "risk_reduction"),
}

#: Thresholds that versions written before their setting was removed may hold: reading such a
#: version drops them (they never changed a decision), while a new version may not set them.
_RETIRED_THRESHOLDS: dict[str, tuple[str, ...]] = {"session": ("min_activity",)}

_Weight = Annotated[float, Field(ge=0.0, le=1e6)]


class ConfigContent(BaseModel):
    """What one version overrides of the settings; anything left out keeps the settings'."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    weights: dict[str, _Weight] | None = None
    neutral_band: float | None = Field(None, ge=0.0, le=1.0)
    enabled: dict[str, bool] = Field(default_factory=dict)
    thresholds: dict[str, dict[str, float]] = Field(default_factory=dict)

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        for name in v:
            if name not in COMPONENTS:
                raise ValueError(f"no fusion component is named {name!r}")
        if not any(w > 0 for w in v.values()):
            raise ValueError("at least one fusion weight must be above 0")
        return v

    @field_validator("enabled")
    @classmethod
    def _enabled(cls, v: dict[str, bool]) -> dict[str, bool]:
        for name in v:
            if name not in COMPONENTS:
                raise ValueError(f"unknown component {name!r}; known: {', '.join(COMPONENTS)}")
        return v

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for section, fields in v.items():
            allowed = THRESHOLDS.get(section, ())
            for name, value in fields.items():
                if name not in allowed:
                    raise ValueError(f"components.{section}.{name} is not a tunable threshold")
                if not math.isfinite(value):
                    raise ValueError(f"components.{section}.{name} must be finite")
        return v


class ComponentState(BaseModel):
    name: str
    enabled: bool
    weight: float | None = Field(description="fusion weight in force (None: not a fusion vote)")
    thresholds: dict[str, float] = Field(default_factory=dict)
    risk_gate: bool = Field(description="the risk gate reads it: it may only be tightened")


class ComponentsView(BaseModel):
    """The components in force and where they come from (a ledger version or the settings)."""

    version: int = Field(description="the active configuration version; 0: the settings alone")
    source: str
    changed_by: str | None = None
    channel: str | None = None
    reason: str | None = None
    components: list[ComponentState]


class ConfigChange(BaseModel):
    """What a change did: ``changed`` false when the configuration already was so."""

    changed: bool
    version: int
    previous: int
    kind: str
    message: str


def content_of(version: ConfigVersion | None) -> ConfigContent:
    if version is None:
        return ConfigContent()
    return ConfigContent.model_validate(_without_retired(version.content))


def _without_retired(content: Mapping[str, Any]) -> dict[str, Any]:
    stored = content.get("thresholds")
    if not isinstance(stored, Mapping):
        return dict(content)
    thresholds = {}
    for section, fields in stored.items():
        gone = _RETIRED_THRESHOLDS.get(section, ())
        if gone and isinstance(fields, Mapping):
            fields = {k: v for k, v in fields.items() if k not in gone}
            if not fields:
                continue
        thresholds[section] = fields
    return {**content, "thresholds": thresholds}


def effective_settings(
    settings: Settings, content: ConfigContent, *, strict: bool = False
) -> Settings:
    """``settings`` with the version's fusion and components applied; risk untouched.

    A gate-read component field the version would loosen is refused (``strict``: when a
    change is made), or else the stricter value of the two is kept: settings tightened after
    the version was made still hold."""
    fusion = settings.fusion.model_dump()
    comps = settings.components.model_dump()
    if content.weights is not None:
        fusion["weights"] = dict(content.weights)
    if content.neutral_band is not None:
        fusion["neutral_band"] = content.neutral_band
    for name, on in content.enabled.items():
        if name in SECTIONS:
            comps[name]["enabled"] = on
        if not on and name in fusion["weights"]:
            fusion["weights"][name] = 0.0
    for section, fields in content.thresholds.items():
        comps[section].update(fields)
    new_components = Components.model_validate(comps)
    problems: list[str] = []
    for section, rules in GATE_COMPONENT_RULES.items():
        base, wanted = getattr(settings.components, section), getattr(new_components, section)
        for field, looser in rules.items():
            was, asked = getattr(base, field), getattr(wanted, field)
            if looser(was, asked):
                if strict:
                    problems.append(
                        f"components.{section}.{field}: the risk gate reads it, so a "
                        f"configuration version may only tighten it ({asked!r} is looser than "
                        f"{was!r} from the settings)"
                    )
                else:
                    comps[section][field] = was
    if problems:
        raise ValueError("; ".join(problems))
    if not strict:
        new_components = Components.model_validate(comps)
    new_fusion = FusionSettings.model_validate(fusion)
    if not any(w > 0 for w in new_fusion.weights.values()):
        raise ValueError("every fusion component would be off; keep at least one")
    return settings.model_copy(update={"fusion": new_fusion, "components": new_components})


def active_settings(settings: Settings, ledger: Ledger) -> tuple[Settings, int]:
    """The settings the desk analyses with now, and the active version's number (0: none)."""
    version = ledger.active_config()
    if version is None:
        return settings, 0
    return effective_settings(settings, content_of(version)), version.version


def _weight(settings: Settings, name: str) -> float | None:
    return settings.fusion.weights.get(name) if name in settings.fusion.weights else None


def components_view(settings: Settings, ledger: Ledger) -> ComponentsView:
    version = ledger.active_config()
    live = settings if version is None else effective_settings(settings, content_of(version))
    return ComponentsView(
        version=0 if version is None else version.version,
        source="settings" if version is None else "ledger",
        changed_by=None if version is None else version.actor,
        channel=None if version is None else version.channel,
        reason=None if version is None else version.reason,
        components=component_states(live),
    )


def component_states(live: Settings) -> list[ComponentState]:
    """Each component as ``live`` (settings with a version applied) has it."""
    states = []
    for name in COMPONENTS:
        section = getattr(live.components, name, None)
        weight = _weight(live, name)
        enabled = (
            bool(section.enabled) if section is not None else (weight is not None and weight > 0)
        )
        if section is not None and weight is not None and weight == 0:
            enabled = False
        thresholds = {f: float(getattr(section, f)) for f in THRESHOLDS.get(name, ())}
        states.append(
            ComponentState(
                name=name,
                enabled=enabled,
                weight=weight,
                thresholds=thresholds,
                risk_gate=name in GATE_COMPONENT_RULES and "enabled" in GATE_COMPONENT_RULES[name],
            )
        )
    return states


def _record(
    ledger: Ledger,
    settings: Settings,
    current: ConfigVersion | None,
    content: ConfigContent,
    *,
    kind: str,
    actor: str,
    channel: str,
    reason: str,
    evidence: dict[str, Any] | None = None,
    based_on: int | None = -1,
) -> ConfigVersion:
    effective_settings(settings, content, strict=True)  # refuses before anything is written
    return ledger.add_config_version(
        content.model_dump(exclude_none=True),
        kind=kind,
        actor=actor,
        channel=channel,
        reason=reason,
        evidence=evidence,
        based_on=based_on,
        expected=0 if current is None else current.version,
    )


def set_component(
    ledger: Ledger,
    settings: Settings,
    name: str,
    enabled: bool,
    *,
    actor: str,
    channel: str,
    reason: str = "",
) -> ConfigChange:
    """Turn one component on or off as a new version (nothing when it already is so)."""
    name = name.strip().lower()
    if name not in COMPONENTS:
        raise ValueError(f"unknown component {name!r}; known: {', '.join(COMPONENTS)}")
    current = ledger.active_config()
    number = 0 if current is None else current.version
    view = {c.name: c for c in components_view(settings, ledger).components}
    word = "enabled" if enabled else "disabled"
    if view[name].enabled == enabled:
        return ConfigChange(
            changed=False,
            version=number,
            previous=number,
            kind="toggle",
            message=f"{name} is already {word} (version {number}); nothing changed",
        )
    content = content_of(current)
    toggles = {**content.enabled, name: enabled}
    weights = content.weights
    if enabled and name in settings.fusion.weights:
        base = dict(weights if weights is not None else settings.fusion.weights)
        if base.get(name, 0.0) == 0.0:
            # Back on with the settings' weight when its own weight was what kept it off.
            base[name] = settings.fusion.weights[name] or 0.1
            weights = base
    new = content.model_copy(update={"enabled": toggles, "weights": weights})
    why = reason.strip() or f"{name} {word}"
    made = _record(
        ledger, settings, current, new, kind="toggle", actor=actor, channel=channel, reason=why
    )
    return ConfigChange(
        changed=True,
        version=made.version,
        previous=number,
        kind="toggle",
        message=f"{name} {word}: configuration version {made.version} (was {number})",
    )


def adopt(
    ledger: Ledger,
    settings: Settings,
    *,
    weights: dict[str, float] | None = None,
    neutral_band: float | None = None,
    disable: tuple[str, ...] = (),
    kind: str,
    actor: str,
    channel: str,
    reason: str,
    evidence: dict[str, Any] | None = None,
) -> ConfigVersion:
    """A new version with these weights (and band), or these components off, over the
    active one."""
    current = ledger.active_config()
    content = content_of(current)
    update: dict[str, Any] = {}
    if weights is not None:
        update["weights"] = {k: float(v) for k, v in weights.items()}
    if neutral_band is not None:
        update["neutral_band"] = float(neutral_band)
    if disable:
        update["enabled"] = {**content.enabled, **dict.fromkeys(disable, False)}
    new = ConfigContent.model_validate({**content.model_dump(), **update})
    return _record(
        ledger,
        settings,
        current,
        new,
        kind=kind,
        actor=actor,
        channel=channel,
        reason=reason,
        evidence=evidence,
    )


def rollback(
    ledger: Ledger, settings: Settings, *, actor: str, channel: str, reason: str = ""
) -> ConfigChange:
    """A new version restoring the one the active version replaced (the settings alone when
    it replaced none); ValueError when no version is active."""
    current = ledger.active_config()
    if current is None:
        raise ValueError(
            "nothing to roll back: no configuration version is active (the settings alone "
            "are in force)"
        )
    if current.based_on is None:
        raise ValueError(
            f"nothing to roll back: version {current.version} restored the settings alone and "
            "no version came before it"
        )
    target = current.based_on
    if target:
        earlier = ledger.config_version(target)
        content, based_on = content_of(earlier), earlier.based_on
    else:
        content, based_on = ConfigContent(), None
    why = reason.strip() or f"rollback of version {current.version} to version {target}"
    made = _record(
        ledger,
        settings,
        current,
        content,
        kind="rollback",
        actor=actor,
        channel=channel,
        reason=why,
        evidence={"rolled_back": current.version, "restored": target},
        based_on=based_on,
    )
    return ConfigChange(
        changed=True,
        version=made.version,
        previous=current.version,
        kind="rollback",
        message=f"version {current.version} rolled back: version {made.version} restores "
        f"version {target}" + (" (the settings alone)" if not target else ""),
    )

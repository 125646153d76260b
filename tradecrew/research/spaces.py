"""Search spaces for tuning: the default ones of the built-in strategies, and parsing a
user's ``--space name=low:high`` / ``--space name=a,b,c`` and ``--grid name=a,b,c``."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, model_validator

if TYPE_CHECKING:
    import optuna

__all__ = [
    "ParamRange",
    "Space",
    "default_space",
    "grid_from_specs",
    "parse_space",
    "parse_value",
    "space_from_strategy",
    "space_json",
    "suggest",
]

ParamValue = float | int | str
# The entry level of the fused strategies: below 0.02 every flicker trades, above 0.6 the
# fused score rarely gets there.
_THRESHOLD = (0.02, 0.6)
# The hybrid's component thresholds (research.backtest.signals.THRESHOLD_PARAMS). Regime:
# below 0.3 the HMM's weakest guesses vote, above 0.9 it almost never does. Calendar: up to
# four hours before an event and two after, any size reduction. The correlation limit acts
# only with peer series, which a tuning run does not load: it is a parameter (--space,
# --param) but no default dimension, since a dimension that changes nothing only slows TPE.
_COMPONENT_THRESHOLDS: dict[str, tuple[str, float, float]] = {
    "regime_min_confidence": ("float", 0.3, 0.9),
    "calendar_minutes_before": ("int", 0, 240),
    "calendar_minutes_after": ("int", 0, 120),
    "calendar_risk_reduction": ("float", 0.0, 1.0),
}


class ParamRange(BaseModel):
    """One tuned parameter: an int or float range (``log`` for scale parameters) or choices."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    kind: Literal["int", "float", "choice"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[ParamValue] | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ParamRange:
        if self.kind == "choice":
            if not self.choices:
                raise ValueError("a choice parameter needs at least one choice")
            return self
        if self.low is None or self.high is None or not self.low <= self.high:
            raise ValueError(f"a range needs low <= high, got {self.low}:{self.high}")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        if self.kind == "int" and not (
            float(self.low).is_integer() and float(self.high).is_integer()
        ):
            raise ValueError(f"an int range needs whole bounds, got {self.low}:{self.high}")
        return self


Space = dict[str, ParamRange]


def _int(low: int, high: int) -> ParamRange:
    return ParamRange(kind="int", low=low, high=high)


def _float(low: float, high: float) -> ParamRange:
    return ParamRange(kind="float", low=low, high=high)


def _fused(components: Iterable[str]) -> Space:
    space = {f"w_{c}": _float(0.0, 1.0) for c in components}
    space["threshold"] = _float(*_THRESHOLD)
    return space


def _component_thresholds() -> Space:
    return {
        name: _int(int(low), int(high)) if kind == "int" else _float(low, high)
        for name, (kind, low, high) in _COMPONENT_THRESHOLDS.items()
    }


def default_space(strategy: str) -> Space:
    """The built-in strategies' spaces: SMA windows; fusion weights and the entry threshold;
    for the hybrid also the component thresholds its decision reads."""
    from tradecrew.research.backtest.signals import HYBRID_COMPONENTS, INDICATOR_COMPONENTS

    if strategy == "sma_cross":
        # fast >= slow is refused by the strategy: such a trial is pruned, not scored.
        return {"fast": _int(2, 40), "slow": _int(20, 200)}
    if strategy == "traditional":
        return _fused(INDICATOR_COMPONENTS)
    if strategy == "hybrid":
        return {**_fused(HYBRID_COMPONENTS), **_component_thresholds()}
    raise ValueError(
        f"strategy {strategy} has no default search space; give one with --space name=low:high"
    )


def space_from_strategy(strategy: Any) -> Space | None:
    """A user strategy's own ``space`` attribute: name -> (low, high) or a list of choices."""
    raw = getattr(strategy, "space", None)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError("a strategy's space must map parameter names to (low, high) or choices")
    out: Space = {}
    for name, spec in raw.items():
        if isinstance(spec, ParamRange):
            out[str(name)] = spec
        elif isinstance(spec, tuple) and len(spec) == 2:
            out[str(name)] = _range(str(name), spec[0], spec[1])
        elif isinstance(spec, list):
            out[str(name)] = ParamRange(kind="choice", choices=list(spec))
        else:
            raise ValueError(f"space of {name}: use (low, high) or a list of choices")
    return out


def parse_value(text: str) -> ParamValue:
    """``"10"`` -> 10, ``"0.5"`` -> 0.5, anything else stays text."""
    raw = text.strip()
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        return raw
    if not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a finite number")
    return value


def _range(name: str, low: Any, high: Any) -> ParamRange:
    if isinstance(low, str) or isinstance(high, str):
        raise ValueError(f"the range of {name} needs numbers, got {low}:{high}")
    kind: Literal["int", "float"] = (
        "int" if isinstance(low, int) and isinstance(high, int) else "float"
    )
    return ParamRange(kind=kind, low=float(low), high=float(high))


def _split(spec: str, flag: str) -> tuple[str, str]:
    name, sep, value = spec.partition("=")
    name = name.strip()
    if not sep or not name or not value.strip():
        raise ValueError(f"{flag} {spec!r}: use {flag} name=value")
    if not name.replace("_", "").isalnum():
        raise ValueError(f"{flag} {spec!r}: a parameter name is letters, digits and _")
    return name, value


def parse_space(specs: Iterable[str]) -> Space:
    """``name=low:high`` (ints give an int range) or ``name=a,b,c`` (choices)."""
    out: Space = {}
    for spec in specs:
        name, value = _split(spec, "--space")
        if ":" in value:
            low, _, high = value.partition(":")
            out[name] = _range(name, parse_value(low), parse_value(high))
        else:
            out[name] = ParamRange(
                kind="choice", choices=[parse_value(v) for v in value.split(",")]
            )
    return out


def grid_from_specs(
    specs: Iterable[str], base: Mapping[str, ParamValue] | None = None
) -> list[dict[str, ParamValue]]:
    """The cartesian product of ``name=a,b,c`` specs (``base`` fixed parameters in each)."""
    axes: dict[str, list[ParamValue]] = {}
    for spec in specs:
        name, value = _split(spec, "--grid")
        axes[name] = [parse_value(v) for v in value.split(",") if v.strip()]
    combos = itertools.product(*axes.values())
    return [{**(base or {}), **dict(zip(axes, combo, strict=True))} for combo in combos]


def space_json(space: Space) -> dict[str, Any]:
    """``space`` as plain JSON, in name order: what a study stores and compares."""
    return {k: v.model_dump(exclude_defaults=True) for k, v in sorted(space.items())}


def suggest(trial: optuna.Trial, space: Space) -> dict[str, ParamValue]:
    """One point of ``space`` from optuna's sampler."""
    out: dict[str, ParamValue] = {}
    for name, rng in space.items():
        if rng.kind == "choice":
            out[name] = cast(ParamValue, trial.suggest_categorical(name, rng.choices or []))
        elif rng.kind == "int":
            out[name] = trial.suggest_int(name, int(rng.low or 0), int(rng.high or 0), log=rng.log)
        else:
            out[name] = trial.suggest_float(
                name, float(rng.low or 0), float(rng.high or 0), log=rng.log
            )
    return out

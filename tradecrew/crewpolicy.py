"""What a crew file may set: the crew, analysis components, fusion, and tighter risk limits.

A crew file can come from the current folder, so it is treated as untrusted: it never holds
secrets, broker settings, live-trading or approval switches, and it may only tighten a risk
limit relative to the defaults and the environment. A refused field fails the load with one
line naming it (refusing is clearer than silently ignoring what a file asks for).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from tradecrew.instruments import normalize_symbol

# The hybrid_ai sections a crew file may hold; everything else belongs to the environment.
HYBRID_SECTIONS = ("components", "fusion", "risk")

_SECRET_NAMES = frozenset({"api_key", "key", "secret", "token", "password", "passwd"})
_SECRET_SUFFIXES = ("_api_key", "_secret", "_secret_key", "_token", "_password", "_credentials")
_SWITCHES = frozenset({"live_trading", "auto_approve_paper", "live", "auto_approve"})

# Which way each RiskSettings field tightens. A field missing here cannot be set by a crew
# file at all, so a limit added later is safe until someone decides its direction.
LOWER_IS_TIGHTER = frozenset(
    {
        "max_order_notional",
        "max_position_notional",
        "max_gross_exposure",
        "max_net_exposure",
        "max_currency_exposure",
        "max_shrink_ratio",
        "max_daily_loss_pct",
        "max_drawdown_pct",
        "max_correlation",
        "price_band_pct",
        "max_orders_per_minute",
        "risk_per_trade",
        "proposal_ttl_seconds",
    }
)
# A wider ATR stop means fewer units for the same equity at risk.
HIGHER_IS_TIGHTER = frozenset({"min_signal_confidence", "atr_stop_multiple"})
ONLY_ON = frozenset({"enforce_market_hours"})
PER_KEY_LOWER = frozenset({"max_position_units"})
ZERO_IS_OFF = frozenset({"max_quote_age_seconds"})  # lower is tighter, 0 switches it off
APPROVAL_FIELDS = frozenset({"approval_ttl_seconds"})
RISK_RULES = LOWER_IS_TIGHTER | HIGHER_IS_TIGHTER | ONLY_ON | PER_KEY_LOWER | ZERO_IS_OFF


def _is_secret(name: str) -> bool:
    low = name.lower()
    return low in _SECRET_NAMES or low.endswith(_SECRET_SUFFIXES)


def _walk(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """(dotted path, key) of every mapping key under ``node``."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            yield path, str(key)
            yield from _walk(value, path)


def refused_fields(raw: Mapping[str, Any]) -> list[str]:
    """One message per field the crew file may not set (empty when the file is acceptable)."""
    problems: list[str] = []
    checked: list[tuple[str, Any]] = [("llm", raw.get("llm"))]
    agents = raw.get("agents")
    if isinstance(agents, Mapping):
        checked += [(f"agents.{n}.llm", a.get("llm")) for n, a in agents.items() if _is_map(a)]
    hybrid = raw.get("hybrid_ai")
    if isinstance(hybrid, Mapping):
        for name in hybrid:
            if name == "broker":
                problems.append(
                    "hybrid_ai.broker: broker settings (venue, keys, live trading, approval) "
                    "come only from the environment (TRADECREW_BROKER__*)"
                )
            elif name not in HYBRID_SECTIONS:
                problems.append(
                    f"hybrid_ai.{name}: a crew file may set only "
                    f"{', '.join(HYBRID_SECTIONS)}; the rest comes from the environment"
                )
            else:
                checked.append((f"hybrid_ai.{name}", hybrid[name]))
    for where, node in checked:
        for path, key in _walk(node, where):
            if _is_secret(key):
                problems.append(
                    f"{path}: a crew file never holds secrets; set keys in the environment"
                )
            elif key.lower() in _SWITCHES or key in APPROVAL_FIELDS or "approv" in key.lower():
                problems.append(
                    f"{path}: live-trading and approval settings come only from the environment"
                )
    return problems


def _is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _loose(name: str, base: Any, wanted: Any) -> str | None:
    """Why ``wanted`` is looser than ``base`` for risk field ``name``, or None."""
    if name in LOWER_IS_TIGHTER:
        return f"{_fmt(wanted)} is above {_fmt(base)}" if wanted > base else None
    if name in HIGHER_IS_TIGHTER:
        return f"{_fmt(wanted)} is below {_fmt(base)}" if wanted < base else None
    if name in ONLY_ON:
        return "it may only be turned on" if base and not wanted else None
    if name in ZERO_IS_OFF:
        # Per asset class when the limit is a section (max_quote_age_seconds.forex ...).
        bases, asks = _by_key(base), _by_key(wanted)
        looser = [k for k, v in asks.items() if (v or math.inf) > (bases.get(k) or math.inf)]
        if not looser:
            return None
        if looser == [""]:
            return f"{_fmt(wanted)} is looser than {_fmt(base)} (0 is off)"
        return f"looser for {', '.join(looser)} (0 is off)"
    if name in PER_KEY_LOWER:
        # Keys are symbols or aliases (GOLD is XAUUSD): compare by instrument, since the
        # first key naming an instrument is the one the risk engine applies.
        limits = {normalize_symbol(k): v for k, v in base.items()}
        looser = [k for k, v in wanted.items() if v > limits.get(normalize_symbol(k), math.inf)]
        return f"above the limit for {', '.join(looser)}" if looser else None
    return "no rule says which way it tightens; set it in the environment"


def _by_key(value: Any) -> dict[str, Any]:
    return value.model_dump() if isinstance(value, BaseModel) else {"": value}


def loosened_risk(crew_risk: Mapping[str, Any], base: BaseModel) -> list[str]:
    """One message per risk field the crew file sets looser than ``base`` (defaults + env).

    ``base`` is the RiskSettings in force without the crew file; the file's values are
    validated with the same model, so a bad value is also reported here, by field.
    """
    model = type(base)
    merged = base.model_dump()
    for name, value in crew_risk.items():  # nested sections merge, as settings sources do
        inner = merged.get(name)
        merged[name] = {**inner, **value} if _is_map(inner) and _is_map(value) else value
    try:
        wanted = model.model_validate(merged)
    except ValidationError as exc:
        return [
            f"hybrid_ai.risk.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        ]
    problems = []
    for name in crew_risk:
        if name not in model.model_fields:
            problems.append(f"hybrid_ai.risk.{name}: not a risk setting")
            continue
        why = _loose(name, getattr(base, name), getattr(wanted, name))
        if why is not None:
            problems.append(
                f"hybrid_ai.risk.{name}: a crew file may only tighten risk limits ({why}, "
                "the value from the defaults and the environment)"
            )
    return problems


# components.calendar drives the risk gate's event blackout: each field tightens one way,
# and the calendar file (which events exist) comes only from the environment.
_CALENDAR_LOOSER: dict[str, Any] = {
    "enabled": lambda base, wanted: base and not wanted,
    "minutes_before": lambda base, wanted: wanted < base,
    "minutes_after": lambda base, wanted: wanted < base,
    "risk_reduction": lambda base, wanted: wanted > base,  # a size multiplier: 1 is none
    "action": lambda base, wanted: base == "block" and wanted != "block",
    "file": lambda base, wanted: wanted != base,
}


def loosened_calendar(crew_calendar: Mapping[str, Any], base: BaseModel) -> list[str]:
    """One message per ``components.calendar`` field the crew file sets looser than ``base``."""
    where = "hybrid_ai.components.calendar"
    try:
        wanted = type(base).model_validate({**base.model_dump(), **crew_calendar})
    except ValidationError as exc:
        return [f"{where}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    problems = []
    for name in crew_calendar:
        was, asked = getattr(base, name), getattr(wanted, name)
        looser = _CALENDAR_LOOSER.get(name)
        if looser is None:
            problems.append(f"{where}.{name}: no rule says which way it tightens")
        elif looser(was, asked):
            problems.append(
                f"{where}.{name}: the risk gate's event blackout reads it, so a crew file may "
                f"only tighten it ({_fmt(asked)} is looser than {_fmt(was)}, from the "
                "defaults and the environment)"
            )
    return problems


def not_overridden(mine: Mapping[str, Any], above: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``mine`` that ``above`` does not set (nested mappings merge key by key)."""
    out: dict[str, Any] = {}
    for key, value in mine.items():
        if key not in above:
            out[key] = value
        elif _is_map(value) and _is_map(above[key]):
            rest = not_overridden(value, above[key])
            if rest:
                out[key] = rest
    return out


def flatten(node: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """Leaf values of nested mappings by dotted path."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        path = f"{where}.{key}" if where else str(key)
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out

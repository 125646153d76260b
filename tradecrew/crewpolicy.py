"""What a crew file may set: the crew, analysis components, fusion, and tighter risk limits.

A crew file can come from the current folder, so it is treated as untrusted: it never holds
secrets, broker settings, live-trading or approval switches, and it may only tighten a risk
limit, or a component setting the risk gate reads, relative to the defaults and the
environment. A refused field fails the load with one line naming it (refusing is clearer
than silently ignoring what a file asks for), and never quoting what is not a name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeGuard

from pydantic import BaseModel, ValidationError

from tradecrew.instruments import normalize_symbol

# The hybrid_ai sections a crew file may hold; everything else belongs to the environment.
HYBRID_SECTIONS = ("components", "fusion", "risk")

_SECRET_NAMES = frozenset({"api_key", "key", "secret", "token", "password", "passwd"})
_SECRET_SUFFIXES = ("_api_key", "_secret", "_secret_key", "_token", "_password", "_credentials")
_SWITCHES = frozenset({"live_trading", "auto_approve_paper", "live", "auto_approve"})

# How deep a crew file's mappings may nest; its schema needs five levels.
MAX_DEPTH = 32

# Keys a message may repeat: names (lower-case identifiers) and symbols. Anything else may
# be the content of whatever file ./crew.yaml points to, so it is not echoed.
_SHOWN = re.compile(r"[a-z][a-z0-9_]{0,39}|[A-Z0-9][A-Z0-9./_-]{0,11}")


def shown_key(key: object) -> str:
    """``key`` when it looks like a field, crew or symbol name, else a placeholder."""
    text = str(key)
    return text if _SHOWN.fullmatch(text) else "<unnamed key>"


def _too_deep(where: str) -> ValueError:
    return ValueError(f"{where or 'the file'}: nested deeper than {MAX_DEPTH} levels")


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


Locate = Callable[[tuple[Any, ...]], "int | None"]


def _walk(
    node: Any, where: str, loc: tuple[Any, ...], depth: int = 0
) -> Iterator[tuple[str, str, tuple[Any, ...]]]:
    """(dotted path, key, key path) of every mapping key under ``node``; the dotted path
    shows only keys that look like names. ValueError past MAX_DEPTH levels."""
    if isinstance(node, Mapping):
        if depth > MAX_DEPTH:
            raise _too_deep(where)
        for key, value in node.items():
            path = f"{where}.{shown_key(key)}" if where else shown_key(key)
            yield path, str(key), (*loc, key)
            yield from _walk(value, path, (*loc, key), depth + 1)


def refused_fields(raw: Mapping[str, Any], locate: Locate | None = None) -> list[str]:
    """One message per field the crew file may not set (empty when the file is acceptable);
    ``locate`` gives the line of a key path, which each message then names."""

    def at(path: str, loc: tuple[Any, ...]) -> str:
        line = locate(loc) if locate is not None else None
        return path if line is None else f"line {line}: {path}"

    problems: list[str] = []
    checked: list[tuple[str, Any, tuple[Any, ...]]] = [("llm", raw.get("llm"), ("llm",))]
    agents = raw.get("agents")
    if isinstance(agents, Mapping):
        checked += [
            (f"agents.{shown_key(n)}.llm", a.get("llm"), ("agents", n, "llm"))
            for n, a in agents.items()
            if _is_map(a)
        ]
    hybrid = raw.get("hybrid_ai")
    if isinstance(hybrid, Mapping):
        for name in hybrid:
            loc = ("hybrid_ai", name)
            if name == "broker":
                problems.append(
                    f"{at('hybrid_ai.broker', loc)}: broker settings (venue, keys, live "
                    "trading, approval) come only from the environment (TRADECREW_BROKER__*)"
                )
            elif name not in HYBRID_SECTIONS:
                problems.append(
                    f"{at(f'hybrid_ai.{shown_key(name)}', loc)}: a crew file may set only "
                    f"{', '.join(HYBRID_SECTIONS)}; the rest comes from the environment"
                )
            else:
                checked.append((f"hybrid_ai.{name}", hybrid[name], loc))
    for where, node, loc in checked:
        for path, key, key_loc in _walk(node, where, loc):
            if _is_secret(key):
                problems.append(
                    f"{at(path, key_loc)}: a crew file never holds secrets; set keys in the "
                    "environment"
                )
            elif key.lower() in _SWITCHES or key in APPROVAL_FIELDS or "approv" in key.lower():
                problems.append(
                    f"{at(path, key_loc)}: live-trading and approval settings come only from "
                    "the environment"
                )
    return problems


def _is_map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(value, Mapping)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _loose(name: str, base: Any, wanted: Any) -> str | None:
    """Why ``wanted`` is looser than ``base`` for risk field ``name``, or None.

    Each test is written so that a value that does not compare (NaN) counts as looser."""
    if name in LOWER_IS_TIGHTER:
        return None if wanted <= base else f"{_fmt(wanted)} is above {_fmt(base)}"
    if name in HIGHER_IS_TIGHTER:
        return None if wanted >= base else f"{_fmt(wanted)} is below {_fmt(base)}"
    if name in ONLY_ON:
        return "it may only be turned on" if base and not wanted else None
    if name in ZERO_IS_OFF:
        # Per asset class when the limit is a section (max_quote_age_seconds.forex ...).
        bases, asks = _by_key(base), _by_key(wanted)
        looser = [k for k, v in asks.items() if not (v or math.inf) <= (bases.get(k) or math.inf)]
        if not looser:
            return None
        if looser == [""]:
            return f"{_fmt(wanted)} is looser than {_fmt(base)} (0 is off)"
        return f"looser for {', '.join(looser)} (0 is off)"
    if name in PER_KEY_LOWER:
        # ``wanted`` is the file's own mapping: keys are symbols or aliases (GOLD is
        # XAUUSD), compared by instrument with the limit in force.
        limits = {normalize_symbol(k): v for k, v in base.items()}
        looser = [
            shown_key(k)
            for k, v in wanted.items()
            if not float(v) <= limits.get(normalize_symbol(str(k)), math.inf)
        ]
        return f"above the limit for {', '.join(looser)}" if looser else None
    return "no rule says which way it tightens; set it in the environment"


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) if isinstance(p, int) else shown_key(p) for p in loc)


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
        return [f"hybrid_ai.risk.{_loc(err['loc'])}: {err['msg']}" for err in exc.errors()]
    problems = []
    for name in crew_risk:
        if name not in model.model_fields:
            problems.append(f"hybrid_ai.risk.{shown_key(name)}: not a risk setting")
            continue
        # Per-symbol limits: the file's own keys, so an alias is judged as what it names.
        asked = crew_risk[name] if name in PER_KEY_LOWER else getattr(wanted, name)
        why = _loose(name, getattr(base, name), asked)
        if why is not None:
            problems.append(
                f"hybrid_ai.risk.{name}: a crew file may only tighten risk limits ({why}, "
                "the value from the defaults and the environment)"
            )
    return problems


Looser = Callable[[Any, Any], bool]


def _differs(base: Any, wanted: Any) -> bool:
    return bool(wanted != base)


# components.calendar drives the risk gate's event blackout: each field tightens one way,
# and the calendar file (which events exist) comes only from the environment.
_CALENDAR_LOOSER: dict[str, Looser] = {
    "enabled": lambda base, wanted: base and not wanted,
    "minutes_before": lambda base, wanted: not wanted >= base,
    "minutes_after": lambda base, wanted: not wanted >= base,
    "risk_reduction": lambda base, wanted: not wanted <= base,  # a size multiplier: 1 is none
    "action": lambda base, wanted: base == "block" and wanted != "block",
    "file": _differs,
    # Which feed the events come from (and how fresh) is the environment's choice too.
    "source": _differs,
    "feed_url": _differs,
    "feed_ttl_seconds": _differs,
    "openbb_provider": _differs,
    # On, the sample calendar's blackouts also hold a live account: only stricter.
    "sample_with_live": lambda base, wanted: base and not wanted,
}

# Every components.* field the risk gate reads (desk/context.py), with the test that says a
# crew file's value is looser than the one from the defaults and the environment. A window
# has no tighter direction (any window can be picked for the correlation it happens to
# give), so a crew file may only repeat it. The guard in tests/test_crewfile.py fails when
# the gate reads a component field that has no rule here.
GATE_COMPONENT_RULES: dict[str, dict[str, Looser]] = {
    "calendar": _CALENDAR_LOOSER,
    "correlation": {"window": _differs},
}
_GATE_USE = {"calendar": "event blackout", "correlation": "correlation check"}


def loosened_component(section: str, crew_part: Mapping[str, Any], base: BaseModel) -> list[str]:
    """One message per ``components.<section>`` field the risk gate reads that the crew file
    sets looser than ``base`` (defaults + environment); fields the gate does not read are
    free."""
    where, rules = f"hybrid_ai.components.{section}", GATE_COMPONENT_RULES[section]
    try:
        wanted = type(base).model_validate({**base.model_dump(), **crew_part})
    except ValidationError as exc:
        return [f"{where}.{_loc(e['loc'])}: {e['msg']}" for e in exc.errors()]
    problems = []
    for name in crew_part:
        looser = rules.get(name)
        if looser is None:
            continue
        was, asked = getattr(base, name), getattr(wanted, name)
        if looser(was, asked):
            how, versus = (
                ("only repeat", "differs from")
                if looser is _differs
                else ("only tighten", "is looser than")
            )
            problems.append(
                f"{where}.{name}: the risk gate's {_GATE_USE[section]} reads it, so a crew file "
                f"may {how} it ({_fmt(asked)} {versus} {_fmt(was)}, from the defaults and the "
                "environment)"
            )
    return problems


def not_overridden(
    mine: Mapping[str, Any], above: Mapping[str, Any], depth: int = 0
) -> dict[str, Any]:
    """The part of ``mine`` that ``above`` does not set (nested mappings merge key by key)."""
    if depth > MAX_DEPTH:
        raise _too_deep("")
    out: dict[str, Any] = {}
    for key, value in mine.items():
        if key not in above:
            out[key] = value
        elif _is_map(value) and _is_map(above[key]):
            rest = not_overridden(value, above[key], depth + 1)
            if rest:
                out[key] = rest
    return out


def flatten(node: Mapping[str, Any], where: str = "", depth: int = 0) -> dict[str, Any]:
    """Leaf values of nested mappings by dotted path."""
    if depth > MAX_DEPTH:
        raise _too_deep(where)
    out: dict[str, Any] = {}
    for key, value in node.items():
        path = f"{where}.{key}" if where else str(key)
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, path, depth + 1))
        else:
            out[path] = value
    return out

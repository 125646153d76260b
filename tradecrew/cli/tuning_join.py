"""What ``tradecrew optimize`` runs with: the options given, or, for ``--join``, the study's.

A worker that joins a study scores trials on the same data the same way: what the study
pinned fills every option left out, and an option that contradicts it is bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tradecrew.research.spaces import Space, space_json

_DEFAULTS = {"strategy": "sma_cross", "timeframe": "D1"}


def pinned_settings(
    join: str | None,
    storage: str | None,
    home: Path | None,
    *,
    strategy: str | None,
    timeframe: str | None,
    source: str | None,
    train: int | None,
    test: int | None,
    anchored: bool,
    start: str | None,
    end: str | None,
    space: Space | None,
) -> dict[str, Any]:
    mine: dict[str, Any] = {
        "strategy": strategy,
        "timeframe": timeframe.strip().upper() if timeframe else None,
        "source": source,
        "train": train,
        "test": test,
        "space": space_json(space) if space else None,
    }
    if not join:
        out = {k: v if v is not None else _DEFAULTS.get(k) for k, v in mine.items()}
        return {**out, "anchored": anchored, "start": start, "end": end}
    from tradecrew.research.studies import study_attrs

    pinned = study_attrs(storage, join, home)
    if pinned.get("source") == "default":
        pinned["source"] = None
    conflicts = []
    out = {}
    for key, value in mine.items():
        theirs = pinned.get(key)
        if value is not None and theirs is not None and value != theirs:
            conflicts.append(f"--{key} {value!r} (the study's: {theirs!r})")
        out[key] = value if value is not None else theirs
    if anchored and pinned.get("anchored") is False:
        conflicts.append("--anchored (the study's windows roll)")
    if conflicts:
        raise ValueError(
            f"study {join!r} pins other settings: {'; '.join(conflicts)}; leave them out to use "
            "the study's"
        )
    out["anchored"] = bool(pinned.get("anchored", anchored))
    out["start"] = start or pinned.get("first")
    out["end"] = end or pinned.get("last")
    for key, value in _DEFAULTS.items():
        out[key] = out[key] or value
    return out

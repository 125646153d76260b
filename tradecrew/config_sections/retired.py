"""Settings removed because no code read them. A crew file or an environment that still sets
one keeps loading: the key is dropped with a warning that names it and says why, since it
never changed what the desk did and refusing the whole file over it would stop a working desk.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

# Each warning once per process: settings are read many times, the advice is the same.
_SHOWN: dict[Any, Any] = {}


class RetiredSettingWarning(FutureWarning):
    """A removed setting was given; it is ignored."""


def warn_retired(name: str, why: str, where: tuple[str, int] | None = None) -> None:
    """Say that setting ``name`` is ignored; ``where`` is the file and line that set it."""
    filename, line = where or ("<settings>", 0)
    warnings.warn_explicit(
        f"{name} is no longer a setting and is ignored ({why}); remove it",
        RetiredSettingWarning,
        filename,
        line,
        registry=_SHOWN,
    )


def drop_retired(data: Any, retired: Mapping[str, str], section: str) -> Any:
    """``data`` without the ``retired`` keys (name -> why it went), each one warned about."""
    if not isinstance(data, Mapping) or not any(key in data for key in retired):
        return data
    kept = dict(data)
    for key, why in retired.items():
        if key in kept:
            del kept[key]
            warn_retired(f"{section}.{key}", why)
    return kept

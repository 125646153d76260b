"""``tradecrew config check`` for people: where each setting comes from, in a few lines."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def _listing(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _grouped(paths: list[str]) -> str:
    """``components.calendar (4), risk (2)``: dotted setting names counted by section."""
    if not paths:
        return "nothing"
    counts: dict[str, int] = {}
    for path in paths:
        parts = str(path).split(".")
        section = ".".join(parts[:2]) if len(parts) > 2 else parts[0]
        counts[section] = counts.get(section, 0) + 1
    return ", ".join(f"{k} ({n})" for k, n in counts.items()) + " (--json names each)"


def print_config_summary(summary: dict[str, Any], console: Console) -> None:
    """The JSON summary of ``config check`` as labelled lines (``--json`` prints it whole)."""
    crew_file = summary.get("crew_file") or "none"
    components = summary.get("components") or {}
    on = [name for name, enabled in components.items() if enabled]
    off = [name for name, enabled in components.items() if not enabled]
    lines = [
        ("settings", "valid"),
        ("crew file", f"{crew_file} ({summary.get('crew_file_origin', '')})"),
        ("crew file sets", _grouped(summary.get("crew_file_sets") or [])),
        ("overridden by env", _listing(summary.get("crew_file_overridden_by_env") or [])),
        ("agents", _listing(summary.get("agents") or [])),
        ("tasks", _listing(summary.get("tasks") or [])),
        ("home", str(summary.get("home"))),
        ("data source", str(summary.get("data_source"))),
        (
            "broker",
            f"{summary.get('broker')}"
            + ("; live trading opted in" if summary.get("live_trading") else ""),
        ),
        ("LLM", str(summary.get("llm"))),
        ("LLM endpoint", str(summary.get("llm_endpoint"))),
        ("components on", ", ".join(on) or "none"),
        ("components off", ", ".join(off) or "none"),
    ]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in lines:
        grid.add_row(label, escape(value))
    console.print(grid, highlight=False)

"""``tradecrew data example``: write the small example files the README's commands read.

The files ship inside the package (``tradecrew/data/examples``), so the commands work on a
fresh clone or an installed wheel alike. The bars are the desk's own seeded synthetic series
(labelled so), the headlines short sentences written for the examples.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from tradecrew.cli.common import console, emit_json, fail

# name -> what it holds; the order is the listing's.
EXAMPLES: dict[str, str] = {
    "XAUUSD_D1_mt5.csv": "300 daily XAUUSD bars, MetaTrader export format (synthetic)",
    "EURUSD_H1.csv": "500 hourly EURUSD bars, unnamed timestamp column (synthetic)",
    "headlines.jsonl": "20 labelled financial headlines, one JSON object a line",
}

data_app = typer.Typer(help="example data for trying the desk", no_args_is_help=True)


def example_bytes(name: str) -> bytes:
    """The packaged example file ``name``."""
    return (resources.files("tradecrew.data") / "examples" / name).read_bytes()


def _resolve(name: str) -> str:
    by_lower = {n.lower(): n for n in EXAMPLES}
    # "XAUUSD_D1_mt5", "headlines" and any case are accepted for the file name.
    for candidate in (name, *(name + ext for ext in (".csv", ".jsonl"))):
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    fail(f"no example named {name!r}; examples: {', '.join(EXAMPLES)}")


@data_app.command("example")
def data_example(
    name: Annotated[str | None, typer.Argument(help="one example (default: all of them)")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write into")] = Path("data"),
    force: Annotated[
        bool, typer.Option("--force", help="overwrite a different file of the same name")
    ] = False,
    list_only: Annotated[bool, typer.Option("--list", help="list the examples only")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Write example files (bars in MetaTrader format, headlines) into --out (./data)."""
    names = [_resolve(name)] if name else list(EXAMPLES)
    if list_only:
        rows = [{"name": n, "description": EXAMPLES[n]} for n in names]
        if as_json:
            emit_json(rows)
        else:
            for row in rows:
                console.print(f"{row['name']}: {row['description']}", highlight=False)
        return
    if out.exists() and not out.is_dir():
        fail(f"{out} exists and is not a folder")
    # Check every target before writing any, so a refusal changes nothing.
    planned: list[tuple[Path, bytes, str]] = []
    for n in names:
        target, payload = out / n, example_bytes(n)
        if target.is_symlink() or (target.exists() and not target.is_file()):
            fail(f"{target} exists and is not a regular file")
        if target.is_file():
            if target.read_bytes() == payload:
                planned.append((target, payload, "unchanged"))
                continue
            if not force:
                fail(f"{target} exists and differs from the example; --force overwrites it")
        planned.append((target, payload, "written"))
    out.mkdir(parents=True, exist_ok=True)
    for target, payload, status in planned:
        if status == "written":
            target.write_bytes(payload)
    rows = [
        {"name": t.name, "path": str(t), "status": s, "description": EXAMPLES[t.name]}
        for t, _, s in planned
    ]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        console.print(f"{row['status']}: {row['path']}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")

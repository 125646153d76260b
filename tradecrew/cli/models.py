"""``tradecrew models pull NAME`` and ``tradecrew models list``: local model weights.

A pull is the one time the desk talks to a model hub; the backends then load from
``TRADECREW_HOME/models`` with downloads disabled.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tradecrew.cli.common import JsonOpt, console, emit_json, user_errors


def pull(
    name: Annotated[str, typer.Argument(help="model to download: finbert")],
    revision: Annotated[
        str | None,
        typer.Option("--revision", help="Hub commit, tag or branch (default: the pinned commit)"),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="download again even if present")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Download a known model once into TRADECREW_HOME/models (HF_ENDPOINT names a mirror)."""
    from tradecrew.config import get_settings
    from tradecrew.model_store import known, pull_model

    with user_errors():
        spec = known(name)
        home = get_settings().ensure_home()
        print(
            f"pulling {spec.repo_id}@{(revision or spec.revision)[:12]} into {home / 'models'}",
            file=sys.stderr,
        )
        result = pull_model(name, home, revision=revision, force=force)
    if as_json:
        emit_json(result)
        return
    what = "downloaded" if result.downloaded else "already present"
    console.print(
        f"{result.name}: {what} at {result.path} ({result.size_bytes / 1e6:.1f} MB)",
        highlight=False,
        soft_wrap=True,
    )


def list_models(as_json: JsonOpt = False) -> None:
    """Known models, and which are installed under TRADECREW_HOME/models."""
    from rich.table import Table

    from tradecrew.config import get_settings
    from tradecrew.model_store import KNOWN_MODELS, status

    with user_errors():
        home = get_settings().home
        rows = [status(home, name) for name in KNOWN_MODELS]
    if as_json:
        emit_json(rows)
        return
    table = Table(title="models")
    for col in ("name", "repository", "installed", "size", "use"):
        table.add_column(col)
    for row in rows:
        state = f"yes ({(row.installed_revision or '')[:12]})" if row.installed else "no"
        size = f"{row.size_bytes / 1e6:.1f} MB" if row.installed else "-"
        table.add_row(row.name, row.repo_id, state, size, row.purpose)
    console.print(table)
    if not all(r.installed for r in rows):
        console.print("[dim]download one with: tradecrew models pull NAME[/]")


def register(app: typer.Typer) -> None:
    models_app = typer.Typer(help="local model weights (FinBERT)", no_args_is_help=True)
    models_app.command("pull")(pull)
    models_app.command("list")(list_models)
    app.add_typer(models_app, name="models")


__all__ = ["register"]

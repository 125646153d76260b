"""``tradecrew``: the desk's command line (typer + rich).

Heavy libraries load inside the commands that need them, so ``tradecrew --help`` is quick.
"""

from __future__ import annotations

import typer

from tradecrew.cli import analysis, crew, desk, mcp, research
from tradecrew.runtime import tune_allocator

app = typer.Typer(
    name="tradecrew",
    help="A trading desk run by a crew of AI agents: deterministic analysis, a risk gate "
    "with veto, human-approved proposals. Paper trading by default.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
analysis.register(app)
desk.register(app)
mcp.register(app)
research.register(app)
crew.register(app)


def main() -> None:
    tune_allocator()
    app()


__all__ = ["app", "main"]

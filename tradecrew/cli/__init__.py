"""``tradecrew``: the desk's command line (typer + rich).

Heavy libraries load inside the commands that need them, so ``tradecrew --help`` is quick.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tradecrew.cli import (
    alerts,
    analysis,
    crew,
    desk,
    discovery,
    examples,
    governance,
    instruments,
    mcp,
    news,
    research,
)
from tradecrew.cli import backtest as backtest_command
from tradecrew.cli import models as models_command
from tradecrew.cli import serve as serve_command
from tradecrew.cli import tuning as tuning_command
from tradecrew.cli.common import set_live_requested
from tradecrew.runtime import tune_allocator

app = typer.Typer(
    name="tradecrew",
    help="A trading desk run by a crew of AI agents: deterministic analysis, a risk gate "
    "with veto, human-approved proposals. Paper trading by default.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _options(
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="trade a live account: the second opt-in, with TRADECREW_BROKER__LIVE_TRADING",
        ),
    ] = False,
) -> None:
    set_live_requested(live)


analysis.register(app)
examples.register(app)
alerts.register(app)
desk.register(app)
mcp.register(app)
research.register(app)
backtest_command.register(app)
discovery.register(app)
crew.register(app)
news.register(app)
instruments.register(app)
serve_command.register(app)
governance.register(app)
tuning_command.register(app)
models_command.register(app)


def main() -> None:
    import sys

    from tradecrew.cli.common import unavailable_errors
    from tradecrew.errors import EXIT_UNAVAILABLE

    tune_allocator()
    try:
        app()
    except unavailable_errors() as exc:
        # A command that let an outage through still ends in one line, not a traceback.
        print(f"error: {exc or type(exc).__name__}", file=sys.stderr)
        raise SystemExit(EXIT_UNAVAILABLE) from None
    except Exception as exc:
        from tradecrew.cli.extras import missing_extra
        from tradecrew.errors import EXIT_BAD_INPUT

        message = missing_extra(exc)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None


__all__ = ["app", "main"]

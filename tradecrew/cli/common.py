"""What every command shares: one-line errors with documented exit codes (2 bad input, 3 a
broker or data source unavailable), the ``--live`` opt-in, JSON output, the console."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape

from tradecrew.errors import EXIT_BAD_INPUT, EXIT_UNAVAILABLE
from tradecrew.text import one_line

console = Console()
err_console = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON output")]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source",
        "-s",
        help="market data: sample (offline default), csv:PATH, alpaca, yfinance, "
        "ccxt[:EXCHANGE], mt5 or openbb; default: TRADECREW_DATA_SOURCE",
    ),
]

T = TypeVar("T")

# Room for the desk's own words around a quoted server message (capped on its own).
FAIL_LIMIT = 1000


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``error: message`` on one line to stderr and exit; nothing else is printed.

    The message may quote a server or a file: escape sequences, control characters and
    newlines are removed and it is capped, so it cannot redraw the terminal or forge lines."""
    text = escape(one_line(message, FAIL_LIMIT))
    err_console.print(f"[bold red]error:[/] {text}", highlight=False, soft_wrap=True, emoji=False)
    raise typer.Exit(code)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


@contextmanager
def user_errors(*extra: type[BaseException]) -> Iterator[None]:
    """Turn the desk's known input errors into a one-line message and exit code 2."""
    from tradecrew.errors import USER_ERRORS

    kinds = (*USER_ERRORS, *extra)
    try:
        yield
    except unavailable_errors() as exc:
        fail(str(exc) or exc.__class__.__name__, EXIT_UNAVAILABLE)
    except ValidationError as exc:
        fail(_validation_message(exc))
    except kinds as exc:
        fail(str(exc) or exc.__class__.__name__)


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """Outages: the desk's own kind, plus connection errors an SDK lets through unwrapped."""
    import requests

    from tradecrew.errors import UNAVAILABLE_ERRORS

    return (*UNAVAILABLE_ERRORS, requests.ConnectionError, requests.Timeout)


# The global ``--live`` flag of this invocation, set by the app's callback on every run.
_live_flag: ContextVar[bool] = ContextVar("tradecrew_live_flag", default=False)


def set_live_requested(live: bool) -> None:
    _live_flag.set(live)


def live_requested() -> bool:
    """The global ``--live`` flag (``tradecrew --live ...``): the second live opt-in."""
    return _live_flag.get()


def emit_json(payload: Any) -> None:
    """Write one JSON document (a model, a list of models, or plain data) to stdout."""
    sys.stdout.write(to_json(payload) + "\n")


def to_json(payload: Any) -> str:
    if isinstance(payload, BaseModel):
        return payload.model_dump_json()
    if isinstance(payload, list) and all(isinstance(p, BaseModel) for p in payload):
        return "[" + ",".join(p.model_dump_json() for p in payload) + "]"
    return json.dumps(payload, default=str)

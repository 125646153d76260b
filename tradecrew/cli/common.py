"""What every command shares: one-line errors with exit code 2, JSON output, the console."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)

T = TypeVar("T")

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``error: message`` on one line to stderr and exit; nothing else is printed."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
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
    except ValidationError as exc:
        fail(_validation_message(exc))
    except kinds as exc:
        fail(str(exc) or exc.__class__.__name__)


def emit_json(payload: Any) -> None:
    """Write one JSON document (a model, a list of models, or plain data) to stdout."""
    sys.stdout.write(to_json(payload) + "\n")


def to_json(payload: Any) -> str:
    if isinstance(payload, BaseModel):
        return payload.model_dump_json()
    if isinstance(payload, list) and all(isinstance(p, BaseModel) for p in payload):
        return "[" + ",".join(p.model_dump_json() for p in payload) + "]"
    return json.dumps(payload, default=str)

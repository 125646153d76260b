"""The CLI run in this process with the arguments a person types."""

from __future__ import annotations

from click.testing import Result
from typer.testing import CliRunner

from tradecrew.cli import app

runner = CliRunner()


def cli(*args: str) -> Result:
    return runner.invoke(app, list(args))

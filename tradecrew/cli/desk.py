"""Trading commands: proposals, approvals, orders, positions, account, risk, audit."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Trading commands are added here as the desk's hands land."""

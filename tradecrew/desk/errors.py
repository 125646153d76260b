"""The desk's refusal, in a module of its own so that the desk's helpers can raise it
without importing the ``Desk`` (``service.py``) that calls them."""

from __future__ import annotations

from tradecrew.errors import TradecrewError


class DeskError(TradecrewError):
    """A request the desk refuses; the message says why."""

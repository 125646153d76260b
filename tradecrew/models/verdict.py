"""What a crew agent says about a proposal: approve, shrink to a quantity, or veto, and why.

One model for the concept: the risk engine applies it, the desk records it, the ledger keeps
it (with its id and proposal), and the crew's risk manager answers in it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .base import Model


# What a crew risk agent may say: it can veto or shrink, never enlarge. (A comment, not a
# docstring: pydantic would copy a docstring into the crew's LLM schema, and so change the
# requests its answers are cached under.)
class Verdict(StrEnum):
    APPROVE = "approve"
    SHRINK = "shrink"
    VETO = "veto"


class AgentVerdict(Model):
    """An agent's verdict on a proposal; who gives it is ``agent``.

    The quantity is not bounded here on purpose: it is judged where it is used (the risk
    engine reads a negative or non-finite one as no trade and ignores a larger one; the
    ledger refuses both)."""

    verdict: Verdict
    quantity: float | None = Field(None, description="for shrink: the most the agent allows")
    reason: str = ""
    agent: str = "risk_agent"

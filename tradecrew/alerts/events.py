"""What an alert says: one pydantic model every part of the desk (and the serve loop) sends."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from tradecrew.models import Model, utcnow


class AlertKind(StrEnum):
    FILL = "fill"
    VETO = "veto"
    TRADING_STATE = "trading_state"
    LIMIT_BREACH = "limit_breach"
    STALE_DATA = "stale_data"
    ERROR = "error"
    PROPOSAL = "proposal"  # a proposal awaiting a person's approval
    SUMMARY = "summary"  # alerts held back by the rate limit, counted in one message


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertEvent(Model):
    """One alert. ``key`` names "the same alert" for deduplication (by default the kind and
    title). Buttons are never asked for here: only the desk, with the terms it just stored,
    gives a pending proposal's alert its approve/reject buttons (``Alerter.send(terms=)``)."""

    kind: AlertKind
    title: str = Field(min_length=1, max_length=200)
    text: str = Field("", max_length=3000)
    severity: Severity = Severity.INFO
    key: str | None = Field(None, max_length=200)
    proposal_id: str | None = Field(None, max_length=40)
    fields: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=utcnow)

    @property
    def dedup_key(self) -> str:
        return self.key or f"{self.kind.value}:{self.title}"

    def as_text(self) -> str:
        """The message a person reads: title, then the text, then the fields."""
        lines = [f"[{self.severity.value.upper()}] {self.title}"]
        if self.text:
            lines.append(self.text)
        lines += [f"{k}: {v}" for k, v in self.fields.items()]
        return "\n".join(lines)

"""The desk's alerts: what it tells the configured sinks when something happens.

Each function builds one ``AlertEvent`` and hands it to ``desk.alerts``; none of them raises
(an alert that cannot be built or sent is counted, never allowed to break the desk).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from tradecrew.alerts import AlertEvent, AlertKind, Severity
from tradecrew.alerts.alerter import ButtonTerms
from tradecrew.models import ProposalStatus, RiskDecision, TradingState

if TYPE_CHECKING:
    from tradecrew.desk.outcomes import ProposalOutcome
    from tradecrew.desk.service import Desk

log = logging.getLogger("tradecrew.alerts")


def _send(desk: Desk, build: Callable[[], AlertEvent], terms: ButtonTerms | None = None) -> None:
    try:
        desk.alerts.send(build(), terms=terms)
    except Exception as exc:  # never let an alert break a trade
        log.warning("alert not built: %s", type(exc).__name__)


def proposal_decided(
    desk: Desk, outcome: ProposalOutcome, decision: RiskDecision
) -> ProposalOutcome:
    """A veto, or a proposal waiting for a person (with buttons where Telegram approves);
    returns ``outcome``."""
    if outcome.status is ProposalStatus.VETOED:
        vetoed(desk, outcome)
    elif outcome.status is ProposalStatus.PENDING and decision.approved:
        terms = ButtonTerms(outcome.proposal_id, decision.order_hash, decision.expires_at)
        _send(
            desk,
            lambda: AlertEvent(
                kind=AlertKind.PROPOSAL,
                title=f"approve? {outcome.summary}",
                text=outcome.message,
                key=f"proposal:{outcome.proposal_id}",
                proposal_id=outcome.proposal_id,
                fields={"proposal": outcome.proposal_id, "expires": decision.expires_at},
            ),
            terms,
        )
    return outcome


def vetoed(desk: Desk, outcome: ProposalOutcome) -> None:
    _send(
        desk,
        lambda: AlertEvent(
            kind=AlertKind.VETO,
            severity=Severity.WARNING,
            title=f"vetoed: {outcome.summary}",
            text="; ".join(outcome.reasons)[:2000] or outcome.message[:2000],
            key=f"veto:{outcome.proposal_id}",
            fields={"proposal": outcome.proposal_id},
        ),
    )


def order_outcome(desk: Desk, outcome: ProposalOutcome) -> ProposalOutcome:
    """Fills of an approved proposal's order, or why it was not sent; returns ``outcome``."""
    if outcome.fills:
        quantity = sum(f.quantity for f in outcome.fills)
        price = sum(f.quantity * f.price for f in outcome.fills) / quantity if quantity else 0.0
        _send(
            desk,
            lambda: AlertEvent(
                kind=AlertKind.FILL,
                title=f"filled {quantity:g} {outcome.proposal.symbol} at {price:g}",
                text=outcome.summary,
                key=f"fill:{outcome.proposal_id}:{len(outcome.fills)}",
                fields={"proposal": outcome.proposal_id, "side": outcome.proposal.side.value},
            ),
        )
    elif outcome.status is ProposalStatus.VETOED:
        vetoed(desk, outcome)
    elif outcome.status is ProposalStatus.FAILED:
        _send(
            desk,
            lambda: AlertEvent(
                kind=AlertKind.ERROR,
                severity=Severity.WARNING,
                title=f"not sent: {outcome.summary}",
                text=outcome.message[:2000],
                key=f"failed:{outcome.proposal_id}",
                fields={"proposal": outcome.proposal_id},
            ),
        )
    return outcome


def state_changed(
    desk: Desk, before: TradingState, after: TradingState, reason: str, tripped_by: str | None
) -> None:
    """A trading-state change; one a risk limit made is a limit breach."""
    if before is after:
        return
    breach = tripped_by == "risk_engine"
    severity = Severity.CRITICAL if after is TradingState.HALTED else Severity.WARNING
    if after is TradingState.ACTIVE:
        severity = Severity.INFO
    _send(
        desk,
        lambda: AlertEvent(
            kind=AlertKind.LIMIT_BREACH if breach else AlertKind.TRADING_STATE,
            severity=severity,
            title=f"trading {before.value} -> {after.value}",
            text=reason[:2000],
            key=f"state:{after.value}:{reason[:100]}",
            fields={"by": tripped_by or "person"},
        ),
    )

"""The desk: proposals in, risk decisions, approvals, and orders out through the one gate.

CLI, MCP and the crew all call these methods; none of them reaches a broker another way.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from tradecrew.alerts import Alerter
from tradecrew.brokers import Broker, BrokerError
from tradecrew.config import Settings, get_settings
from tradecrew.data.calendar_events import Calendar
from tradecrew.data.calendar_file import CalendarFile
from tradecrew.desk import notify, reports, trading
from tradecrew.desk.context import MarketFacts, build_context
from tradecrew.desk.errors import DeskError  # in errors.py so that the helpers can raise it
from tradecrew.desk.gate import GateRefusal, OrderGate
from tradecrew.desk.outcomes import (
    CancelOutcome,
    Explanation,
    ProposalOutcome,
    ReconcileReport,
    RiskStatus,
)
from tradecrew.desk.price_band import check_price_band
from tradecrew.desk.symbols import resolve_instrument
from tradecrew.instruments import Instrument
from tradecrew.ledger import ApprovalChannel, Grant, Ledger, ProposalRecord
from tradecrew.models import (
    AccountMode,
    AgentVerdict,
    Order,
    Proposal,
    ProposalRequest,
    ProposalStatus,
    Quote,
    RiskDecision,
    new_id,
    utcnow,
)
from tradecrew.risk import RiskContext, apply_agent_verdict, evaluate
from tradecrew.risk.approvals import accepted_channels

SNAPSHOT_EVERY = timedelta(seconds=60)


class Desk:
    """One broker account, one ledger, one gate."""

    def __init__(
        self,
        ledger: Ledger,
        broker: Broker,
        settings: Settings | None = None,
        *,
        source: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.ledger = ledger
        self.broker = broker
        self.settings = settings or get_settings()
        self.source = source
        self._clock = clock
        # Serialises this process's submissions with its kill-switch changes; the ledger
        # makes the same check atomic across processes when an order is created.
        self._trading_lock = threading.RLock()
        self._last_snapshot: datetime | None = None
        self._market = MarketFacts(source or self.settings.data_source)
        # The risk gate checks the calendar on every proposal: the file is parsed once per
        # version, by this desk's own reader.
        self._calendar_file = CalendarFile(self.settings.components.calendar.file)
        # Alerts go out on a thread of their own: a failing sink never breaks the desk.
        self.alerts = Alerter(self.settings.alerts, home=self.settings.home)
        self.gate = OrderGate(
            ledger,
            broker,
            self._context,
            accepted_channels=self.accepted_channels,
            clock=clock,
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, live: bool = False) -> Desk:
        """The configured ledger and broker; live accounts need ``live=True`` and the setting."""
        from tradecrew.brokers import make_broker

        settings = settings or get_settings()
        settings.ensure_home()
        if live and not settings.broker.live_trading:
            raise DeskError(
                "live trading needs both TRADECREW_BROKER__LIVE_TRADING=true and the --live "
                "start flag"
            )
        # The broker derives its mode from the venue and refuses a live account without both
        # opt-ins; ``live`` is only the second opt-in, never a label.
        broker = make_broker(settings.broker.name, live=live, settings=settings)
        return cls(Ledger.from_settings(settings), broker, settings)

    def close(self) -> None:
        self.alerts.close()
        self.ledger.close()
        closer = getattr(self.broker, "close", None)
        if callable(closer):
            closer()

    # ------------------------------------------------------------------ facts

    @property
    def mode(self) -> AccountMode:
        return self.broker.mode

    @property
    def human_approval_required(self) -> bool:
        """Live accounts always, whatever ``auto_approve_paper`` says; paper unless the user
        turned auto-approval on. The mode is the broker's, derived from the venue itself."""
        return self.broker.mode is AccountMode.LIVE or not self.settings.broker.auto_approve_paper

    @property
    def accepted_channels(self) -> frozenset[ApprovalChannel]:
        """The approval channels this account accepts: a person's (``HUMAN_CHANNELS``)
        always; on paper also those the user turned on (auto-approval, bare MCP calls)."""
        return accepted_channels(
            live=self.broker.mode is AccountMode.LIVE,
            auto_approve_paper=self.settings.broker.auto_approve_paper,
            unconfirmed_mcp=self.settings.mcp.approve_without_confirmation,
            telegram_approver=self.settings.alerts.telegram_approves,
        )

    def instrument(self, symbol: str) -> Instrument:
        """The symbol's instrument: the catalogue's, else derived from the desk's live data
        source's answer (one request); ``UnknownSymbol`` when neither knows it."""
        return resolve_instrument(symbol, self.source or self.settings.data_source)

    def _context(
        self, proposal: Proposal, now: datetime, quote: Quote | None = None
    ) -> RiskContext:
        return build_context(
            proposal,
            broker=self.broker,
            ledger=self.ledger,
            settings=self.settings,
            now=now,
            source=self.source,
            market=self._market,
            quote=quote,
            calendar_file=self._calendar_file,
        )

    def calendar(self) -> Calendar:
        """The economic calendar this desk's settings select, through the desk's own reader
        of the calendar file (the one the risk gate uses)."""
        from tradecrew.data.calendars import load_calendar  # loads the feeds' clients

        return load_calendar(self.settings, calendar_file=self._calendar_file)

    def _outcome(self, proposal_id: str, message: str = "") -> ProposalOutcome:
        return reports.outcome_of(self, self.ledger.proposal_record(proposal_id), message)

    # ------------------------------------------------------------------ proposals

    def propose(self, request: ProposalRequest, actor: str = "cli") -> ProposalOutcome:
        """Persist the proposal, run the risk engine on it, and persist the decision.

        Approved proposals wait for a human (or, on paper with auto-approval, go straight
        through the gate); denied ones end VETOED with the engine's reasons.
        """
        self.instrument(request.symbol)  # unknown symbols are refused before anything is stored
        quote = check_price_band(self.broker, request, self.settings.risk.price_band_pct)
        now = self._clock()
        proposal = Proposal(
            **request.model_dump(),
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.risk.proposal_ttl_seconds),
        )
        self._record_account()
        ctx = self._context(proposal, now, quote)
        # The proposal and its decision land together: none is ever stored undecided.
        proposal, decision = self.ledger.add_decided_proposal(
            proposal, evaluate(proposal, ctx), actor
        )
        trading.apply_required_state(self, ctx)
        # What was just stored, as stored: nothing else can have happened to it yet.
        record = ProposalRecord(
            proposal=proposal, decisions=[decision], verdicts=[], orders=[], fills=[]
        )
        if not decision.approved:
            vetoed = reports.outcome_of(self, record, "vetoed by the risk engine")
            return notify.proposal_decided(self, vetoed, decision)
        if not self.human_approval_required:
            return self._approve(
                proposal, decision, "auto", ApprovalChannel.AUTO, decision.order_hash
            )
        message = "awaiting human approval"
        if decision.approved_quantity < proposal.quantity:
            message = (
                f"risk shrank the quantity from {proposal.quantity:g} to "
                f"{decision.approved_quantity:g}; awaiting human approval"
            )
        pending = reports.outcome_of(self, record, message)
        return notify.proposal_decided(self, pending, decision)

    def _record_account(self) -> None:
        """An equity observation for the daily-loss and drawdown limits, at most one a
        minute (the limits need the day's first equity and the peak, not every tick)."""
        now = self._clock()
        if self._last_snapshot is not None and now - self._last_snapshot < SNAPSHOT_EVERY:
            return
        # On failure the risk context reads the account again and fails closed there.
        with contextlib.suppress(BrokerError):
            self.ledger.record_account_snapshot(self.broker.account())
            self._last_snapshot = now

    def _pending(self, proposal_id: str) -> ProposalRecord:
        record = self.ledger.proposal_record(proposal_id)
        proposal = record.proposal
        now = self._clock()
        if (
            proposal.status is ProposalStatus.PENDING
            and proposal.expires_at
            and (proposal.expires_at <= now)
        ):
            self.ledger.transition_proposal(
                proposal.id, ProposalStatus.EXPIRED, "expired", "system"
            )
            raise DeskError(f"proposal {proposal_id} has expired; propose it again")
        if proposal.status is not ProposalStatus.PENDING:
            raise DeskError(
                f"proposal {proposal_id} is {proposal.status.value}; only pending proposals "
                "can be approved or rejected"
            )
        return record

    def approve(
        self,
        proposal_id: str,
        actor: str = "cli",
        channel: ApprovalChannel | str = "cli",
        order_hash: str | None = None,
    ) -> ProposalOutcome:
        """A human approves the exact order the risk engine approved; it goes through the gate.

        ``order_hash``: the terms the person was shown (a confirmation dialog, a signed
        button); when the proposal has been decided again since, nothing is sent and it stays
        pending for a new look. None: the terms on record now. An approval through a channel
        this account does not accept changes nothing (the ledger refuses it too, in the
        transaction that would open the order)."""
        record = self._pending(proposal_id)
        channel = ApprovalChannel(channel)
        if channel not in self.accepted_channels:
            raise DeskError(
                f"an approval through {channel.value!r} does not count on this "
                f"{self.mode.value} account; approve as a person: `tradecrew proposals approve "
                f"{proposal_id}` or a confirmed MCP elicitation"
            )
        decision = record.latest_decision
        if decision is None or not decision.approved:
            raise DeskError(f"proposal {proposal_id} has no risk approval")
        # A provider-derived instrument (AMD) was known to the process that proposed it, not
        # necessarily to this one; without it the gate's re-check would refuse the order.
        self.instrument(record.proposal.symbol)
        if decision.expires_at <= self._clock():
            decision = self._redecide(record, decision)
        return self._approve(
            record.proposal, decision, actor, channel, order_hash or decision.order_hash
        )

    def _redecide(self, record: ProposalRecord, old: RiskDecision) -> RiskDecision:
        """A stale risk approval is re-decided, with the agents' verdicts on record applied
        again; a changed size needs a new look by the human."""
        proposal = record.proposal
        fresh = evaluate(proposal, self._context(proposal, self._clock()))
        instrument = self.instrument(proposal.symbol)
        for verdict in record.verdicts:  # a shrink stays a shrink
            fresh = apply_agent_verdict(fresh, verdict, proposal, instrument)
        # A fresh id: the same proposal may be re-decided in an unchanged context.
        fresh = self.ledger.record_decision(fresh.model_copy(update={"id": new_id("rdc")}))
        if not fresh.approved:
            self.ledger.transition_proposal(
                proposal.id, ProposalStatus.VETOED, "; ".join(fresh.reasons), "risk_engine"
            )
            raise DeskError("the risk engine now denies it: " + "; ".join(fresh.reasons))
        if fresh.order_hash != old.order_hash:
            raise DeskError(
                f"the risk engine now allows {fresh.approved_quantity:g} instead of "
                f"{old.approved_quantity:g}; review the proposal and approve again"
            )
        return fresh

    def _approve(
        self,
        proposal: Proposal,
        decision: RiskDecision,
        actor: str,
        channel: ApprovalChannel | str,
        order_hash: str,
    ) -> ProposalOutcome:
        # The approval is recorded with the order, once the gate has checked everything.
        grant = Grant(
            actor=actor,
            channel=ApprovalChannel(channel),
            expires_at=decision.expires_at,
            order_hash=order_hash,
            approved_at=self._clock(),  # before the gate reads its clock: consumed after
        )
        try:
            with self._trading_lock:
                self.gate.submit(proposal.id, actor, grant)
        except GateRefusal as refusal:
            current = self.ledger.get_proposal(proposal.id)
            target = refusal.proposal_status
            if target and current.status in (ProposalStatus.PENDING, ProposalStatus.APPROVED):
                current = self.ledger.transition_proposal(proposal.id, target, str(refusal), "gate")
            return notify.order_outcome(self, self._outcome(current.id, f"not sent: {refusal}"))
        return notify.order_outcome(self, reports.sent_outcome(self, proposal.id))

    def reject(self, proposal_id: str, actor: str = "cli", reason: str = "") -> ProposalOutcome:
        proposal = self._pending(proposal_id).proposal
        self.ledger.transition_proposal(
            proposal.id, ProposalStatus.REJECTED, reason or f"rejected by {actor}", actor
        )
        return self._outcome(proposal.id, "rejected")

    def record_agent_verdict(self, proposal_id: str, verdict: AgentVerdict) -> ProposalOutcome:
        """A crew agent may veto or shrink a pending proposal, never enlarge it."""
        proposal = self._pending(proposal_id).proposal
        self.ledger.record_verdict(proposal.id, verdict)
        decision = self.ledger.latest_decision(proposal.id)
        if decision is None:
            raise DeskError(f"proposal {proposal_id} has no risk decision")
        updated = self.ledger.record_decision(
            # A fresh id: the same verdict may be given twice, and each is kept.
            apply_agent_verdict(
                decision, verdict, proposal, self.instrument(proposal.symbol)
            ).model_copy(update={"id": new_id("rdc")}),
            actor=verdict.agent,
        )
        if not updated.approved:
            self.ledger.transition_proposal(
                proposal.id, ProposalStatus.VETOED, "; ".join(updated.reasons), verdict.agent
            )
        return self._outcome(proposal.id, f"{verdict.agent}: {verdict.verdict}")

    def get(self, proposal_id: str) -> ProposalOutcome:
        return self._outcome(proposal_id)

    def proposals(self, status: str | None = None, limit: int = 50) -> list[Proposal]:
        return self.ledger.list_proposals(status, limit)

    def explain(self, proposal_id: str) -> Explanation:
        return reports.explain(self, proposal_id)

    # ------------------------------------------------------------------ orders

    def orders(self, open_only: bool = False) -> list[Order]:
        return self.ledger.orders(open_only=open_only, broker=self.broker.name)

    def cancel_order(self, order_id: str, actor: str = "cli") -> CancelOutcome:
        """Cancel one order (by desk, client or broker id); works even when halted."""
        return trading.cancel_orders(self, [trading.find_order(self, order_id)], actor)

    def cancel_all(self, symbol: str | None = None, actor: str = "cli") -> CancelOutcome:
        orders = [o for o in self.orders(open_only=True) if symbol is None or o.symbol == symbol]
        return trading.cancel_orders(self, orders, actor)

    # ------------------------------------------------------------------ state

    def set_kill_switch(
        self,
        enabled: bool,
        reason: str,
        actor: str = "cli",
        channel: ApprovalChannel | str = ApprovalChannel.CLI,
    ) -> RiskStatus:
        """On: HALTED and every open order cancelled. Off: ACTIVE again, only through a
        channel a person drives (``HUMAN_CHANNELS``)."""
        if not reason.strip():
            raise DeskError("a reason is required to change the kill switch")
        return trading.set_kill_switch(self, enabled, reason, actor, channel)

    def reconcile(self) -> ReconcileReport:
        """Make the ledger agree with the broker (run on start and periodically). A venue
        that simulates the market (paper) first catches up with its data source, so the
        fills the market made since the last look are recorded now."""
        from tradecrew.desk.reconcile import reconcile
        from tradecrew.desk.trade_memory import remember_safely

        refresh = getattr(self.broker, "refresh", None)  # optional: only simulated venues
        if callable(refresh):
            refresh()
        report = reconcile(self, self._clock())
        remember_safely(self)  # closed trades' outcomes into memory, once each
        return report

    def risk_status(self) -> RiskStatus:
        return trading.risk_status(self)

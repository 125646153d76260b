"""The continuous risk watch: one look at the book per run, the findings applied through the
desk's own state machine (``risk.transition``) and ledger, never around them.

A finding only ever escalates: ACTIVE to REDUCING, or to HALTED through the desk's kill
switch (which also cancels open orders). Moving back is a person's decision, as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tradecrew.alerts.events import AlertEvent, AlertKind, Severity
from tradecrew.desk.context import market_open
from tradecrew.instruments import find_instrument
from tradecrew.models import Account, Position, TradingState, utcnow
from tradecrew.risk import RiskContext, transition
from tradecrew.serve.assess import (
    SEVERITY,
    Figures,
    Finding,
    assess,
    book_exposure,
    crossed_stops,
    figures,
    most_severe,
)
from tradecrew.serve.audit_tail import AuditTail
from tradecrew.serve.calendar_watch import CalendarWatch
from tradecrew.serve.metrics import DeskMetrics
from tradecrew.serve.quotes import QuoteBook

if TYPE_CHECKING:
    from tradecrew.desk import Desk

ACTOR = "risk_watch"
#: A crossed stop the venue has not filled after this long protects nothing.
STOP_GRACE = timedelta(seconds=120)


@dataclass
class WatchResult:
    state: TradingState
    findings: list[Finding] = field(default_factory=list)
    figures: Figures | None = None
    acted: Finding | None = None
    broker_error: str | None = None


class Watcher:
    """Holds what one look needs to remember from the last: when equity was last recorded,
    since when each crossed stop has been seen, which findings were already told."""

    def __init__(
        self,
        desk: Desk,
        metrics: DeskMetrics,
        quotes: QuoteBook,
        log: Any,
    ) -> None:
        self.desk = desk
        self.metrics = metrics
        self.quotes = quotes
        self.log = log
        self.serve = desk.settings.serve
        self.broker_ok_at: datetime | None = None
        self.broker_error: str | None = None
        self._last_snapshot: datetime | None = None
        self._stops_since: dict[str, datetime] = {}
        self._told: set[str] = set()
        self._unknown: set[str] = set()
        self.audit = AuditTail(desk.ledger, metrics)
        self.calendar = CalendarWatch(desk.settings, live=desk.mode.value == "live")

    def run(self) -> WatchResult:
        now = utcnow()
        ledger = self.desk.ledger
        self.audit.catch_up()
        self.metrics.proposals_pending.set(len(ledger.list_proposals("pending", 1000)))
        try:
            account, positions = self._book()
        except Exception as exc:  # the broker's outage: say so; the next look asks again
            self.broker_error = f"{type(exc).__name__}: {exc}"
            self.metrics.errors.labels(kind="broker").inc()
            state = ledger.get_trading_state().state  # a halt must show during an outage
            self.metrics.set_state(state)
            return WatchResult(state, broker_error=self.broker_error)
        self.broker_ok_at, self.broker_error = now, None
        ctx = self._context(now, account, positions)
        state = ctx.trading_state
        held = sorted({p.symbol.upper() for p in positions if p.quantity})
        self._resolve(held)
        book = book_exposure(ctx)
        findings = assess(
            ctx,
            book=book,
            halt_multiple=self.serve.halt_loss_multiple,
            overdue_stops=self._overdue(crossed_stops(ctx), now),
            stale=self._stale(held, now),
            calendar_error=self.calendar.error(now),
            blackouts=self.calendar.blackouts(held, now),
        )
        fig = figures(ctx, book)
        self._show(fig, state)
        acted = self._act(most_severe(findings), state)
        self._tell(findings)
        if acted is not None:
            state = acted.target or state
            self.metrics.set_state(state)
        return WatchResult(state, findings, fig, acted)

    def _book(self) -> tuple[Account, list[Position]]:
        broker = self.desk.broker
        both = getattr(broker, "account_and_positions", None)
        if callable(both):
            return both()  # type: ignore[no-any-return]
        return broker.account(), broker.positions()

    def _context(self, now: datetime, account: Account, positions: list[Position]) -> RiskContext:
        ledger, broker = self.desk.ledger, self.desk.broker
        due = self._last_snapshot is None or now - self._last_snapshot >= timedelta(
            seconds=self.serve.snapshot_seconds
        )
        if due:
            # The day's first equity and the peak come from these observations.
            ledger.record_account_snapshot(account)
            self._last_snapshot = now
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        facts = ledger.risk_facts(broker.name, now - timedelta(seconds=60), day_start)
        start = account.start_of_day_equity or facts.first_equity_today
        peak = max(
            v for v in (facts.peak_equity, account.peak_equity, account.equity) if v is not None
        )
        state = facts.trading_state.state
        return RiskContext(
            now=now,
            limits=self.desk.settings.risk,
            account=account,
            positions=positions,
            open_orders=facts.open_orders,
            trading_state=state,
            kill_switch=state is TradingState.HALTED,
            start_of_day_equity=start,
            peak_equity=peak,
            prices={p.symbol: p.market_price for p in positions if p.market_price},
        )

    def _resolve(self, held: list[str]) -> None:
        """Instruments of held symbols outside the catalogue (a stock the broker holds),
        asked of the data source once, so the book can be valued as the gate values it."""
        for symbol in held:
            if find_instrument(symbol) is None and symbol not in self._unknown:
                try:
                    self.desk.instrument(symbol)
                except Exception:  # valued as unknown: the finding says so
                    self._unknown.add(symbol)

    def _overdue(self, crossed: dict[str, str], now: datetime) -> dict[str, str]:
        for gone in set(self._stops_since) - crossed.keys():
            del self._stops_since[gone]
        for order_id in crossed:
            self._stops_since.setdefault(order_id, now)
        return {k: v for k, v in crossed.items() if now - self._stops_since[k] >= STOP_GRACE}

    def _stale(self, held: list[str], now: datetime) -> dict[str, float]:
        """Held symbols whose live quote is older than the gate allows while the market is
        open (replayed quotes have no live clock and are exempt, as at the gate)."""
        out: dict[str, float] = {}
        ages = self.desk.settings.risk.max_quote_age_seconds
        for symbol in held:
            seen = self.quotes.seen(symbol)
            inst = find_instrument(symbol)
            if seen is None or seen.replayed or inst is None:
                continue
            limit = ages.for_class(inst.asset_class)
            age = seen.age(now)
            if limit > 0 and age > limit and market_open(symbol, now, seen.quote):
                out[symbol] = age
        return out

    def _show(self, fig: Figures, state: TradingState) -> None:
        m = self.metrics
        m.set_state(state)
        m.equity.set(fig.equity)
        m.daily_pnl.set(fig.daily_pnl)
        m.drawdown.set(fig.drawdown or 0.0)
        for kind in ("gross", "net", "long", "short"):
            m.exposure.labels(kind=kind).set(getattr(fig, kind))

    def _act(self, finding: Finding | None, state: TradingState) -> Finding | None:
        """Escalate to the finding's state when it is more severe than the one in force."""
        if finding is None or finding.target is None:
            return None
        if SEVERITY[finding.target] <= SEVERITY[state]:
            return None
        if finding.target is TradingState.HALTED:
            # The desk's own kill switch: HALTED on record first, then open orders cancelled.
            self.desk.set_kill_switch(True, finding.reason, actor=ACTOR, channel=ACTOR)
        else:
            transition(state, finding.target, ACTOR, finding.reason)
            # Read and written in one transaction: a halt committed meanwhile stays.
            moved = self.desk.ledger.escalate_trading_state(
                finding.target, finding.reason, ACTOR, tripped_by=ACTOR
            )
            if moved is None:
                return None
        self.log.warning(
            "trading_state_changed",
            state=finding.target.value,
            kind=finding.kind,
            reason=finding.reason,
        )
        return finding

    def _tell(self, findings: list[Finding]) -> None:
        """Log each finding when it first appears, not on every look."""
        # By kind and target: the numbers in a reason move on every look.
        keys = {f"{f.kind}:{f.target}" for f in findings}
        for f in findings:
            if f"{f.kind}:{f.target}" not in self._told:
                self.log.warning("risk_finding", kind=f.kind, reason=f.reason)
                self.desk.alerts.send(finding_alert(f))
        self._told = keys


def finding_alert(finding: Finding) -> AlertEvent:
    """The alert a person gets when the watch first sees a finding (deduplicated by the
    alerter too, so a finding that comes and goes does not flood the channel)."""
    kind = {
        "stale_data": AlertKind.STALE_DATA,
        "calendar": AlertKind.ERROR,
        "blackout": AlertKind.LIMIT_BREACH,
    }.get(finding.kind, AlertKind.LIMIT_BREACH)
    halted = finding.target is TradingState.HALTED
    return AlertEvent(
        kind=kind,
        title=f"risk watch: {finding.kind.replace('_', ' ')}",
        text=finding.reason,
        severity=Severity.CRITICAL if halted else Severity.WARNING,
        key=f"watch:{finding.kind}:{finding.target}",
    )

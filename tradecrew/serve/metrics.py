"""The daemon's Prometheus metrics, in a registry of their own (never the global one, so a
library's metrics or a second desk in the same process cannot mix in)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from tradecrew.models import TradingState

STATE_VALUE = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
#: Crew cycles take from under a second (deterministic) to minutes (an LLM crew).
CYCLE_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

#: Every metric name the daemon exports; the dashboard test checks each panel against them.
METRIC_NAMES = (
    "tradecrew_trading_state",
    "tradecrew_equity",
    "tradecrew_daily_pnl",
    "tradecrew_drawdown",
    "tradecrew_exposure",
    "tradecrew_orders_total",
    "tradecrew_risk_decisions_total",
    "tradecrew_proposals_pending",
    "tradecrew_data_age_seconds",
    "tradecrew_cycle_seconds",
    "tradecrew_llm_tokens_total",
    "tradecrew_llm_cost_usd_total",
    "tradecrew_errors_total",
)


class DeskMetrics:
    """What ``/metrics`` shows; the jobs set it, the HTTP server only renders it."""

    def __init__(self) -> None:
        # ``*_created`` series double the page and no panel reads them.
        disable_created_metrics()
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.trading_state = Gauge(
            "tradecrew_trading_state", "0 active, 1 reducing, 2 halted", registry=r
        )
        self.equity = Gauge("tradecrew_equity", "account equity, account currency", registry=r)
        self.daily_pnl = Gauge(
            "tradecrew_daily_pnl", "equity minus the day's first equity", registry=r
        )
        self.drawdown = Gauge("tradecrew_drawdown", "fall from peak equity, fraction", registry=r)
        self.exposure = Gauge(
            "tradecrew_exposure",
            "notional exposure by kind (gross, net, long, short)",
            ["kind"],
            registry=r,
        )
        self.orders = Counter(
            "tradecrew_orders", "order status changes seen in the ledger", ["status"], registry=r
        )
        self.decisions = Counter(
            "tradecrew_risk_decisions",
            "risk decisions (approved, shrunk, vetoed) and agent verdicts",
            ["decision"],
            registry=r,
        )
        self.proposals_pending = Gauge(
            "tradecrew_proposals_pending", "proposals awaiting a human", registry=r
        )
        self.data_age = Gauge(
            "tradecrew_data_age_seconds",
            "age of the freshest quote per symbol",
            ["symbol"],
            registry=r,
        )
        self.cycle_seconds = Histogram(
            "tradecrew_cycle_seconds", "crew cycle duration", buckets=CYCLE_BUCKETS, registry=r
        )
        self.llm_tokens = Counter("tradecrew_llm_tokens", "LLM tokens the crew used", registry=r)
        self.llm_cost = Counter(
            "tradecrew_llm_cost_usd", "estimated LLM spend, US dollars", registry=r
        )
        self.errors = Counter(
            "tradecrew_errors", "failed job runs and problems by kind", ["kind"], registry=r
        )
        # Series exist from the start, so a dashboard shows 0 rather than "no data".
        for kind in ("gross", "net", "long", "short"):
            self.exposure.labels(kind=kind)
        for status in ("submitted", "filled", "cancelled", "rejected"):
            self.orders.labels(status=status)
        for decision in ("approved", "shrunk", "vetoed"):
            self.decisions.labels(decision=decision)
        for kind in ("job", "watch", "broker", "data"):
            self.errors.labels(kind=kind)
        self._symbols: set[str] = set()

    def set_state(self, state: TradingState) -> None:
        self.trading_state.set(STATE_VALUE[TradingState(state)])

    def set_data_ages(self, ages: Mapping[str, float]) -> None:
        """Ages of the symbols watched now; a symbol no longer watched is dropped."""
        for gone in self._symbols - ages.keys():
            self.data_age.remove(gone)
        for symbol, age in ages.items():
            self.data_age.labels(symbol=symbol).set(age)
        self._symbols = set(ages)

    def render(self) -> bytes:
        return generate_latest(self.registry)

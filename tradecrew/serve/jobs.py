"""The daemon's jobs. Each is one step that either completes or leaves nothing behind: the
ledger writes in transactions, so a step abandoned at shutdown is rolled back whole.

A failing job is counted (``tradecrew_errors_total{kind}``) and logged in one redacted line;
the next run tries again. Jobs do not run once shutdown has begun.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tradecrew.alerts.events import AlertEvent, AlertKind, Severity
from tradecrew.models import utcnow
from tradecrew.serve.metrics import DeskMetrics
from tradecrew.serve.quotes import QuoteBook
from tradecrew.serve.watch import Watcher
from tradecrew.text import one_line

if TYPE_CHECKING:
    from tradecrew.agents import CrewRunResult
    from tradecrew.desk import Desk

#: Research checks another part of the desk provides: job name -> (module, function).
OPTIONAL = {
    "ab_check": ("tradecrew.research.ab", "check_and_rollback"),
    "automl_check": ("tradecrew.research.automl", "run_if_due"),
}


class Jobs:
    def __init__(
        self,
        desk: Desk,
        metrics: DeskMetrics,
        log: Any,
        watchlist: list[str],
    ) -> None:
        self.desk = desk
        self.metrics = metrics
        self.log = log
        self.watchlist = watchlist
        self.quotes = QuoteBook()
        self.watcher = Watcher(desk, metrics, self.quotes, log)
        self.stopping = threading.Event()
        self._symbols: list[str] = list(watchlist)
        self._running: dict[str, float] = {}
        self._idle = threading.Condition()

    # ------------------------------------------------------------------ running

    def guarded(self, name: str, step: Callable[[], object]) -> Callable[[], bool]:
        """``step`` as a job: skipped once shutdown began, counted while it runs (shutdown
        waits for it), its failure counted and logged. True when it ran and succeeded."""

        def job() -> bool:
            with self._idle:  # checked under the lock ``wait_idle`` reads: no step slips in
                if self.stopping.is_set():
                    return False
                self._running[name] = time.monotonic()
            try:
                step()
                return True
            except Exception as exc:
                self.metrics.errors.labels(kind="watch" if name == "watch" else "job").inc()
                error = one_line(f"{type(exc).__name__}: {exc}")
                self.log.error("job_failed", job=name, error=error)
                self.desk.alerts.send(
                    AlertEvent(
                        kind=AlertKind.ERROR,
                        title=f"serve job failed: {name}",
                        text=error,
                        severity=Severity.WARNING,
                        key=f"job:{name}",
                    )
                )
                return False
            finally:
                with self._idle:
                    self._running.pop(name, None)
                    self._idle.notify_all()

        job.__name__ = name
        return job

    def wait_idle(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` s for running steps to end; the names still running."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._running and (left := deadline - time.monotonic()) > 0:
                self._idle.wait(left)
            return sorted(self._running)

    # ------------------------------------------------------------------ steps

    def refresh(self) -> None:
        """The paper venue catches up with its data source (fills what the market reached),
        then each watched symbol's quote is read for its age."""
        refresh = getattr(self.desk.broker, "refresh", None)
        if callable(refresh):
            fills = refresh()
            if fills:
                self.log.info("fills", count=len(fills))
        # The watchlist and every symbol held (a position outside it is watched too).
        held = {p.symbol.upper() for p in self.desk.broker.positions() if p.quantity}
        symbols = sorted(set(self.watchlist) | held)
        self._symbols = symbols
        for symbol in symbols:
            if self.stopping.is_set():
                return
            try:
                self.quotes.saw(self.desk.broker.quote(symbol), utcnow())
            except Exception as exc:  # one symbol's outage does not stop the others
                self.metrics.errors.labels(kind="data").inc()
                self.quotes.failed(symbol, one_line(f"{type(exc).__name__}: {exc}", 200))
        self.quotes.forget(set(symbols))
        self.metrics.set_data_ages(self.quotes.ages(symbols, utcnow()))

    def reconcile(self) -> None:
        from tradecrew.desk.reconcile import reconcile_safely, worth_telling

        report = reconcile_safely(self.desk)
        if worth_telling(report) or report.failed:
            self.log.warning("reconcile", message=report.message)

    def watch(self) -> None:
        result = self.watcher.run()
        if result.broker_error:
            self.log.warning("broker_unavailable", error=result.broker_error)
        self.metrics.set_data_ages(self.quotes.ages(self._symbols, utcnow()))

    def crew(self, timeframe: str) -> CrewRunResult:
        """The crew (deterministic without an LLM) over the watchlist; trades become
        proposals through the desk, waiting for a person like any other."""
        from tradecrew.agents import run_crew

        started = time.perf_counter()
        result = run_crew(
            self.watchlist,
            timeframe=timeframe,
            propose=self.desk.propose,
            settings=self.desk.settings,
        )
        self.metrics.cycle_seconds.observe(time.perf_counter() - started)
        summary = result.summary
        self.metrics.llm_tokens.inc(max(summary.total_tokens, 0))
        self.metrics.llm_cost.inc(max(summary.cost, 0.0))
        filed = [o.proposal_id for o in result.outcomes if o.proposal_id]
        self.log.info(
            "crew_cycle",
            run_id=result.run_id,
            timeframe=timeframe,
            mode=result.mode,
            symbols=len(result.outcomes),
            proposals=len(filed),
        )
        return result

    def optional(self, name: str) -> None:
        """A research check when its module is installed; quietly nothing otherwise."""
        module_name, function = OPTIONAL[name]
        if importlib.util.find_spec(module_name) is None:
            return
        outcome = getattr(importlib.import_module(module_name), function)(self.desk)
        if outcome is not None:
            self.log.info(name, outcome=_brief(outcome))


def _brief(outcome: object) -> object:
    dump = getattr(outcome, "model_dump", None)
    return dump(mode="json") if callable(dump) else str(outcome)

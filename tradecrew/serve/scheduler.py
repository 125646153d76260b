"""The schedule: which job runs how often (APScheduler 3.x, in-process, UTC).

Restart-safe by construction: nothing is kept in the scheduler, the desk's state is the
ledger's, so a restart picks up where the ledger stands. Crew cycles are aligned to multiples
of their interval since the epoch, so a restart keeps the same slots; a slot missed while
the daemon was down is not replayed, and runs that pile up behind a slow one are coalesced
into one (``coalesce``), or skipped once later than ``misfire_grace_seconds``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from tradecrew.config import ServeSettings
from tradecrew.models import Timeframe
from tradecrew.serve.jobs import OPTIONAL, Jobs

#: Crew slots start this long after the bar boundary, so the bar that just closed is there.
CREW_OFFSET = timedelta(seconds=10)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def crew_timeframes(cfg: ServeSettings) -> dict[str, float]:
    """The configured crew schedule with timeframes checked (``M5``, ``H1``, ``D1``...)."""
    out: dict[str, float] = {}
    for name, seconds in cfg.crew.items():
        tf = Timeframe(name.strip().upper()).value
        if not seconds > 0:
            raise ValueError(f"serve.crew: the interval for {tf} must be above 0 seconds")
        out[tf] = float(seconds)
    return out


def steps(jobs: Jobs, cfg: ServeSettings) -> dict[str, object]:
    """Every job by name, as run by the scheduler and by ``--once``."""
    named: dict[str, object] = {
        "refresh": jobs.guarded("refresh", jobs.refresh),
        "reconcile": jobs.guarded("reconcile", jobs.reconcile),
        "watch": jobs.guarded("watch", jobs.watch),
    }
    for tf in crew_timeframes(cfg):
        named[f"crew_{tf}"] = jobs.guarded(f"crew_{tf}", partial(jobs.crew, tf))
    for name in OPTIONAL:
        named[name] = jobs.guarded(name, partial(jobs.optional, name))
    if jobs.desk.settings.alerts.telegram_approves:
        from tradecrew.serve.telegram_poll import poll_job

        # Approve/reject presses from the configured approver chat (a channel of its own).
        named["telegram_poll"] = jobs.guarded("telegram_poll", partial(poll_job, jobs.desk))
    return named


def build(jobs: Jobs, cfg: ServeSettings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": max(1, int(cfg.misfire_grace_seconds)),
        },
        timezone=UTC,
    )
    named = steps(jobs, cfg)
    now = datetime.now(UTC)
    # Reconcile and look at the book at once on start: the ledger may be behind the broker.
    for name, seconds in (
        ("reconcile", cfg.reconcile_seconds),
        ("refresh", cfg.refresh_seconds),
        ("watch", cfg.watch_seconds),
    ):
        scheduler.add_job(
            named[name], IntervalTrigger(seconds=seconds), id=name, name=name, next_run_time=now
        )
    for tf, seconds in crew_timeframes(cfg).items():
        scheduler.add_job(
            named[f"crew_{tf}"],
            IntervalTrigger(seconds=seconds, start_date=EPOCH + CREW_OFFSET, timezone=UTC),
            id=f"crew_{tf}",
            name=f"crew_{tf}",
        )
    for name, seconds in (
        ("ab_check", cfg.ab_check_seconds),
        ("automl_check", cfg.automl_check_seconds),
    ):
        scheduler.add_job(named[name], IntervalTrigger(seconds=seconds), id=name, name=name)
    if "telegram_poll" in named:
        scheduler.add_job(
            named["telegram_poll"],
            IntervalTrigger(seconds=cfg.telegram_poll_seconds),
            id="telegram_poll",
            name="telegram_poll",
        )
    return scheduler

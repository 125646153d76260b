"""The schedule: crew slots aligned so a restart keeps them, runs missed behind a slow one
coalesced, not replayed, and no job on top of itself."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.serve.conftest import make_desk
from tradecrew.config import ServeSettings
from tradecrew.desk import Desk
from tradecrew.serve.jobs import Jobs
from tradecrew.serve.metrics import DeskMetrics
from tradecrew.serve.scheduler import CREW_OFFSET, EPOCH, build, crew_timeframes


def test_every_job_coalesces_runs_alone_and_crew_slots_are_aligned(desk: Desk, log: Any) -> None:
    cfg = ServeSettings(crew={"h1": 3600, "M5": 300}, misfire_grace_seconds=7)
    scheduler = build(Jobs(desk, DeskMetrics(), log, ["AAPL"]), cfg)
    scheduler.start(paused=True)
    try:
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert set(jobs) == {
            "watch",
            "refresh",
            "reconcile",
            "crew_H1",
            "crew_M5",
            "ab_check",
            "automl_check",
        }
        for job in jobs.values():
            assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time == 7
        for tf, seconds in (("H1", 3600), ("M5", 300)):
            after = (jobs[f"crew_{tf}"].next_run_time - EPOCH - CREW_OFFSET).total_seconds()
            assert after % seconds == 0
            assert jobs[f"crew_{tf}"].next_run_time > datetime.now(UTC)
    finally:
        scheduler.shutdown(wait=False)


def test_an_unknown_crew_timeframe_is_refused() -> None:
    with pytest.raises(ValueError, match="H7"):
        crew_timeframes(ServeSettings(crew={"H7": 60}))


class _SlowFirstWatch(Jobs):
    """The real jobs, whose first watch takes a second (a slow broker)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runs: list[float] = []
        self.release = threading.Event()

    def watch(self) -> None:
        self.runs.append(time.monotonic())
        if len(self.runs) == 1:
            self.release.wait(1.0)


def test_runs_missed_behind_a_slow_one_are_not_replayed(tmp_path: Any, feed: Any, log: Any) -> None:
    home = tmp_path / "h3"
    home.mkdir(mode=0o700)
    desk = make_desk(home, feed)
    cfg = ServeSettings(watch_seconds=0.1, refresh_seconds=60, reconcile_seconds=60, crew={})
    jobs = _SlowFirstWatch(desk, DeskMetrics(), log, ["AAPL"])
    scheduler = build(jobs, cfg)
    scheduler.start()
    try:
        time.sleep(1.6)
    finally:
        scheduler.shutdown(wait=True)
        desk.close()
    # Blocked for 1 s (10 slots), then one run per 0.1 s: never a burst of the missed ones.
    after_block = [t for t in jobs.runs[1:] if t - jobs.runs[0] >= 1.0]
    assert len(jobs.runs) <= 1 + 8
    gaps = [b - a for a, b in itertools.pairwise(after_block)]
    assert all(gap > 0.05 for gap in gaps), gaps

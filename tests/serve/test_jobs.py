"""The jobs on a real desk: a crew cycle files proposals that wait for a person, research
checks run when their module is there and quietly not otherwise, a failing job is counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tradecrew.brokers import PaperBroker
from tradecrew.config import Settings, get_settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.models import ProposalStatus
from tradecrew.serve import jobs as jobs_module
from tradecrew.serve.jobs import Jobs
from tradecrew.serve.metrics import DeskMetrics
from tradecrew.tools.catalog import provider_for


def test_a_crew_cycle_files_proposals_that_wait_for_a_person(
    tradecrew_home: Path, log: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parts of the crew read the settings singleton: it must say what the desk says.
    monkeypatch.setenv("TRADECREW_DATA_SOURCE", "sample")
    monkeypatch.delenv("TRADECREW_LLM__MODEL", raising=False)
    get_settings.cache_clear()
    provider_for.cache_clear()  # the provider of "the configured source" is kept per process
    home = tradecrew_home
    settings = Settings(home=home, serve={"crew": {}})
    settings.ensure_home()
    broker = PaperBroker(home / "p.db", source="sample", settings=settings.broker)
    desk = Desk(Ledger(f"sqlite:///{home / 'l.db'}"), broker, settings, source="sample")
    try:
        jobs = Jobs(desk, DeskMetrics(), log, ["XAUUSD"])
        result = jobs.crew("D1")
        assert desk.proposals(), result.model_dump_json(exclude={"inputs"})[:3000]
        (proposal,) = desk.proposals()
        assert proposal.status is ProposalStatus.PENDING and proposal.origin.value == "crew"
        assert desk.orders() == []  # nothing reaches the broker without a person
        samples = {s.name: s.value for s in jobs.metrics.cycle_seconds.collect()[0].samples}
        assert samples["tradecrew_cycle_seconds_count"] == 1
        assert jobs.metrics.llm_tokens._value.get() == 0  # deterministic mode
    finally:
        desk.close()


def test_research_checks_run_when_present_and_are_quiet_when_absent(
    desk: Desk, log: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = Jobs(desk, DeskMetrics(), log, ["AAPL"])
    assert jobs.guarded("ab_check", lambda: jobs.optional("ab_check"))()
    monkeypatch.setitem(
        jobs_module.OPTIONAL, "automl_check", ("tradecrew.research.not_written_yet", "run")
    )
    assert jobs.guarded("automl_check", lambda: jobs.optional("automl_check"))()
    assert jobs.metrics.errors.labels(kind="job")._value.get() == 0


def test_a_failing_job_is_counted_and_the_next_run_tries_again(desk: Desk, log: Any) -> None:
    jobs = Jobs(desk, DeskMetrics(), log, ["AAPL"])
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("venue reset the connection")

    job = jobs.guarded("flaky", flaky)
    assert job() is False and job() is True
    assert jobs.metrics.errors.labels(kind="job")._value.get() == 1
    jobs.stopping.set()
    assert job() is False and len(calls) == 2  # no new step once shutdown began

"""The packaged calendar is generated sample data: every blackout it causes says so, and a
live account takes no blackout from it unless the user turns that on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.desk.helpers import T0, Clock, build_desk, make_settings
from tradecrew.brokers.paper import PaperBroker
from tradecrew.data.calendar_events import SYNTHETIC_LABEL
from tradecrew.data.calendar_sample import sample_events
from tradecrew.models import AccountMode, ProposalRequest, RiskCheck, Side

# The first high-impact USD release of the sample calendar after T0 (EURUSD trades on it).
EVENT = next(
    e
    for e in sample_events(2025, 2025)
    if e.currency == "USD" and e.impact == "high" and e.time > T0
)


class LiveLabelledPaper(PaperBroker):
    """The embedded venue reporting a live account: the gate's live rules, nothing sent."""

    @property
    def mode(self) -> AccountMode:
        return AccountMode.LIVE


def _blackout_check(
    tmp_path: Path, *, live: bool, sample_with_live: bool = False, file: Path | None = None
) -> RiskCheck:
    settings = make_settings(tmp_path)
    settings.components.calendar.sample_with_live = sample_with_live
    settings.components.calendar.file = file
    broker_cls = LiveLabelledPaper if live else PaperBroker
    desk = build_desk(tmp_path, settings, clock=Clock(EVENT.time), broker_cls=broker_cls)
    try:
        made = desk.propose(ProposalRequest(symbol="EURUSD", side=Side.BUY, quantity=1000.0))
        assert made.decision is not None
        return next(c for c in made.decision.checks if c.name == "blackout")
    finally:
        desk.close()


def test_a_live_account_takes_no_blackout_from_the_sample_calendar_and_says_why(
    tmp_path: Path,
) -> None:
    check = _blackout_check(tmp_path, live=True)
    assert check.passed and check.max_quantity is None
    assert "not checked" in check.reason and SYNTHETIC_LABEL in check.reason
    assert "components.calendar.file" in check.reason
    assert "TRADECREW_COMPONENTS__CALENDAR__SAMPLE_WITH_LIVE=true" in check.reason


def test_a_live_account_that_opted_in_is_blacked_out_by_the_sample_calendar(
    tmp_path: Path,
) -> None:
    check = _blackout_check(tmp_path, live=True, sample_with_live=True)
    assert check.max_quantity is not None and check.max_quantity < 1000.0
    assert check.reason.startswith("event blackout") and SYNTHETIC_LABEL in check.reason


def test_paper_is_blacked_out_by_the_sample_calendar_and_told_it_is_synthetic(
    tmp_path: Path,
) -> None:
    check = _blackout_check(tmp_path, live=False)
    assert check.max_quantity is not None and check.max_quantity < 1000.0
    assert check.reason.startswith("event blackout") and SYNTHETIC_LABEL in check.reason


@pytest.mark.parametrize("sample_rows", [False, True])
def test_a_live_account_keeps_the_blackouts_of_a_real_calendar(
    tmp_path: Path, sample_rows: bool
) -> None:
    # A real file still holds a live account; its generated rows (if any) are left out, so
    # the blackout comes from the real release and is not labelled synthetic.
    real = tmp_path / "calendar.csv"
    rows = [f"{EVENT.time:%Y-%m-%dT%H:%M:%SZ},USD,high,Real release,false"]
    if sample_rows:
        rows.append("2025-01-03T13:30:00Z,USD,high,US Non-Farm Payrolls,true")
    real.write_text("time,currency,impact,title,sample\n" + "\n".join(rows) + "\n")
    check = _blackout_check(tmp_path, live=True, file=real)
    assert check.max_quantity is not None and check.max_quantity < 1000.0
    assert check.reason.startswith("event blackout")
    assert SYNTHETIC_LABEL not in check.reason

"""Deduplication and rate limiting of alerts (pure, on a clock the test moves)."""

from __future__ import annotations

from tradecrew.alerts import AlertEvent, AlertKind
from tradecrew.alerts.throttle import Throttle


def _event(title: str, kind: AlertKind = AlertKind.ERROR) -> AlertEvent:
    return AlertEvent(kind=kind, title=title)


def _titles(events: list[AlertEvent]) -> list[str]:
    return [e.title for e in events]


def test_the_same_key_within_the_window_goes_out_once() -> None:
    throttle = Throttle(dedup_seconds=60, limit=100, window=60)
    assert _titles(throttle.admit(_event("feed down"), 0.0)) == ["feed down"]
    assert throttle.admit(_event("feed down"), 30.0) == []
    assert _titles(throttle.admit(_event("other"), 30.0)) == ["other"]
    assert _titles(throttle.admit(_event("feed down"), 61.0)) == ["feed down"]
    assert throttle.deduplicated == 1


def test_an_explicit_key_names_the_same_alert_whatever_its_title() -> None:
    throttle = Throttle(dedup_seconds=60, limit=100, window=60)
    first = AlertEvent(kind=AlertKind.STALE_DATA, title="XAUUSD 301 s old", key="stale:XAUUSD")
    again = AlertEvent(kind=AlertKind.STALE_DATA, title="XAUUSD 302 s old", key="stale:XAUUSD")
    assert len(throttle.admit(first, 0.0)) == 1
    assert throttle.admit(again, 1.0) == []


def test_a_burst_past_the_limit_is_summarised_in_one_alert() -> None:
    throttle = Throttle(dedup_seconds=0, limit=3, window=60)
    sent = []
    for i in range(10):
        sent += throttle.admit(_event(f"e{i}", AlertKind.FILL if i % 2 else AlertKind.VETO), i)
    assert _titles(sent) == ["e0", "e1", "e2"]
    assert throttle.rate_limited == 7
    assert throttle.flush_summary(30.0) == []  # the window that held them is still full
    (summary,) = throttle.flush_summary(61.0)
    assert summary.kind is AlertKind.SUMMARY
    assert summary.title == "7 more alerts held back by the rate limit"
    assert summary.text == "4 fill, 3 veto"
    assert throttle.flush_summary(200.0) == []  # said once


def test_the_summary_goes_out_before_the_next_alert() -> None:
    throttle = Throttle(dedup_seconds=0, limit=1, window=10)
    throttle.admit(_event("a"), 0.0)
    throttle.admit(_event("b"), 1.0)
    out = throttle.admit(_event("c"), 11.0)
    assert [e.kind for e in out] == [AlertKind.SUMMARY]  # the summary takes the new slot
    assert throttle.rate_limited == 2

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.data.calendar_events import Calendar, EconomicEvent
from tradecrew.data.calendar_file import CalendarFile
from tradecrew.tools.calendar import affected_symbols, blackout, symbol_currencies

T0 = datetime(2024, 7, 5, 12, 30, tzinfo=UTC)


def event(
    currency: str, impact: str = "high", at: datetime = T0, title: str = "X"
) -> EconomicEvent:
    return EconomicEvent(time=at, currency=currency, impact=impact, title=title)


def check(symbol: str, now: datetime, events: Sequence[EconomicEvent], **kw: object):
    params = {"minutes_before": 60, "minutes_after": 30, "risk_reduction": 0.5, "action": "reduce"}
    params.update(kw)
    return blackout(symbol, now, events, **params)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- blackout


def test_window_runs_from_minutes_before_to_minutes_after_the_event() -> None:
    events = [event("USD")]
    inside = [T0 - timedelta(minutes=60), T0, T0 + timedelta(minutes=30)]
    outside = [T0 - timedelta(minutes=61), T0 + timedelta(minutes=31)]
    for now in inside:
        res = check("EURUSD", now, events)
        assert res.in_blackout and res.risk_reduction == 0.5 and res.events == events
    for now in outside:
        res = check("EURUSD", now, events)
        assert not res.in_blackout and res.risk_reduction == 1.0 and res.events == []


def test_eurusd_is_affected_by_euro_and_dollar_events_and_gold_only_by_dollar_events() -> None:
    now = T0 - timedelta(minutes=5)
    for ccy in ("EUR", "USD"):
        assert check("EURUSD", now, [event(ccy)]).in_blackout
    assert check("XAUUSD", now, [event("USD")]).in_blackout
    assert not check("XAUUSD", now, [event("EUR")]).in_blackout
    assert not check("GBPJPY", now, [event("USD")]).in_blackout
    assert check("gold", now, [event("USD")]).in_blackout  # aliases resolve to XAUUSD


def test_unknown_symbols_use_their_forex_code_or_fall_back_to_dollars() -> None:
    assert symbol_currencies("SEKNOK") == ("SEK", "NOK")
    assert symbol_currencies("sek/nok") == ("SEK", "NOK")
    assert symbol_currencies("SOMECORP") == ("USD",)
    assert symbol_currencies("EURUSD") == ("EUR", "USD")
    assert symbol_currencies("AAPL") == ("USD",)
    now = T0 - timedelta(minutes=1)
    assert check("SEKNOK", now, [event("NOK")]).in_blackout
    assert not check("SEKNOK", now, [event("USD")]).in_blackout


def test_only_high_impact_events_cause_a_blackout() -> None:
    now = T0 - timedelta(minutes=1)
    for impact in ("low", "medium"):
        assert not check("EURUSD", now, [event("USD", impact)]).in_blackout


def test_block_action_sets_the_size_multiplier_to_zero() -> None:
    res = check("EURUSD", T0, [event("USD")], action="block")
    assert res.in_blackout and res.risk_reduction == 0.0 and res.action == "block"
    assert (
        check("EURUSD", T0 - timedelta(hours=3), [event("USD")], action="block").risk_reduction
        == 1.0
    )


def test_next_event_is_the_next_relevant_high_impact_event() -> None:
    later = event("EUR", at=T0 + timedelta(days=1), title="ECB")
    events = [event("JPY", at=T0 + timedelta(hours=1)), event("USD", "medium"), later]
    res = check("EURUSD", T0, events)
    assert not res.in_blackout
    assert res.next_event == later
    assert res.minutes_to_next_event == pytest.approx(24 * 60)


def test_the_pure_defaults_are_the_settings_defaults() -> None:
    from tradecrew.config import CalendarComponent
    from tradecrew.tools.calendar import DEFAULT_WINDOW

    cfg = CalendarComponent()
    assert (cfg.minutes_before, cfg.minutes_after, cfg.risk_reduction, cfg.action) == DEFAULT_WINDOW


def test_the_calendar_tool_takes_its_window_from_settings(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.tools.front_end import registry
    from tradecrew.config import get_settings
    from tradecrew.tools.catalog import CalendarQuery

    path = write(tmp_path, "mine.csv", "time,currency,impact,title\n2024-07-05T12:30Z,USD,high,N\n")
    monkeypatch.setenv("TRADECREW_COMPONENTS__CALENDAR__FILE", str(path))
    monkeypatch.setenv("TRADECREW_COMPONENTS__CALENDAR__MINUTES_BEFORE", "10")
    monkeypatch.setenv("TRADECREW_COMPONENTS__CALENDAR__ACTION", "block")
    get_settings.cache_clear()
    tool = registry(get_settings())["economic_calendar"]
    query = CalendarQuery(symbol="EURUSD", timestamp=T0 - timedelta(minutes=11))
    assert not tool.run(query).in_blackout
    res = tool.run(CalendarQuery(symbol="EURUSD", timestamp=T0 - timedelta(minutes=10)))
    assert res.in_blackout and res.risk_reduction == 0.0 and res.source == "file"


def test_bad_blackout_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check("EURUSD", datetime(2024, 7, 5, 12), [])
    with pytest.raises(ValueError, match="risk_reduction"):
        check("EURUSD", T0, [], risk_reduction=1.5)
    with pytest.raises(ValueError, match="action"):
        check("EURUSD", T0, [], action="panic")
    with pytest.raises(ValueError, match="minutes"):
        check("EURUSD", T0, [], minutes_before=-1)


# --------------------------------------------------------------------------- labels


def test_the_calendar_module_holds_no_state_of_its_own() -> None:
    import tradecrew.tools.calendar as module

    assert not hasattr(module, "_indexed") and not hasattr(module, "_synthetic")
    assert not hasattr(module, "default_events")  # selecting a calendar reads settings
    assert not hasattr(module, "events_from")  # reading files is data's, by an owned reader


def test_the_packaged_sample_calendar_is_labelled_synthetic_in_every_result() -> None:
    shipped = CalendarFile().calendar()
    payrolls = next(e for e in shipped if e.title == "US Non-Farm Payrolls" and e.time > T0)
    inside = check("EURUSD", payrolls.time, shipped)
    assert inside.in_blackout and inside.synthetic
    assert inside.reason.endswith("(sample calendar (synthetic))")
    outside = check("EURUSD", payrolls.time + timedelta(days=3), shipped)
    assert not outside.in_blackout and outside.synthetic
    assert "sample calendar (synthetic)" in outside.reason
    real = check("EURUSD", T0, [event("USD")])
    assert real.in_blackout and not real.synthetic and "synthetic" not in real.reason


# --------------------------------------------------------------------------- shared calendars

_MINUTES = st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60)


@given(
    offsets=st.lists(st.tuples(_MINUTES, st.sampled_from(["USD", "EUR", "JPY"])), max_size=30),
    now=_MINUTES,
    symbol=st.sampled_from(["EURUSD", "USDJPY", "XAUUSD", "EURJPY"]),
)
@settings(max_examples=200, deadline=None)
def test_a_shared_calendar_answers_exactly_as_a_scan_does(
    offsets: list[tuple[int, str]], now: int, symbol: str
) -> None:
    events = [event(c, at=T0 + timedelta(minutes=m), title=f"{c}{m}") for m, c in offsets]
    at = T0 + timedelta(minutes=now)
    scanned = check(symbol, at, events)
    shared = Calendar(events)
    assert check(symbol, at, shared) == scanned
    assert check(symbol, at, shared) == scanned  # now from the index


def test_a_new_shared_calendar_is_never_answered_from_the_last_ones_index() -> None:
    first = Calendar([event("USD", at=T0)])
    second = Calendar([event("USD", at=T0 + timedelta(days=1))])
    assert check("EURUSD", T0, first).in_blackout
    assert not check("EURUSD", T0, second).in_blackout
    assert check("EURUSD", T0, first).in_blackout


def test_live_calendars_name_their_source_in_the_reason() -> None:
    live = Calendar([event("USD").model_copy(update={"source": "forex_feed"})], "forex_feed")
    inside = check("XAUUSD", T0, live)
    assert inside.in_blackout and not inside.synthetic and inside.source == "forex_feed"
    assert inside.reason.endswith("(forex_feed calendar)")
    assert live.real().events == live.events and live.label() == "forex_feed calendar"


def test_a_calendar_without_its_samples_is_real() -> None:
    mixed = Calendar([event("USD"), event("EUR").model_copy(update={"sample": True})])
    assert mixed.synthetic and mixed.source == "sample"
    assert not mixed.real().synthetic and len(mixed.real()) == 1


def test_an_event_currency_maps_to_the_symbols_it_moves() -> None:
    usd = affected_symbols("usd")
    assert {"EURUSD", "XAUUSD", "SPX", "USDJPY", "AAPL"} <= set(usd)
    assert "EURGBP" not in usd
    assert affected_symbols("JPY") == ["EURJPY", "GBPJPY", "USDJPY"]

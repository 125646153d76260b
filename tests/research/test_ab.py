"""Champion/challenger on paper and the monitor's rollback, over a real ledger and the
desk's real analysis (sample SPX bars)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pytest

from tests.cli.invoke import cli
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.ledger import ABExperiment, ABObservation
from tradecrew.models import Timeframe
from tradecrew.research import ab, ab_shadow, ab_stats, configs
from tradecrew.research.ab_stats import ArmStats

SINCE = datetime(2018, 11, 1, tzinfo=UTC)
FUTURE = datetime(2100, 1, 1, tzinfo=UTC)  # no real bar closes after it: injected bars only


@pytest.fixture
def desk(tradecrew_home: Path) -> Iterator[Desk]:
    opened = Desk.from_settings(Settings())
    try:
        yield opened
    finally:
        opened.close()


def _inject(
    desk: Desk, experiment: ABExperiment, live: np.ndarray, base: np.ndarray, attr: dict
) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    desk.ledger.record_observations(
        [
            ABObservation(
                experiment_id=experiment.id,
                symbol="SPX",
                bar_time=start + timedelta(days=k),
                champion_position=1.0,
                challenger_position=1.0,
                champion_return=float(live[k]),
                challenger_return=float(base[k]),
                attribution=attr,
            )
            for k in range(len(live))
        ]
    )


def _worse(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return -0.002 + 0.01 * rng.standard_normal(n), 0.002 + 0.01 * rng.standard_normal(n)


# ------------------------------------------------------------------ shadow evaluation


def test_both_arms_analyse_the_same_bars_causally(desk: Desk) -> None:
    from tradecrew.tools.analysis import analyze_frames
    from tradecrew.tools.catalog import load_bars

    experiment = ab.start(desk, "traditional", actor="cli", symbols=["SPX"], since=SINCE)
    added = ab.observe(desk, experiment)
    seen, bad = desk.ledger.observations(experiment.id)
    assert added == len(seen) > 30 and bad == 0
    assert ab.observe(desk, experiment) == 0  # the same bars are not recorded twice
    bars = load_bars("SPX", Timeframe.D1, "sample", None, 5000)
    assert seen[-1].bar_time == bars.index[-2]  # the last bar has no next bar yet
    assert seen[0].bar_time + timedelta(days=1) >= SINCE
    traditional = configs.effective_settings(desk.settings, ab_shadow.TRADITIONAL_CONTENT)
    previous = seen[19]
    for obs in seen[20:23]:
        i = bars.index.get_loc(obs.bar_time)
        window = bars.iloc[i + 1 - ab_shadow.WINDOW : i + 1]  # nothing after the observed bar
        live = analyze_frames("SPX", window, timeframe=Timeframe.D1, settings=desk.settings)
        base = analyze_frames("SPX", window, timeframe=Timeframe.D1, settings=traditional)
        assert obs.champion_position == ab_shadow._position(live.signal)
        assert obs.challenger_position == ab_shadow._position(base.signal)
        market = bars["close"].iloc[i + 1] / bars["close"].iloc[i] - 1
        cost = desk.settings.components.ab.cost
        expected = obs.champion_position * market - cost * abs(
            obs.champion_position - previous.champion_position
        )
        assert obs.champion_return == pytest.approx(expected)
        assert "regime" in obs.attribution  # the champion's own votes, attributed
        previous = obs


def test_ab_commands_show_both_arms_with_intervals(tradecrew_home: Path) -> None:
    started = cli(
        "ab", "start", "--challenger", "traditional", "--symbol", "SPX",
        "--since", "2018-11-01", "--json",
    )  # fmt: skip
    assert started.exit_code == 0, started.output
    again = cli("ab", "start", "--challenger", "traditional")
    assert again.exit_code == 2 and "already running" in again.stderr
    status = cli("ab", "status", "--json")
    assert status.exit_code == 0, status.output
    st = json.loads(status.stdout)
    assert st["running"] is True and "bootstrap" in st["ci_method"]
    for arm in ("champion", "challenger"):
        assert st[arm]["observations"] > 30
        lo, hi = st[arm]["sharpe_ci"]
        assert lo <= st[arm]["sharpe"] <= hi
    assert st["comparison"]["sharpe_difference_ci"] is not None
    stopped = cli("ab", "stop", "--reason", "seen enough", "--json")
    assert json.loads(stopped.stdout)["status"] == "stopped"
    nothing = cli("ab", "stop")
    assert nothing.exit_code == 2 and "no A/B experiment is running" in nothing.stderr


@pytest.mark.parametrize("challenger", ["banana", "9", "0"])
def test_bad_challengers_are_refused(tradecrew_home: Path, challenger: str) -> None:
    result = cli("ab", "start", "--challenger", challenger)
    assert result.exit_code == 2 and result.stderr.startswith("error:")
    assert json.loads(cli("ab", "status", "--json", "--no-observe").stdout)["running"] is False


# ------------------------------------------------------------------ the monitor


@contextmanager
def _webhook() -> Iterator[tuple[str, list[dict]]]:
    """A local webhook sink on 127.0.0.1 that keeps every JSON body it receives."""
    got: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", got
    finally:
        server.shutdown()


def test_the_monitor_turns_off_the_components_that_hurt_and_alerts(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with _webhook() as (url, got):
        monkeypatch.setenv("TRADECREW_ALERTS__WEBHOOK_URL", url)
        desk = Desk.from_settings(Settings())
        try:
            configs.set_component(
                desk.ledger, desk.settings, "session", False, actor="cli", channel="cli"
            )
            experiment = ab.start(desk, "traditional", actor="cli", symbols=["SPX"], since=FUTURE)
            live, base = _worse()
            _inject(desk, experiment, live, base, {"regime": -0.002, "trend": 0.001, "mtf": -1e-4})
            with caplog.at_level(logging.WARNING, logger="tradecrew.research.ab"):
                check = ab.check_and_rollback(desk)
            assert check.action == "disabled" and check.disabled == ["regime", "mtf"]
            states = configs.components_view(desk.settings, desk.ledger).components
            view = {c.name: c.enabled for c in states}
            assert view["regime"] is False and view["mtf"] is False and view["session"] is False
            version = desk.ledger.active_config()
            assert (version.version, version.kind, version.actor, version.channel) == (
                2, "monitor", "ab-monitor", "system",
            )  # fmt: skip
            assert "Sharpe" in version.reason and version.evidence["experiment"] == experiment.id
            stopped = desk.ledger.latest_experiment()
            assert stopped.status == "stopped" and stopped.outcome["action"] == "disabled"
            assert any("disabled regime, mtf" in r.getMessage() for r in caplog.records)
            assert desk.ledger.verify_audit_chain().ok
            deadline = time.monotonic() + 10
            while not got and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            desk.close()
    assert got and "disabled regime, mtf" in json.dumps(got[0])


def test_the_monitor_rolls_back_weights_that_automl_adopted(desk: Desk) -> None:
    configs.adopt(
        desk.ledger, desk.settings, weights={"trend": 1.0, "regime": 0.5}, kind="automl",
        actor="automl", channel="system", reason="tuned",
    )  # fmt: skip
    experiment = ab.start(desk, "0", actor="automl", symbols=["SPX"], since=FUTURE)
    live, base = _worse()
    _inject(desk, experiment, live, base, {"regime": -0.002})
    check = ab.check_and_rollback(desk)
    assert check.action == "rolled_back" and check.version == 2
    assert configs.active_settings(desk.settings, desk.ledger)[0].fusion == desk.settings.fusion
    assert desk.ledger.active_config().kind == "rollback"


def test_a_live_configuration_that_holds_is_left_alone(desk: Desk) -> None:
    experiment = ab.start(desk, "traditional", actor="cli", symbols=["SPX"], since=FUTURE)
    worse, better = _worse()
    _inject(desk, experiment, better, worse, {"regime": -0.002})
    check = ab.check_and_rollback(desk)
    assert check.action == "none" and not check.status.breached
    assert desk.ledger.running_experiment().id == experiment.id
    assert desk.ledger.active_config() is None


def test_the_monitor_waits_for_enough_bars(desk: Desk) -> None:
    experiment = ab.start(desk, "traditional", actor="cli", symbols=["SPX"], since=FUTURE)
    live, base = _worse(5)
    _inject(desk, experiment, live, base, {"regime": -0.002})
    assert ab.check_and_rollback(desk).action == "none"
    assert desk.ledger.active_config() is None


def test_an_experiment_whose_champion_is_no_longer_live_is_stopped(desk: Desk) -> None:
    ab.start(desk, "traditional", actor="cli", symbols=["SPX"], since=FUTURE)
    configs.set_component(desk.ledger, desk.settings, "regime", False, actor="cli", channel="cli")
    check = ab.check_and_rollback(desk)
    assert check.action == "stopped" and desk.ledger.running_experiment() is None
    assert desk.ledger.active_config().version == 1  # nothing rolled back


def test_no_experiment_means_nothing_to_do(desk: Desk) -> None:
    assert ab.check_and_rollback(desk).action == "none"


# ------------------------------------------------------------------ the rule and the stats


def _arm(sharpe: float | None, drawdown: float) -> ArmStats:
    return ArmStats(
        observations=50, total_return=0.0, sharpe=sharpe, sharpe_ci=None, max_drawdown=drawdown
    )


def test_the_rule_reads_negative_baselines_and_drawdowns_correctly() -> None:
    assert ab.breached(_arm(0.96, 0.1), _arm(1.0, 0.1), 0.95) == []
    assert ab.breached(_arm(0.94, 0.1), _arm(1.0, 0.1), 0.95)
    # Against a losing baseline, a live arm that loses less is not worse.
    assert ab.breached(_arm(-0.97, 0.1), _arm(-1.0, 0.1), 0.95) == []
    assert ab.breached(_arm(-1.06, 0.1), _arm(-1.0, 0.1), 0.95)
    (why,) = ab.breached(_arm(2.0, 0.11), _arm(1.0, 0.10), 0.95)
    assert "drawdown" in why


def test_intervals_are_seeded_and_cover_the_estimate() -> None:
    rng = np.random.default_rng(1)
    live, base = 0.001 + 0.01 * rng.standard_normal(250), 0.01 * rng.standard_normal(250)
    first = ab_stats.compare(live, base, 252.0)
    assert first == ab_stats.compare(live, base, 252.0)
    a, b, cmp = first
    assert a.sharpe_ci[0] <= a.sharpe <= a.sharpe_ci[1]
    assert cmp.sharpe_difference == pytest.approx(a.sharpe - b.sharpe)
    assert ab_stats.max_drawdown(np.array([0.1, -0.5, 0.2])) == pytest.approx(0.5)


def test_with_the_monitor_off_a_breach_is_reported_not_acted_on(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECREW_COMPONENTS__AB__ENABLED", "false")
    desk = Desk.from_settings(Settings())
    try:
        experiment = ab.start(desk, "traditional", actor="cli", symbols=["SPX"], since=FUTURE)
        live, base = _worse()
        _inject(desk, experiment, live, base, {"regime": -0.002})
        check = ab.check_and_rollback(desk)
        assert check.action == "none" and check.status.breached
        assert "monitor is off" in check.message
        assert desk.ledger.active_config() is None and desk.ledger.running_experiment()
    finally:
        desk.close()

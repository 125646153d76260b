"""AutoML: a real tuning run (optuna through ``research.tuning.optimize``) proposes weights;
they are adopted only when they pass the overfitting guards, recorded with their evidence,
reversible, and run again after every N closed trades."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.invoke import cli
from tradecrew.config import Settings, get_settings
from tradecrew.desk import Desk
from tradecrew.models import ProposalRequest
from tradecrew.research import automl, configs

FAST = {
    "TRADECREW_SYMBOLS": '["SPX"]',
    "TRADECREW_COMPONENTS__AUTOML__N_TRIALS": "3",
}
# Guards that anything passes: the adoption path with a real tuning result.
LAX_GUARDS = {
    "TRADECREW_RESEARCH__GUARDS__MIN_DSR": "0",
    "TRADECREW_RESEARCH__GUARDS__MAX_PBO": "1",
    "TRADECREW_RESEARCH__GUARDS__MIN_TRADES": "0",
}


def _env(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    for key, value in {**FAST, **extra}.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()


def test_weights_that_fail_the_guards_are_not_adopted(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch)
    result = cli("automl", "run", "SPX", "--seed", "7", "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["adopted"] is False and outcome["version"] is None
    (c,) = outcome["candidates"]
    assert c["passed"] is False and c["reasons"] and c["trials"] == 3
    assert c["study_name"].startswith("automl-run_") and c["dsr"] is not None
    assert json.loads(cli("components", "list", "--json").stdout)["version"] == 0
    (run,) = json.loads(cli("automl", "history", "--json").stdout)
    assert run["status"] == "succeeded" and run["summary"]["adopted"] is False
    assert run["detail"]["trigger"] == "demand"


def test_weights_that_pass_are_a_version_with_evidence_and_reversible(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, **LAX_GUARDS)
    desk = _open()
    try:
        outcome = automl.run(desk, ["SPX"], actor="cli", channel="cli", seed=3)
        assert outcome.adopted and outcome.version == 1 and outcome.previous == 0
        version = desk.ledger.active_config()
        assert version.kind == "automl" and version.actor == "cli"
        evidence = version.evidence
        for key in ("study_name", "trials", "oos_sharpe", "dsr", "pbo", "trades", "run_id"):
            assert key in evidence
        (c,) = outcome.candidates
        live, number = configs.active_settings(desk.settings, desk.ledger)
        assert number == 1
        assert {k: live.fusion.weights[k] for k in c.weights} == pytest.approx(c.weights)
        assert live.risk == desk.settings.risk
        # The adopted version is watched against the one before it.
        experiment = desk.ledger.running_experiment()
        assert experiment.id == outcome.experiment_id
        assert (experiment.champion, experiment.challenger) == (1, "0")
        change = configs.rollback(desk.ledger, desk.settings, actor="cli", channel="cli")
        assert change.version == 2
        assert configs.active_settings(desk.settings, desk.ledger)[0].fusion == (
            desk.settings.fusion
        )
    finally:
        desk.close()


def _open() -> Desk:
    return Desk.from_settings(Settings())


def test_run_if_due_tunes_after_every_n_closed_trades(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(
        monkeypatch,
        TRADECREW_COMPONENTS__AUTOML__ENABLED="true",
        TRADECREW_COMPONENTS__AUTOML__EVERY_N_TRADES="1",
    )
    desk = _open()
    try:
        assert automl.run_if_due(desk) is None  # no trade closed yet
        for side in ("buy", "sell"):
            made = desk.propose(ProposalRequest(symbol="XAUUSD", side=side, quantity=1))
            assert desk.approve(made.proposal_id, actor="alice", channel="cli").order
        assert automl.closed_trades(desk) == 1
        outcome = automl.run_if_due(desk)
        assert outcome is not None and outcome.trigger == "trades"
        assert outcome.closed_trades == 1
        assert automl.run_if_due(desk) is None  # nothing closed since
        assert [r.detail["trigger"] for r in automl.history(desk)] == ["trades"]
    finally:
        desk.close()


def test_automl_off_never_runs(tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, TRADECREW_COMPONENTS__AUTOML__EVERY_N_TRADES="1")
    desk = _open()
    try:
        assert automl.run_if_due(desk) is None
        assert automl.history(desk) == []
    finally:
        desk.close()


def test_bad_automl_input_is_one_line_and_exit_2(tradecrew_home: Path) -> None:
    result = cli("automl", "run", "NOSUCHSYMBOL", "--trials", "2")
    assert result.exit_code == 2 and result.stderr.startswith("error:")
    assert "Traceback" not in result.output


def test_automl_tunes_only_what_a_version_adopts() -> None:
    """The hybrid's default space also holds component thresholds; AutoML adopts weights and
    the band only, so it tunes only those: the guards then judge what is adopted."""
    from tradecrew.research.automl import adoptable_space
    from tradecrew.research.spaces import default_space

    space = adoptable_space()
    assert set(space) == {k for k in default_space("hybrid") if k.startswith("w_")} | {"threshold"}
    assert "regime_min_confidence" in default_space("hybrid")

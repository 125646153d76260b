"""Tuning: seeded, pruned, judged by the guards, and shared by workers in other processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import optuna
import pandas as pd
import pytest

from tests.cli.invoke import cli
from tests.research.test_walkforward import random_walk
from tradecrew.research.spaces import ParamRange, default_space
from tradecrew.research.studies import resolve_storage
from tradecrew.research.tuning import optimize

ROOT = Path(__file__).resolve().parents[2]
SMALL = {
    "fast": ParamRange(kind="int", low=2, high=10),
    "slow": ParamRange(kind="int", low=12, high=40),
}
# A short stretch of the packaged sample data keeps each trial to a few milliseconds.
DATA = ("XAUUSD", "--from", "2015-01-01", "--to", "2016-12-31", "--train", "200", "--test", "100")


class Coin:
    """Positions from a seeded coin, held five bars: no skill whatever its seed."""

    name = "coin"
    space: ClassVar[dict[str, tuple[int, int]]] = {"seed": (0, 1_000_000)}

    def target(self, bars: pd.DataFrame, params: Mapping[str, Any]) -> pd.Series:
        rng = np.random.default_rng(int(params.get("seed", 0)))
        flips = rng.integers(0, 2, len(bars) // 5 + 1).repeat(5)[: len(bars)]
        return pd.Series(flips.astype(float), index=bars.index)


def test_a_seeded_study_is_reproducible_and_carries_its_guard_report() -> None:
    bars = random_walk(400, seed=2)
    runs = [
        optimize(
            bars, "sma_cross", space=SMALL, n_trials=8, seed=7, train=150, test=50, timeout=None
        )
        for _ in range(2)
    ]
    a, b = runs
    assert a.best_params == b.best_params and a.best_value == b.best_value
    assert a.n_trials == 8 == a.n_complete + a.n_pruned + a.n_failed
    assert a.guard_report.n_trials == 8 and a.storage == "memory"
    assert a.oos.bars == 250 and a.best_returns.index[0] == bars.index[150]


def test_the_best_of_many_noise_strategies_is_not_adopted() -> None:
    result = optimize(
        random_walk(600, seed=5), Coin(), n_trials=30, seed=0, train=200, test=100, timeout=None
    )
    # Chosen on its out-of-sample score among 30, the best coin looks like a strategy...
    assert result.oos.sharpe is not None and result.oos.sharpe > 0.5
    # ...and the guards see through it.
    assert not result.guard_report.passed
    assert any("deflated Sharpe" in r for r in result.guard_report.reasons)
    assert result.n_pruned > 0  # the median pruner stopped trials trailing the others


def test_hybrid_tunes_every_fusion_weight_and_the_threshold() -> None:
    assert set(default_space("hybrid")) == {
        "w_trend",
        "w_momentum",
        "w_volume",
        "w_regime",
        "w_mtf",
        "w_sentiment",
        "threshold",
        # the component thresholds the hybrid's decision reads
        "regime_min_confidence",
        "calendar_minutes_before",
        "calendar_minutes_after",
        "calendar_risk_reduction",
    }
    from tradecrew.research.backtest.data import load

    bars = load("XAUUSD", "D1", "sample", "2016-01-01", "2017-12-31")
    result = optimize(bars, "hybrid", n_trials=2, seed=1, train=250, test=125, timeout=None)
    assert set(result.best_params) == set(default_space("hybrid"))


def test_jobs_run_worker_processes_on_one_study() -> None:
    result = optimize(
        random_walk(400, seed=3),
        "sma_cross",
        space=SMALL,
        n_trials=6,
        seed=1,
        train=150,
        test=50,
        jobs=2,
        timeout=None,
    )
    assert result.n_trials == 6 and result.trials_this_run == result.n_complete
    assert result.storage == "memory"


def _worker(storage: str, home: Path, name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TRADECREW_HOME": str(home)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradecrew",
            "optimize",
            "XAUUSD",
            "--join",
            name,
            "--storage",
            storage,
            "--trials",
            "3",
            "--json",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _two_workers_add_up(storage: str, home: Path) -> None:
    started = cli(
        "optimize",
        *DATA,
        "--trials",
        "3",
        "--seed",
        "1",
        "--study",
        "shared",
        "--storage",
        storage,
        "--json",
    )
    assert started.exit_code == 0, started.output
    workers = [_worker(storage, home, "shared") for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    for w, (out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err
        # Its own three trials finished on top of the first run's three. trials_this_run
        # counts scored trials only: the median pruner may stop all three of a worker's.
        assert json.loads(out)["n_trials"] >= 6
    spec = resolve_storage(storage, home, named=True)
    from tradecrew.research.studies import open_storage

    study = optuna.load_study(study_name="shared", storage=open_storage(spec))
    assert len(study.trials) == 9  # 3 + 3 + 3: one study, every worker's trials in it
    assert study.user_attrs["symbol"] == "XAUUSD" and study.user_attrs["train"] == 200


def test_two_join_workers_share_one_journal_study(tradecrew_home: Path, tmp_path: Path) -> None:
    _two_workers_add_up(f"journal:{tmp_path / 'studies.journal'}", tradecrew_home)
    # The desk's journal (one fsync per trial) is optuna's format: optuna's backend reads it.
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    plain = JournalStorage(JournalFileBackend(str(tmp_path / "studies.journal")))
    study = optuna.load_study(study_name="shared", storage=plain)
    assert len(study.trials) == 9


def test_two_join_workers_share_one_postgresql_study(tradecrew_home: Path) -> None:
    from tests.pgdb import fresh_database

    with fresh_database(migrated=False) as url:
        _two_workers_add_up(url, tradecrew_home)


def test_a_named_study_defaults_to_the_journal_under_home(tradecrew_home: Path) -> None:
    ok = cli("optimize", *DATA, "--trials", "2", "--study", "mine", "--json")
    assert ok.exit_code == 0, ok.output
    journal = tradecrew_home / "optuna-studies.journal"
    assert json.loads(ok.stdout)["storage"] == f"journal:{journal}"
    again = cli("optimize", "XAUUSD", "--join", "mine", "--trials", "1", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["n_trials"] == 3
    other = cli("optimize", "XAUUSD", "--join", "mine", "--strategy", "hybrid")
    assert other.exit_code == 2 and "pins other settings" in other.stderr
    spx = cli("optimize", "SPX", "--join", "mine", "--trials", "1")
    assert spx.exit_code == 2 and "symbol" in spx.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--trials", "0"), "--trials must be at least 1"),
        (("--timeout", "0"), "--timeout must be above 0"),
        (("--study", "a", "--join", "a"), "not both"),
        (("--join", "nowhere"), "no study named 'nowhere'"),
        (("--join", "x", "--storage", "memory"), "--join needs a shared --storage"),
        (("--storage", "mysql://u:secret@h/db"), "unknown --storage"),
        (("--study", "bad name!"), "study name"),
        (("--space", "fast"), "--space"),
        (("--strategy", "buy_hold"), "no default search space"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tradecrew_home: Path, args: tuple[str, ...], message: str
) -> None:
    result = cli("optimize", "XAUUSD", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "secret" not in result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_an_unreachable_database_is_an_outage_and_hides_the_password(
    tradecrew_home: Path,
) -> None:
    result = cli(
        "optimize", "XAUUSD", "--trials", "1", "--storage", "postgresql://u:secret@127.0.0.1:1/db"
    )
    assert result.exit_code == 3, result.output
    assert "did not answer" in result.stderr and "secret" not in result.output

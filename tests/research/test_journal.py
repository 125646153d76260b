"""The desk's journal file: optuna's format and lock, one fsync per trial, shared by processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend, JournalStorage

from tradecrew.research.journal import TrialSyncedJournal, needs_sync

ROOT = Path(__file__).resolve().parents[2]

_WORKER = """
import sys
import optuna
from optuna.storages.journal import JournalStorage
from tradecrew.research.journal import TrialSyncedJournal

optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = JournalStorage(TrialSyncedJournal(sys.argv[1]))
study = optuna.load_study(study_name="s", storage=storage)

def objective(trial):
    x = trial.suggest_float("x", -1, 1)
    trial.report(x, 0)
    return x * x

study.optimize(objective, n_trials=int(sys.argv[2]))
"""


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -1.0, 1.0)
    n = trial.suggest_int("n", 1, 9)
    trial.report(x, 0)
    return x * x + n


def _study(path: Path, backend: type = TrialSyncedJournal) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        study_name="s",
        storage=JournalStorage(backend(str(path))),
        sampler=optuna.samplers.TPESampler(seed=1),
        load_if_exists=True,
    )


def _optuna_reads(path: Path) -> optuna.Study:
    return optuna.load_study(study_name="s", storage=JournalStorage(JournalFileBackend(str(path))))


def _fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counted(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counted)
    return calls


def test_optunas_own_backend_reads_the_file_and_sees_every_trial(tmp_path: Path) -> None:
    path = tmp_path / "j.log"
    study = _study(path)
    study.optimize(_objective, n_trials=8)
    again = _optuna_reads(path)
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
    assert [t.value for t in again.trials] == [t.value for t in study.trials]
    assert [t.intermediate_values for t in again.trials] == [
        t.intermediate_values for t in study.trials
    ]
    assert all(t.state is optuna.trial.TrialState.COMPLETE for t in again.trials)


def test_one_fsync_per_trial_where_optuna_syncs_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = _study(tmp_path / "ours.log")
    theirs = _study(tmp_path / "theirs.log", JournalFileBackend)
    calls = _fsyncs(monkeypatch)
    ours.optimize(_objective, n_trials=10)
    ours_syncs = len(calls)
    calls.clear()
    theirs.optimize(_objective, n_trials=10)
    assert ours_syncs == 10  # the trials' ends: nothing else in a trial waits for the disk
    assert len(calls) >= 5 * 10  # created, running, two params, a report, finished


def test_a_trials_end_and_study_changes_are_synced_its_details_not() -> None:
    done = {"op_code": 6, "state": optuna.trial.TrialState.COMPLETE, "values": [1.0]}
    pruned = {"op_code": 6, "state": optuna.trial.TrialState.PRUNED, "values": None}
    running = {"op_code": 6, "state": optuna.trial.TrialState.RUNNING, "values": None}
    assert needs_sync(done) and needs_sync(pruned) and not needs_sync(running)
    assert needs_sync({"op_code": 0, "study_name": "s"})  # a new study
    assert needs_sync({"op_code": 2, "study_id": 0})  # a study attribute
    assert not any(needs_sync({"op_code": op}) for op in (4, 5, 7, 8, 9))


def test_a_torn_last_line_is_cut_on_open_so_the_study_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "j.log"
    _study(path).optimize(_objective, n_trials=3)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"op_code":4,"worker_id":"x","study_')  # a cut mid-write
    study = _study(path)  # opening repairs it
    repaired = path.read_bytes()
    assert repaired.startswith(whole) and b'"study_\n' not in repaired
    study.optimize(_objective, n_trials=2)
    assert len(_optuna_reads(path).trials) == 5


def test_a_torn_line_left_in_place_breaks_optunas_reader(tmp_path: Path) -> None:
    """Why the repair exists: appending after a torn line makes the file unreadable."""
    path = tmp_path / "j.log"
    _study(path, JournalFileBackend).optimize(_objective, n_trials=1)
    path.write_bytes(path.read_bytes() + b'{"op_code":4,"wor')
    with pytest.raises(ValueError):
        _study(path, JournalFileBackend).optimize(_objective, n_trials=1)


def test_two_processes_append_to_one_file_and_every_trial_is_there(tmp_path: Path) -> None:
    path = tmp_path / "shared.log"
    _study(path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(path), "25"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for w in workers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    study = _optuna_reads(path)
    assert len(study.trials) == 50
    assert sorted(t.number for t in study.trials) == list(range(50))
    assert all(t.state is optuna.trial.TrialState.COMPLETE for t in study.trials)

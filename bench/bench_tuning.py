"""Time the overfitting guards and optuna's overhead per trial on each storage.

Targets: deflated Sharpe ratio plus PBO (CSCV, 16 blocks) for 100 configurations x 2,000
bars in <= 2 s; optuna's overhead per trial <= 15 ms with persistence (the desk's journal
file), beside optuna's own journal file (one fsync per write), in-memory and SQLite, all in
the same run. The desk's journal (``tradecrew.research.journal``) writes optuna's format
under optuna's lock but fsyncs once per trial (its end). The objective is trivial, so what
is timed is the sampler (TPE, seeded, as ``tradecrew optimize`` uses it) and the storage.
Each figure is printed beside floors measured in the same run: importing pandas in a fresh
process, and one fsynced append to a file (optuna's journal syncs every write, about five
per trial; the desk's once).

Run: ``.venv/bin/python bench/bench_tuning.py [trials]`` (``--quick``: fewer trials, < 20 s).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
from _floors import floor_fsynced_append, floor_import_pandas, median_ms
from _quick import QUICK, exit_code, size

from tradecrew.research.guards import check_guards, sharpe_ratio
from tradecrew.research.studies import StorageSpec, open_storage

GUARDS_TARGET_MS = 2000.0
TRIAL_TARGET_MS = 15.0


def guards_ms(runs: int) -> float:
    matrix = np.random.default_rng(0).normal(0.0, 0.01, (2000, 100))
    best = int(np.argmax([sharpe_ratio(matrix[:, j]) for j in range(100)]))
    return median_ms(lambda: check_guards(matrix[:, best], matrix, 500), runs)


class FsyncClock:
    """Counts and times os.fsync while installed: the journal's share of a trial."""

    def __init__(self) -> None:
        self.calls, self.ms, self._real = 0, 0.0, os.fsync

    def __enter__(self) -> FsyncClock:
        def timed(fd: int) -> None:
            t0 = time.perf_counter()
            self._real(fd)
            self.ms += (time.perf_counter() - t0) * 1000
            self.calls += 1

        os.fsync = timed
        return self

    def __exit__(self, *exc: object) -> None:
        os.fsync = self._real


def optuna_journal(path: Path) -> optuna.storages.BaseStorage:
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return JournalStorage(JournalFileBackend(str(path)))


def per_trial_ms(spec: StorageSpec, trials: int, storage: object = None) -> float:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=storage or open_storage(spec),
        sampler=optuna.samplers.TPESampler(seed=1),
        pruner=optuna.pruners.MedianPruner(),
        direction="maximize",
        study_name=f"bench-{spec.kind}",
    )

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)
        n = trial.suggest_int("n", 2, 200)
        trial.report(-x * x, 0)  # one intermediate value, as a pruned walk-forward reports
        return -x * x + n * 1e-6

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return (time.perf_counter() - t0) * 1000 / trials


def main() -> int:
    started = time.perf_counter()
    trials = size(200, 40)
    pandas_ms = floor_import_pandas()
    guard_ms = guards_ms(1 if QUICK else 5)
    with tempfile.TemporaryDirectory(prefix="tradecrew-bench-tuning-") as tmp:
        folder = Path(tmp)
        fsync_ms = floor_fsynced_append(folder)
        memory = per_trial_ms(StorageSpec(kind="memory", url="memory", shown="memory"), trials)
        with FsyncClock() as own_clock:
            own = per_trial_ms(
                StorageSpec(kind="journal", url="optuna", shown="optuna journal"),
                trials,
                optuna_journal(folder / "optuna.log"),
            )
        with FsyncClock() as clock:
            journal = per_trial_ms(
                StorageSpec(kind="journal", url=str(folder / "j.log"), shown="journal"), trials
            )
        url = f"sqlite:///{folder / 's.db'}"
        sqlite = per_trial_ms(StorageSpec(kind="sqlite", url=url, shown=url), trials)
    load = os.getloadavg()[0]
    print(f"tuning{' (quick)' if QUICK else ''}, load {load:.2f}, {trials} trials per storage")
    print("  floors")
    print(f"    importing pandas (fresh process)             {pandas_ms:9.1f} ms")
    print(f"    one fsynced append to a file                 {fsync_ms:9.2f} ms")
    print("  figures")
    print(
        f"    DSR + PBO, 100 configs x 2,000 bars          {guard_ms:9.1f} ms  "
        f"(target <= {GUARDS_TARGET_MS:.0f}; {guard_ms / pandas_ms:.2f}x the floor)"
    )
    print(f"    optuna per trial, in memory                  {memory:9.2f} ms")
    print(
        f"    optuna per trial, optuna's journal file      {own:9.2f} ms  "
        f"({own / fsync_ms:.1f}x the fsync floor)"
    )
    print(
        f"      of which fsync ({own_clock.calls / trials:.1f} per trial, "
        f"{own_clock.ms / max(own_clock.calls, 1):.2f} ms each)   {own_clock.ms / trials:9.2f} ms"
    )
    print(
        f"    optuna per trial, the desk's journal file    {journal:9.2f} ms  "
        f"(target <= {TRIAL_TARGET_MS:.0f}; {journal / fsync_ms:.1f}x the fsync floor; "
        f"{journal / own:.2f}x optuna's journal; {journal - memory:+.2f} ms over memory)"
    )
    print(
        f"      of which fsync ({clock.calls / trials:.1f} per trial, "
        f"{clock.ms / max(clock.calls, 1):.2f} ms each)   {clock.ms / trials:9.2f} ms"
    )
    print(
        f"    optuna per trial, SQLite                     {sqlite:9.2f} ms  "
        f"({sqlite / journal:.1f}x the journal)"
    )
    print(f"  run took {time.perf_counter() - started:.1f} s")
    return exit_code(guard_ms <= GUARDS_TARGET_MS and journal <= TRIAL_TARGET_MS)


if __name__ == "__main__":
    raise SystemExit(main())

"""Research over many symbols on every core: one process per symbol at a time.

Each worker loads its own bars (so reading data is parallel too) and runs a sweep or a
walk-forward; results come back in the order the symbols were given. Across machines the
shared optuna study is the engine (``tradecrew optimize --join``), not this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from tradecrew.research.spaces import ParamValue

__all__ = ["default_jobs", "portable", "sweep_many", "walk_forward_many"]


def default_jobs(tasks: int) -> int:
    """Every core the process may use, but never more workers than tasks."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, tasks))


def portable(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` in a worker process, its error turned into one the parent can unpickle
    (an exception whose ``__init__`` takes other arguments than its message cannot be), of
    the same kind: an outage stays an outage, bad input stays bad input."""
    from tradecrew.errors import Unavailable

    try:
        return fn(*args)
    except Unavailable as exc:
        raise Unavailable(str(exc)) from None
    except (ValueError, LookupError) as exc:
        raise ValueError(str(exc)) from None
    except Exception as exc:
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from None


def _load(symbol: str, data: Mapping[str, Any]) -> Any:
    from tradecrew.research.backtest.data import load

    return load(
        symbol, data.get("timeframe", "D1"), data.get("source"), data.get("start"), data.get("end")
    )


def _walk_one(
    symbol: str, data: Mapping[str, Any], strategy: Any, params: Any, options: Mapping[str, Any]
) -> Any:
    from tradecrew.research.walkforward import walk_forward

    return walk_forward(_load(symbol, data), strategy, params, **options)


def _sweep_one(
    symbol: str, data: Mapping[str, Any], strategy: Any, grid: Sequence[Mapping[str, ParamValue]]
) -> list[Any]:
    from tradecrew.research.backtest import sweep

    return sweep(_load(symbol, data), strategy, grid)


def _map(fn: Any, symbols: Sequence[str], jobs: int | None, *rest: Any) -> list[Any]:
    workers = default_jobs(len(symbols)) if jobs is None else max(1, min(jobs, len(symbols)))
    if workers == 1:
        return [fn(s, *rest) for s in symbols]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(portable, fn, s, *rest) for s in symbols]
        return [f.result() for f in futures]


def walk_forward_many(
    symbols: Sequence[str],
    strategy: Any = "sma_cross",
    params: Any = None,
    *,
    data: Mapping[str, Any] | None = None,
    jobs: int | None = None,
    **options: Any,
) -> list[Any]:
    """``walk_forward`` of each symbol (bars from ``data``: timeframe, source, start, end),
    ``jobs`` processes (default: every core)."""
    return _map(_walk_one, symbols, jobs, dict(data or {}), strategy, params, options)


def sweep_many(
    symbols: Sequence[str],
    strategy: Any,
    grid: Sequence[Mapping[str, ParamValue]],
    *,
    data: Mapping[str, Any] | None = None,
    jobs: int | None = None,
) -> list[list[Any]]:
    """The backtest's ``sweep`` of ``grid`` on each symbol, ``jobs`` processes."""
    return _map(_sweep_one, symbols, jobs, dict(data or {}), strategy, list(grid))

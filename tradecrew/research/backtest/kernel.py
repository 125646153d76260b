"""The vectorised kernel: a target position per bar in, fills at the next bar's open, equity
and trades out.

Promises: the order decided at bar ``i``'s close fills at bar ``i+1``'s open (nothing of bar
``i+1`` or later decides it); a target of 1 from flat buys ``equity / (fill * (1 +
commission))`` units; a position open after the last bar is closed at the last close and
counted. Long-only all-in/all-out targets take a loop-free path; any other target walks only
the bars where the target changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradecrew.research.backtest.costs import Costs

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Fills:
    """What a run did, as arrays: per-bar units and equity, and one row per trade."""

    units: Floats  # position held at each bar's close
    equity: Floats  # equity at each bar's close (the last bar after the final close)
    entry_index: Ints
    exit_index: Ints
    side: npt.NDArray[np.int8]  # +1 long, -1 short
    quantity: Floats
    entry_price: Floats
    exit_price: Floats
    pnl: Floats
    traded_notional: float


def clean_target(target: npt.ArrayLike, n: int) -> Floats:
    """The target as floats in [-1, 1]; NaN means flat. A wrong length is a ValueError."""
    arr = np.asarray(target, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"the target must hold one value per bar ({n}), got shape {arr.shape}")
    arr = np.nan_to_num(arr, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(arr, -1.0, 1.0)


def simulate(
    open_: Floats, close: Floats, target: Floats, costs: Costs, initial_equity: float
) -> Fills:
    """Run ``target`` (already clean) over the bars with ``costs``."""
    n = len(close)
    # The position after bar j's open follows the target decided at bar j-1's close.
    held = np.empty(n)
    held[0] = 0.0
    held[1:] = target[:-1]
    if np.all((held == 0.0) | (held == 1.0)):
        return _binary(open_, close, held, costs, initial_equity)
    return _general(open_, close, held, costs, initial_equity)


def _binary(open_: Floats, close: Floats, held: Floats, costs: Costs, e0: float) -> Fills:
    """All-in long or flat: each trade multiplies equity by a factor known in closed form."""
    n = len(close)
    c = costs.commission
    step = np.diff(held, prepend=0.0)
    entries = np.flatnonzero(step > 0)
    exits = np.flatnonzero(step < 0)
    k = len(entries)
    open_at_end = len(exits) < k
    exit_idx = np.append(exits, n - 1) if open_at_end else exits
    buy = costs.buy_price(open_[entries])
    raw_exit = open_[exit_idx].copy()
    if open_at_end:
        raw_exit[-1] = close[-1]
    sell = costs.sell_price(raw_exit)
    factor = sell * (1.0 - c) / (buy * (1.0 + c))
    growth = np.cumprod(factor)
    before = e0 * np.concatenate(([1.0], growth[:-1])) if k else np.empty(0)
    after = e0 * growth
    units = before / (buy * (1.0 + c))
    pnl = after - before

    # Per bar: which trade was entered last, and whether it is still held at the close.
    # Per bar, the number of the last trade entered at or before it (-1 before the first).
    last = np.cumsum(step > 0) - 1
    holding = held > 0
    unit_bar = np.where(holding, units[np.maximum(last, 0)] if k else 0.0, 0.0)
    cash_flat = np.where(last >= 0, after[np.maximum(last, 0)] if k else e0, e0)
    # A bar whose open exits trade ``last`` is flat at its close; cash is that trade's after.
    equity = np.where(holding, unit_bar * close, cash_flat)
    if open_at_end:
        equity[-1] = after[-1]
        unit_bar = unit_bar.copy()
        unit_bar[-1] = 0.0
    traded = float(np.sum(units * buy) + np.sum(units * sell))
    return Fills(
        units=unit_bar,
        equity=equity,
        entry_index=entries.astype(np.int64),
        exit_index=exit_idx.astype(np.int64),
        side=np.ones(k, dtype=np.int8),
        quantity=units,
        entry_price=buy,
        exit_price=sell,
        pnl=pnl,
        traded_notional=traded,
    )


class _Book:
    """Cash, units and the trade being built, for the general path."""

    def __init__(self, e0: float, commission: float) -> None:
        self.cash, self.units, self.c = e0, 0.0, commission
        self.rows: list[tuple[int, int, int, float, float, float, float]] = []
        self.open_at = -1
        self.add_q = self.add_n = self.red_q = self.red_n = self.flow = 0.0
        self.traded = 0.0

    def fills(self, units: npt.NDArray[np.float64], equity: npt.NDArray[np.float64]) -> Fills:
        """The run's result: units and equity per bar, and the round trips booked."""
        rows = np.array(self.rows, dtype=np.float64).reshape(-1, 7)
        return Fills(
            units=units,
            equity=equity,
            entry_index=rows[:, 0].astype(np.int64),
            exit_index=rows[:, 1].astype(np.int64),
            side=rows[:, 2].astype(np.int8),
            quantity=rows[:, 3],
            entry_price=rows[:, 4],
            exit_price=rows[:, 5],
            pnl=rows[:, 6],
            traded_notional=self.traded,
        )

    def fill(self, i: int, delta: float, price: float) -> None:
        """Trade ``delta`` units at ``price``; a flip closes one trade and opens the next."""
        if delta == 0.0:
            return
        if self.units != 0.0 and np.sign(self.units + delta) != np.sign(self.units):
            closing = -self.units
            self._apply(i, closing, price)
            delta -= closing
            if delta == 0.0:
                return
        self._apply(i, delta, price)

    def _apply(self, i: int, delta: float, price: float) -> None:
        fee = self.c * abs(delta) * price
        self.cash -= delta * price + fee
        self.traded += abs(delta) * price
        if self.units == 0.0:
            self.open_at, self.add_q, self.add_n = i, 0.0, 0.0
            self.red_q = self.red_n = self.flow = 0.0
        growing = self.units == 0.0 or np.sign(delta) == np.sign(self.units)
        if growing:
            self.add_q += abs(delta)
            self.add_n += abs(delta) * price
        else:
            self.red_q += abs(delta)
            self.red_n += abs(delta) * price
        self.flow += -delta * price - fee
        side = np.sign(self.units) if self.units else np.sign(delta)
        self.units += delta
        if abs(self.units) <= 1e-12 * max(1.0, self.add_q):
            self.units = 0.0
            self.rows.append(
                (
                    self.open_at,
                    i,
                    int(side),
                    self.add_q,
                    self.add_n / self.add_q,
                    self.red_n / self.red_q,
                    self.flow,
                )
            )


def _general(open_: Floats, close: Floats, held: Floats, costs: Costs, e0: float) -> Fills:
    """Any target in [-1, 1]: rebalance to ``target * equity`` at each change of target."""
    n = len(close)
    c = costs.commission
    changes = np.flatnonzero(np.diff(held, prepend=0.0) != 0.0)
    book = _Book(e0, c)
    units_after = np.empty(len(changes))
    cash_after = np.empty(len(changes))
    for j, i in enumerate(changes.tolist()):
        p = float(open_[i])
        t = float(held[i])
        equity_now = book.cash + book.units * p
        want = 0.0
        if t != 0.0:
            up = t * equity_now > book.units * p
            fill = float(costs.buy_price(p) if up else costs.sell_price(p))
            want = t * equity_now / (fill * (1.0 + c))
        delta = want - book.units
        fill = float(costs.buy_price(p) if delta > 0 else costs.sell_price(p))
        book.fill(i, delta, fill)
        units_after[j], cash_after[j] = book.units, book.cash
    marks = np.zeros(n, dtype=np.int64)
    marks[changes] = 1
    last = np.cumsum(marks) - 1
    has = last >= 0
    safe = np.maximum(last, 0)
    unit_bar = np.where(has, units_after[safe] if len(changes) else 0.0, 0.0)
    cash_bar = np.where(has, cash_after[safe] if len(changes) else e0, e0)
    equity = cash_bar + unit_bar * close
    if book.units != 0.0:
        p = float(close[-1])
        fill = float(costs.sell_price(p) if book.units > 0 else costs.buy_price(p))
        book.fill(n - 1, -book.units, fill)
        equity[-1] = book.cash
        unit_bar = unit_bar.copy()
        unit_bar[-1] = 0.0
    return book.fills(unit_bar, equity)

"""Stop-loss and take-profit legs for the replay, worked by the paper venue's own bracket
rules (``bracket_legs``, ``resolve_legs``, ``match``, ``fill_price``).

Levels are fractions of the reference price the risk engine saw: a long with
``stop_loss=0.02`` gets a stop 2 % below it. On the entry's bar only the stop may fire;
when one bar touches both legs the venue decides (the stop, pessimistically, unless the bar
opened through one of them).
"""

from __future__ import annotations

from tradecrew.brokers.paper_brackets import PESSIMISTIC, bracket_legs, resolve_legs
from tradecrew.brokers.paper_crossing import fill_price
from tradecrew.brokers.paper_matching import Tape, match
from tradecrew.brokers.paper_working import Working
from tradecrew.models import Bar, OrderType, Side


class Brackets:
    """The live legs protecting the replayed position, and what they did."""

    def __init__(self, stop_loss: float | None, take_profit: float | None, bps: float) -> None:
        for name, value in (("stop_loss", stop_loss), ("take_profit", take_profit)):
            if value is not None and not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be a fraction of price within (0, 1), got {value}")
        self.stop_loss, self.take_profit, self.bps = stop_loss, take_profit, bps
        self.live: dict[str, Working] = {}
        self.seq = 0
        self.exits: dict[str, int] = {}
        self.pessimistic = 0

    @property
    def enabled(self) -> bool:
        return self.stop_loss is not None or self.take_profit is not None

    def levels(self, side: Side, price: float) -> tuple[float | None, float | None]:
        """(stop-loss, take-profit) prices for an entry on ``side`` near ``price``."""
        sl = price * (1.0 - side.sign * self.stop_loss) if self.stop_loss else None
        tp = price * (1.0 + side.sign * self.take_profit) if self.take_profit else None
        return sl, tp

    def open(self, index: int, side: Side, levels: tuple[float | None, float | None]) -> None:
        """Replace the legs with new ones for an entry filled on bar ``index``."""
        self.live.clear()
        sl, tp = levels
        if sl is None and tp is None:
            return
        entry = Working(
            key=f"entry{index}",
            seq=self.seq,
            side=side,
            order_type=OrderType.MARKET,
            remaining=0,
            filled=1,
            stop_loss=sl,
            take_profit=tp,
        )
        for leg in bracket_legs(entry, index, self.seq + 1):
            self.live[leg.key] = leg
        self.seq += 3

    def cancel(self) -> None:
        self.live.clear()

    def trade(self, index: int, bar: Bar) -> tuple[float, Side] | None:
        """The exit price and side when a leg trades on this bar (and every leg is gone)."""
        if not self.live:
            return None
        tape = Tape.from_bar(bar)
        for leg in sorted(self.live.values(), key=lambda w: w.seq):
            if leg.start > index:
                continue
            hit = match(
                leg.order_type, leg.side, leg.limit_price, leg.stop_price, leg.triggered, tape
            )
            if hit.price is None:
                continue
            chosen, note = resolve_legs(leg, self.live, tape, index)
            if chosen is not leg:
                hit = match(
                    chosen.order_type,
                    chosen.side,
                    chosen.limit_price,
                    chosen.stop_price,
                    chosen.triggered,
                    tape,
                )
            assert hit.price is not None
            self.pessimistic += note == PESSIMISTIC
            self.exits[chosen.leg] = self.exits.get(chosen.leg, 0) + 1
            self.live.clear()
            return fill_price(
                hit.price, hit.aggressive, chosen.side, tape, True, self.bps
            ), chosen.side
        return None

    def notes(self) -> list[str]:
        if not self.exits:
            return []
        done = ", ".join(f"{k.replace('_', '-')} {v}" for k, v in sorted(self.exits.items()))
        out = [f"bracket exits: {done}"]
        if self.pessimistic:
            out.append(f"{self.pessimistic} bar(s) touched both legs: {PESSIMISTIC}")
        return out

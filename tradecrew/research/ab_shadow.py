"""Shadow observations for champion/challenger: both arms analyse the same bars, cut at
each bar (causal), and each arm's hypothetical position and its return over the next bar are
recorded. No order is involved."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tradecrew.ledger import ABExperiment, ABObservation
from tradecrew.models import Direction, Signal, Timeframe
from tradecrew.research import configs

if TYPE_CHECKING:
    import pandas as pd

    from tradecrew.config import Settings
    from tradecrew.desk import Desk

TRADITIONAL = "traditional"
#: Bars analysed per shadow signal (the regime needs 280), and bars caught up per check.
WINDOW = 400
CATCH_UP = 250

#: The traditional desk: the indicators' votes alone.
TRADITIONAL_CONTENT = configs.ConfigContent(
    enabled={
        "regime": False,
        "sentiment": False,
        "mtf": False,
        "correlation": False,
        "session": False,
    }
)


def _challenger_content(desk: Desk, challenger: str) -> configs.ConfigContent:
    if challenger == TRADITIONAL:
        return TRADITIONAL_CONTENT
    number = int(challenger)
    if number == 0:
        return configs.ConfigContent()
    return configs.content_of(desk.ledger.config_version(number))


def _position(signal: Signal) -> float:
    if signal.vetoes or signal.direction is Direction.FLAT:
        return 0.0
    return 1.0 if signal.direction is Direction.LONG else -1.0


def _since(experiment: ABExperiment) -> datetime:
    return datetime.fromisoformat(str(experiment.outcome.get("since") or experiment.started_at))


def observe(desk: Desk, experiment: ABExperiment) -> int:
    """Record the bars closed since the last observation (at most CATCH_UP per symbol):
    both arms analyse the same bars, cut at each bar (causal). How many were recorded."""
    from tradecrew.tools.analysis import analyze_frames
    from tradecrew.tools.catalog import load_bars

    tf = Timeframe.parse(experiment.timeframe)
    champion = configs.effective_settings(
        desk.settings, _challenger_content(desk, str(experiment.champion))
    )
    challenger = configs.effective_settings(
        desk.settings, _challenger_content(desk, experiment.challenger)
    )
    seen, _ = desk.ledger.observations(experiment.id)
    last: dict[str, ABObservation] = {}
    for obs in seen:
        last[obs.symbol] = obs
    since = _since(experiment)
    cost = desk.settings.components.ab.cost
    made: list[ABObservation] = []
    for symbol in experiment.symbols:
        bars = load_bars(
            symbol, tf, desk.source or desk.settings.data_source, None, WINDOW + CATCH_UP + 1
        )
        made += _observe_symbol(
            experiment,
            symbol,
            bars,
            tf,
            (champion, challenger),
            last.get(symbol),
            since,
            cost,
            analyze_frames,
        )
    return desk.ledger.record_observations(made)


def _observe_symbol(
    experiment: ABExperiment,
    symbol: str,
    bars: pd.DataFrame,
    tf: Timeframe,
    arms: tuple[Settings, Settings],
    previous: ABObservation | None,
    since: datetime,
    cost: float,
    analyze: Any,
) -> list[ABObservation]:
    closes = bars["close"].to_numpy(dtype=float)
    opened = [ts.to_pydatetime() for ts in bars.index]
    out: list[ABObservation] = []
    prev_pos = (
        (previous.champion_position, previous.challenger_position) if previous else (0.0, 0.0)
    )
    for i in range(len(bars) - 1):
        close_time = opened[i] + timedelta(minutes=tf.minutes)
        if close_time < since or (previous is not None and opened[i] <= previous.bar_time):
            continue
        if len(out) >= CATCH_UP:
            break
        window = bars.iloc[max(0, i + 1 - WINDOW) : i + 1]
        signals = [analyze(symbol, window, timeframe=tf, settings=s).signal for s in arms]
        positions = [_position(s) for s in signals]
        market = closes[i + 1] / closes[i] - 1.0
        returns = [
            pos * market - cost * abs(pos - before)
            for pos, before in zip(positions, prev_pos, strict=True)
        ]
        out.append(
            ABObservation(
                experiment_id=experiment.id,
                symbol=symbol,
                bar_time=opened[i],
                champion_position=positions[0],
                challenger_position=positions[1],
                champion_return=returns[0],
                challenger_return=returns[1],
                attribution={
                    c.name: c.contribution * market for c in signals[0].components if c.weight
                },
            )
        )
        prev_pos = (positions[0], positions[1])
    return out

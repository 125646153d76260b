"""The desk's decision from tools alone: fused signal, ATR stop, risk-based size, a report.

This is deterministic mode, the fallback when an LLM fails, and the cap on anything an LLM
proposes: a crew may shrink or refuse this plan, never enlarge it.
"""

from __future__ import annotations

import math

from tradecrew.agents.schemas import DeskDecision
from tradecrew.config import Settings
from tradecrew.data.calendar_events import SYNTHETIC_LABEL
from tradecrew.instruments import Instrument, find_instrument
from tradecrew.models import Direction, Verdict
from tradecrew.risk import FxUnavailable, fx_rate, suggest_quantity
from tradecrew.risk.sizing import round_down
from tradecrew.tools.analysis import AnalysisReport

ACCOUNT_CURRENCY = "USD"
TARGET_R_MULTIPLE = 2.0  # take profit at twice the stop distance


def price_decimals(instrument: Instrument | None, price: float) -> int:
    """Decimals to show a price with: the tick's, else enough for 5 significant digits."""
    tick = instrument.tick_size if instrument else 0.0
    if tick > 0:
        return max(0, -math.floor(math.log10(tick) + 1e-9))
    return max(0, 4 - math.floor(math.log10(abs(price)))) if price else 2


def quote_to_account(instrument: Instrument | None) -> float:
    """Account-currency value of one unit of the instrument's quote currency."""
    if instrument is None or instrument.quote_currency == ACCOUNT_CURRENCY:
        return 1.0
    try:
        return fx_rate(instrument.quote_currency, ACCOUNT_CURRENCY, {}).value
    except FxUnavailable:
        return 1.0


def bracket(
    direction: Direction, price: float, atr: float, settings: Settings, decimals: int
) -> tuple[float | None, float | None]:
    """Stop ``atr_stop_multiple`` ATRs away, target twice as far, on the trade's sides."""
    if direction is Direction.FLAT or not (math.isfinite(atr) and atr > 0):
        return None, None
    distance = settings.risk.atr_stop_multiple * atr
    sign = 1.0 if direction is Direction.LONG else -1.0
    stop = round(price - sign * distance, decimals)
    target = round(price + sign * TARGET_R_MULTIPLE * distance, decimals)
    return (stop, target) if stop > 0 and target > 0 else (None, None)


def deterministic_decision(
    analysis: AnalysisReport, *, equity: float, settings: Settings
) -> DeskDecision:
    """The decision the tools justify: direction from the fused signal, size from risk."""
    signal = analysis.signal
    price = analysis.last_price
    atr = analysis.indicators.atr
    instrument = find_instrument(analysis.symbol)
    decimals = price_decimals(instrument, price)
    why_flat: list[str] = []
    verdict = Verdict.APPROVE
    if signal.direction is Direction.FLAT:
        why_flat.append(f"fused score {signal.score:+.2f} is inside the neutral band")
    if signal.confidence < settings.risk.min_signal_confidence:
        why_flat.append(
            f"confidence {signal.confidence:.2f} below the minimum "
            f"{settings.risk.min_signal_confidence:.2f}"
        )
    if signal.vetoes:
        why_flat.append("vetoed: " + "; ".join(signal.vetoes))
        verdict = Verdict.VETO
    direction = Direction.FLAT if why_flat else signal.direction
    stop, target = bracket(direction, price, atr, settings, decimals)
    quantity = 0.0
    if direction is not Direction.FLAT and stop is None:
        why_flat.append(f"no usable ATR ({atr!r}) to place a stop")
    elif direction is not Direction.FLAT:
        quantity = suggest_quantity(
            equity,
            price,
            atr=atr,
            limits=settings.risk,
            instrument=instrument,
            quote_to_account=quote_to_account(instrument),
        )
        if signal.risk_reduction < 1.0:
            step = instrument.quantity_step if instrument else 1e-9
            quantity = round_down(quantity * signal.risk_reduction, step)
            verdict = Verdict.SHRINK
        if quantity <= 0:
            why_flat.append("risk sizing leaves less than the instrument's minimum quantity")
    if why_flat:
        direction, quantity, stop, target = Direction.FLAT, 0.0, None, None
    rationale = _rationale(analysis, direction, quantity, stop, target, why_flat, decimals)
    return DeskDecision(
        symbol=analysis.symbol,
        timestamp=analysis.timestamp,
        direction=direction,
        quantity=quantity,
        entry_price=price,
        stop_loss=stop,
        take_profit=target,
        rationale=rationale,
        confidence=signal.confidence,
        risk_verdict=verdict,
        mode="deterministic",
        notes=list(analysis.notes),
    )


def _rationale(
    analysis: AnalysisReport,
    direction: Direction,
    quantity: float,
    stop: float | None,
    target: float | None,
    why_flat: list[str],
    decimals: int,
) -> str:
    signal = analysis.signal
    votes = ", ".join(f"{c.name} {c.score:+.2f}" for c in signal.components) or "no votes"
    head = f"fused score {signal.score:+.2f} (confidence {signal.confidence:.2f}) from {votes}"
    if direction is Direction.FLAT:
        return f"flat: {'; '.join(why_flat) or 'no edge'}; {head}"
    atr = analysis.indicators.atr
    return (
        f"{direction.value} {quantity:g} at {analysis.last_price:.{decimals}f}, "
        f"stop {stop:.{decimals}f}, target {target:.{decimals}f} "
        f"(ATR {atr:.{decimals}f}); {head}"
    )


def render_report(decision: DeskDecision, analysis: AnalysisReport) -> str:
    """The templated text report of deterministic mode."""
    ind = analysis.indicators
    lines = [
        f"{analysis.symbol} {analysis.timeframe} at {analysis.timestamp:%Y-%m-%d %H:%M} UTC"
        f" (source {analysis.source}{', synthetic data' if analysis.synthetic else ''})",
        f"Decision: {decision.direction.value.upper()} {decision.quantity:g}"
        f" [{decision.risk_verdict}] confidence {decision.confidence:.2f}",
        f"Why: {decision.rationale}",
        f"Indicators: {ind.summary}" if getattr(ind, "summary", "") else "",
    ]
    if analysis.regime is not None:
        lines.append(
            f"Regime: {analysis.regime.regime.value} (confidence {analysis.regime.confidence:.2f})"
        )
    if analysis.sentiment is not None:
        s = analysis.sentiment
        lines.append(f"News: {s.n} headlines, mean score {s.mean_score:+.2f}")
    if analysis.blackout is not None and analysis.blackout.in_blackout:
        b = analysis.blackout
        source = f" ({SYNTHETIC_LABEL})" if b.synthetic else f" ({b.source})" if b.source else ""
        lines.append(f"Calendar: inside an economic-event blackout{source}")
    lines.extend(f"Note: {note}" for note in decision.notes)
    return "\n".join(line for line in lines if line)

"""Report charts as PNG bytes, drawn from tool outputs only (bars, indicator and regime frames).

Matplotlib (the ``research`` extra) is imported inside the functions, with the Agg canvas and
no pyplot, so importing tradecrew never pays for it and no display is ever needed.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

REGIME_COLOURS: dict[str, str] = {
    "trending_bull": "#2e7d32",
    "trending_bear": "#c62828",
    "ranging": "#1565c0",
    "volatile": "#ef6c00",
    "unknown": "#9e9e9e",
}
_WIDTH = 11.0
_DPI = 100
_LINE = "#263238"


def _figure(height: float, rows: int, ratios: list[float]) -> tuple[Any, list[Any]]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("charts need matplotlib: pip install 'tradecrew[research]'") from exc

    fig = Figure(figsize=(_WIDTH, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=True, height_ratios=ratios, squeeze=False)[:, 0]
    for ax in axes:
        ax.grid(True, color="#e0e0e0", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(labelsize=8)
    return fig, list(axes)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def _x(index: pd.Index) -> np.ndarray:
    # Naive datetimes for matplotlib's date axis; every timestamp here is UTC.
    return pd.DatetimeIndex(index).tz_convert("UTC").tz_localize(None).to_numpy()


def price_chart(bars: pd.DataFrame, ind: pd.DataFrame, title: str) -> bytes:
    """Close with Bollinger bands and their middle line, and volume bars below."""
    fig, (ax, vol) = _figure(5.2, 2, [3.0, 1.0])
    x = _x(bars.index)
    ax.fill_between(
        x,
        ind["bb_lower"],
        ind["bb_upper"],
        color="#90caf9",
        alpha=0.35,
        linewidth=0,
        label="Bollinger band (20, 2)",
    )
    ax.plot(x, ind["bb_middle"], color="#1e88e5", linewidth=0.9, label="middle (SMA 20)")
    ax.plot(x, bars["close"], color=_LINE, linewidth=1.2, label="close")
    ax.set_title(title, fontsize=11, loc="left")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    volume = bars["volume"].to_numpy()
    up = (bars["close"] >= bars["open"]).to_numpy()
    width = _bar_width(x)
    vol.bar(x[up], volume[up], width=width, color="#66bb6a", linewidth=0)
    vol.bar(x[~up], volume[~up], width=width, color="#ef5350", linewidth=0)
    vol.set_ylabel("volume", fontsize=8)
    from matplotlib.ticker import EngFormatter

    vol.yaxis.set_major_formatter(EngFormatter())
    if not np.any(volume > 0):
        vol.text(
            0.5,
            0.5,
            "no volume reported",
            transform=vol.transAxes,
            ha="center",
            fontsize=9,
            color="#757575",
        )
    return _png(fig)


def indicator_chart(
    bars: pd.DataFrame, ind: pd.DataFrame, overbought: float = 70.0, oversold: float = 30.0
) -> bytes:
    """RSI with its overbought/oversold lines, and MACD with signal line and histogram."""
    fig, (rsi, macd) = _figure(4.2, 2, [1.0, 1.0])
    x = _x(bars.index)
    rsi.plot(x, ind["rsi"], color="#6a1b9a", linewidth=1.0)
    rsi.axhline(overbought, color="#c62828", linewidth=0.8, linestyle="--")
    rsi.axhline(oversold, color="#2e7d32", linewidth=0.8, linestyle="--")
    rsi.set_ylim(0, 100)
    rsi.set_ylabel("RSI (14)", fontsize=8)
    hist = ind["macd_hist"].to_numpy()
    colours = np.where(hist >= 0, "#66bb6a", "#ef5350")
    macd.bar(x, np.nan_to_num(hist), width=_bar_width(x), color=colours, linewidth=0)
    macd.plot(x, ind["macd"], color="#1e88e5", linewidth=1.0, label="MACD (12, 26)")
    macd.plot(x, ind["macd_signal"], color="#ef6c00", linewidth=1.0, label="signal (9)")
    macd.axhline(0.0, color="#9e9e9e", linewidth=0.6)
    macd.set_ylabel("MACD", fontsize=8)
    macd.legend(loc="upper left", fontsize=8, frameon=False)
    return _png(fig)


def regime_chart(bars: pd.DataFrame, regimes: pd.DataFrame) -> bytes:
    """Close over shaded spans, one colour per regime label (grey while warming up)."""
    fig, (ax, conf) = _figure(4.4, 2, [3.0, 1.0])
    x = _x(bars.index)
    labels = regimes["regime"].astype(str).to_numpy()
    close = bars["close"].to_numpy()
    low, high = float(np.nanmin(close)), float(np.nanmax(close))
    pad = (high - low) * 0.05 or 1.0
    for start, stop, label in _runs(labels):
        end = x[stop] if stop < len(x) else x[-1]
        ax.axvspan(
            x[start], end, color=REGIME_COLOURS.get(label, "#bdbdbd"), alpha=0.18, linewidth=0
        )
    ax.plot(x, close, color=_LINE, linewidth=1.1)
    ax.set_ylim(low - pad, high + pad)
    seen = [r for r in REGIME_COLOURS if r in set(labels)]
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(color=REGIME_COLOURS[r], alpha=0.35, label=r.replace("_", " ")) for r in seen
        ],
        loc="upper left",
        fontsize=8,
        frameon=False,
        ncol=len(seen) or 1,
    )
    conf.plot(x, regimes["confidence"], color="#455a64", linewidth=0.9)
    conf.set_ylim(0, 1)
    conf.set_ylabel("confidence", fontsize=8)
    return _png(fig)


def _runs(labels: np.ndarray) -> list[tuple[int, int, str]]:
    """(start, stop, label) of each run of equal labels; stop is exclusive."""
    if len(labels) == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(labels)]])
    return [(int(a), int(b), str(labels[a])) for a, b in zip(starts, stops, strict=True)]


def _bar_width(x: np.ndarray) -> float:
    # Bars as wide as 80% of the typical spacing (in days, matplotlib's date unit).
    if len(x) < 2:
        return 0.8
    step = np.median(np.diff(x).astype("timedelta64[s]").astype(np.float64)) / 86400.0
    return float(step) * 0.8

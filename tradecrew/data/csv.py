"""``CsvProvider``: bars from OHLCV files on disk (a file, or a folder of them).

The symbol comes from the file name (``XAUUSD_D1_mt5.csv`` is XAUUSD) unless given, the
native timeframe from the bars' median spacing. Coarser timeframes are resampled; finer
ones cannot be invented and are refused. A file has no order book and no tape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tradecrew.data.base import (
    DataError,
    DataNotAvailable,
    TimeLike,
    UnknownSymbolError,
    filter_range,
    parse_timeframe,
    quote_from_bars,
)
from tradecrew.data.csv_read import PARQUET_SUFFIXES, TEXT_SUFFIXES, read_bars_file
from tradecrew.data.resample import infer_timeframe, resample_bars
from tradecrew.instruments import normalize_symbol
from tradecrew.models import OrderBookSnapshot, Quote, Timeframe, TradePrint


def symbol_from_filename(path: str | Path) -> str:
    """``XAUUSD_D1_mt5.csv`` -> ``XAUUSD``; ``gold.csv`` -> ``XAUUSD`` (aliases apply)."""
    stem = Path(path).stem
    token = next((t for t in re.split(r"[_\-\s.]+", stem) if t), stem)
    return normalize_symbol(token)


def _timeframe_hint(path: Path) -> Timeframe | None:
    for token in re.split(r"[_\-\s.]+", path.stem)[1:]:
        try:
            return Timeframe.parse(token)
        except ValueError:
            continue
    return None


@dataclass
class _Loaded:
    stamp: tuple[int, int]
    bars: pd.DataFrame
    timeframe: Timeframe


class CsvProvider:
    """Bars from CSV/Parquet files; each file is read once and re-read when it changes."""

    name = "csv"

    def __init__(
        self,
        path: str | Path,
        symbol: str | None = None,
        *,
        timeframe: Timeframe | str | None = None,
        tz: str = "UTC",
    ) -> None:
        self.path = Path(path).expanduser()
        self.tz = tz
        self._forced_tf = parse_timeframe(timeframe) if timeframe is not None else None
        if not self.path.exists():
            raise DataError(f"no such data file or folder: {self.path}")
        if self.path.is_dir():
            files = sorted(
                p
                for p in self.path.iterdir()
                if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES | PARQUET_SUFFIXES
            )
            if not files:
                raise DataError(f"{self.path} holds no .csv, .txt, .tsv or .parquet files")
            if symbol is not None:
                raise DataError("give a symbol only with a single file, not a folder")
        else:
            files = [self.path]
        self._files: dict[str, list[Path]] = {}
        for f in files:
            sym = normalize_symbol(symbol) if symbol else symbol_from_filename(f)
            self._files.setdefault(sym, []).append(f)
        self._loaded: dict[Path, _Loaded] = {}
        self._resampled: dict[tuple[Path, Timeframe, tuple[int, int]], pd.DataFrame] = {}

    @property
    def symbols(self) -> list[str]:
        """The symbols this provider has files for."""
        return sorted(self._files)

    def _source(self) -> str:
        return f"csv:{self.path.name}"

    def _files_for(self, symbol: str) -> tuple[str, list[Path]]:
        sym = normalize_symbol(symbol)
        if sym not in self._files:
            raise UnknownSymbolError(symbol, self.symbols, self._source())
        return sym, self._files[sym]

    def _load(self, path: Path, symbol: str) -> _Loaded:
        try:
            st = path.stat()
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror}") from None
        stamp = (st.st_mtime_ns, st.st_size)
        hit = self._loaded.get(path)
        if hit is not None and hit.stamp == stamp:
            return hit
        bars = read_bars_file(path, self.tz)
        bars.attrs["symbol"] = symbol
        tf = self._forced_tf or infer_timeframe(bars.index) or _timeframe_hint(path)
        if tf is None:
            raise DataError(
                f"{path.name} has a single bar and no timeframe in its name; pass timeframe="
            )
        loaded = _Loaded(stamp, bars, tf)
        self._loaded[path] = loaded
        return loaded

    def native_timeframes(self, symbol: str) -> list[Timeframe]:
        """The timeframes the files hold for ``symbol``."""
        sym, paths = self._files_for(symbol)
        return sorted({self._load(p, sym).timeframe for p in paths}, key=lambda t: t.minutes)

    def bars(
        self,
        symbol: str,
        timeframe: Timeframe | str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> pd.DataFrame:
        """Canonical bars; resampled from the closest finer file when no file matches."""
        tf = parse_timeframe(timeframe)
        sym, paths = self._files_for(symbol)
        loaded = [(p, self._load(p, sym)) for p in paths]
        usable = [(p, ld) for p, ld in loaded if ld.timeframe.minutes <= tf.minutes]
        if not usable:
            have = ", ".join(f"{p.name} ({ld.timeframe.value})" for p, ld in loaded)
            raise DataError(
                f"{sym} {tf.value} bars cannot be made from coarser data: {have}; finer bars "
                "cannot be invented from coarser ones"
            )
        path, ld = max(usable, key=lambda item: item[1].timeframe.minutes)
        if ld.timeframe is tf:
            frame = ld.bars
        else:
            key = (path, tf, ld.stamp)
            frame = self._resampled.get(key)
            if frame is None:
                frame = resample_bars(ld.bars, tf)
                self._resampled[key] = frame
        return filter_range(frame, start, end, f"{sym} {tf.value}")

    def quote(self, symbol: str) -> Quote:
        """Bid/ask around the last close of the most recent file for ``symbol``."""
        sym, paths = self._files_for(symbol)
        latest = max((self._load(p, sym).bars for p in paths), key=lambda b: b.index[-1])
        return quote_from_bars(latest, sym, self._source())

    def order_book(self, symbol: str) -> OrderBookSnapshot:
        raise DataNotAvailable("order book not available from the csv source")

    def trades(
        self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> list[TradePrint]:
        raise DataNotAvailable("trades (time and sales) not available from the csv source")

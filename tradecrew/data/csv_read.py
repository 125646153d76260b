"""Reading one OHLCV file (CSV or Parquet) into a validated canonical frame.

Understands MetaTrader 4/5 exports (``2004.06.11 00:00;384;...``, MT5's tab-separated
``<DATE> <TIME> <OPEN> ... <TICKVOL> <VOL> <SPREAD>``, headerless history files),
pandas/backtesting.py files whose first, unnamed column is the timestamp, column names in
any case, ``,`` ``;`` or tab separators, and epoch or text timestamps.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from tradecrew.data.base import BadDataError, DataError
from tradecrew.data.validate import validate_bars

PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})

_TIME_NAMES = ("timestamp", "datetime", "gmttime", "localtime", "time", "date", "dt", "index")
_PRICE_NAMES = {
    "open": ("open", "o", "openprice"),
    "high": ("high", "h", "highprice"),
    "low": ("low", "l", "lowprice"),
    "close": ("close", "c", "closeprice", "last", "price"),
}
# Real traded volume first; MetaTrader's VOL is often all zero for OTC symbols, TICKVOL not.
_VOLUME_NAMES = ("volume", "v", "realvolume", "vol", "tickvolume", "tickvol", "ticks")
_DATE_START = re.compile(r"^\s*[\"']?(\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{8}\b|\d{9,19}\s*$)")
_CLOCK = re.compile(r"^\s*\d{1,2}:\d{2}(:\d{2})?\s*$")
_FORMATS = ("%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d", "%Y%m%d %H:%M:%S", "%Y%m%d")
_PARSER_LINE = re.compile(r"line (\d+)")
_PARSER_FIELDS = re.compile(r"Expected (\d+) fields in line \d+, saw (\d+)")


def read_bars_file(path: Path, tz: str = "UTC") -> pd.DataFrame:
    """The validated canonical frame of one file; naive timestamps are read in ``tz``."""
    if not path.exists():
        raise DataError(f"no such data file: {path}")
    if path.is_dir():
        raise DataError(f"{path} is a directory, not a data file")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        raw, lines = _read_parquet(path)
    elif suffix in TEXT_SUFFIXES:
        raw, lines = _read_text(path)
    else:
        raise DataError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; use .csv, .txt, .tsv "
            "or .parquet"
        )
    df = _to_bars(raw, lines, path, tz)
    out = validate_bars(df, path.name, rows=lines)
    out.attrs = dict(df.attrs)
    return out


def _read_parquet(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        raw = pd.read_parquet(path)
    except Exception:  # pyarrow raises many types; their text may quote the file
        raise BadDataError(path.name, None, "not a readable Parquet file") from None
    if isinstance(raw.index, pd.DatetimeIndex):
        raw = raw.reset_index(names="timestamp")
    return raw, np.arange(1, len(raw) + 1)


def _read_text(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    with path.open("rb") as fh:
        head = fh.read(65536)
    if not head.strip():
        raise BadDataError(path.name, None, "the file is empty")
    encoding = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = head.decode(encoding, errors="ignore" if len(head) == 65536 else "strict")
    except UnicodeDecodeError:
        raise BadDataError(path.name, None, "not a text (CSV) file") from None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    sep = max((";", "\t", ","), key=first.count)
    if first.count(sep) == 0:
        sep = ","
    has_header = not _DATE_START.match(first.split(sep)[0])
    try:
        raw = pd.read_csv(
            path,
            sep=sep,
            header=0 if has_header else None,
            skip_blank_lines=False,
            encoding=encoding,
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError:
        raise BadDataError(path.name, None, "the file is empty") from None
    except pd.errors.ParserError as exc:
        # The parser's own text can quote the row: keep only its line and field counts.
        found = _PARSER_LINE.search(str(exc))
        row = int(found.group(1)) if found else None
        counts = _PARSER_FIELDS.search(str(exc))
        detail = f" (expected {counts[1]} fields, saw {counts[2]})" if counts else ""
        raise BadDataError(path.name, row, f"cannot split the row into columns{detail}") from None
    except UnicodeDecodeError:
        raise BadDataError(path.name, None, "not a text (CSV) file") from None
    lines = np.arange(len(raw)) + (2 if has_header else 1)
    blank = raw.isna().all(axis=1).to_numpy()
    if blank.any():
        raw, lines = raw.loc[~blank], lines[~blank]
    if not has_header:
        raw = _name_headerless(raw, path)
    return raw, lines


def _name_headerless(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Columns by position: [date, time,] open, high, low, close[, volume, ...]."""
    first_row = [str(v) for v in raw.iloc[0].tolist()] if len(raw) else []
    split_clock = len(first_row) > 1 and bool(_CLOCK.match(first_row[1]))
    names = ["date", "time"] if split_clock else ["timestamp"]
    names += ["open", "high", "low", "close", "volume"]
    if raw.shape[1] < len(names) - 1:
        raise BadDataError(
            path.name, 1, f"a file without a header needs {', '.join(names[:-1])}[, volume]"
        )
    extra = [f"extra{i}" for i in range(raw.shape[1] - len(names))]
    raw = raw.copy()
    raw.columns = (names + extra)[: raw.shape[1]]
    return raw


def _key(name: object) -> str:
    return re.sub(r"[<>\s_\-\"']", "", str(name).lower())


def _to_bars(raw: pd.DataFrame, lines: np.ndarray, path: Path, tz: str) -> pd.DataFrame:
    keys = {_key(c): c for c in reversed(raw.columns)}
    if len(raw) == 0:
        raise BadDataError(path.name, None, "no bars (the file has a header but no rows)")
    cols: dict[str, str] = {}
    for field, names in _PRICE_NAMES.items():
        hit = next((keys[n] for n in names if n in keys), None)
        if hit is not None:
            cols[field] = hit
    missing = [f for f in _PRICE_NAMES if f not in cols]
    if missing:
        # Name only the columns the reader knows: the header line itself is file content.
        known = [f for f in ("timestamp", "date", "time", *_PRICE_NAMES) if f in keys or f in cols]
        have = f"; recognised: {', '.join(known)}" if known else "; no column name recognised"
        raise BadDataError(path.name, 1, f"missing column(s): {', '.join(missing)}{have}")
    frame = {f: _numbers(raw[c], f, lines, path) for f, c in cols.items()}
    note = ""
    vol_col = _volume_column(raw, keys)
    if vol_col is None:
        frame["volume"] = np.zeros(len(raw))
        note = "the file has no volume column; volume is 0"
    else:
        frame["volume"] = _numbers(raw[vol_col], "volume", lines, path)
    index = _timestamps(raw, keys, lines, path, tz)
    df = pd.DataFrame(frame, index=index)
    df.attrs = {"source": f"csv:{path.name}", "path": str(path), "synthetic": False}
    if note:
        df.attrs["note"] = note
    return df


def _volume_column(raw: pd.DataFrame, keys: dict[str, str]) -> str | None:
    present = [keys[n] for n in _VOLUME_NAMES if n in keys]
    for col in present:
        values = pd.to_numeric(raw[col], errors="coerce")
        if values.fillna(0).abs().sum() > 0:
            return col
    return present[0] if present else None


def _numbers(col: pd.Series, field: str, lines: np.ndarray, path: Path) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype="float64", na_value=np.nan)
    values = pd.to_numeric(col, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & col.notna().to_numpy())
    if len(bad):
        i = int(bad[0])
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise BadDataError(path.name, int(lines[i]), f"{field} is not a number{more}")
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _timestamps(
    raw: pd.DataFrame, keys: dict[str, str], lines: np.ndarray, path: Path, tz: str
) -> pd.DatetimeIndex:
    if "date" in keys and "time" in keys:
        text = raw[keys["date"]].astype(str) + " " + raw[keys["time"]].astype(str)
    else:
        name = next((keys[n] for n in _TIME_NAMES if n in keys), None)
        if name is None:
            name = raw.columns[0]
            if _key(name) in {"", "unnamed:0"} or not str(name).strip():
                pass  # pandas/backtesting.py files keep the timestamp in an unnamed column
            elif _key(name) not in _TIME_NAMES:
                raise BadDataError(
                    path.name,
                    1,
                    "no timestamp column (expected Date/Time/Timestamp or an unnamed first column)",
                )
        text = raw[name]
    parsed = _parse_times(text)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise BadDataError(path.name, int(lines[i]), f"cannot read the timestamp{more}")
    index = pd.DatetimeIndex(parsed)
    if index.tz is None:
        try:
            index = index.tz_localize(tz, ambiguous="raise", nonexistent="raise")
        except Exception:  # pytz/zoneinfo errors differ, and their text quotes a timestamp
            raise DataError(
                f"{path.name}: cannot place timestamps in time zone {tz!r} (an unknown zone, or "
                "a local time that is ambiguous or does not exist at a daylight-saving change)"
            ) from None
    return index.tz_convert("UTC")


def _parse_times(text: pd.Series) -> pd.Series:
    """Timestamps from epoch numbers or text; unreadable values become NaT."""
    if isinstance(text.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(text):
        return text
    if pd.api.types.is_numeric_dtype(text.dtype):
        values = text.to_numpy(dtype="float64", na_value=np.nan)
        big = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 0.0
        unit = "ns" if big > 1e17 else "us" if big > 1e14 else "ms" if big > 1e11 else "s"
        return pd.Series(pd.to_datetime(values, unit=unit, errors="coerce", utc=True))
    text = text.astype(str).str.strip().str.strip("\"'")
    sample = text.iloc[:20]
    # The format that reads most of the first rows wins, so one bad first row cannot
    # make every other timestamp unreadable.
    best, best_hits = None, 0
    for fmt in _FORMATS:
        hits = int(pd.to_datetime(sample, format=fmt, errors="coerce").notna().sum())
        if hits > best_hits:
            best, best_hits = fmt, hits
    if best is not None:
        return pd.to_datetime(text, format=best, errors="coerce")
    try:
        return pd.to_datetime(text, format="ISO8601", errors="coerce")
    except ValueError:  # mixed UTC offsets in one column
        return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)

"""Bars from live providers kept on disk, one file per (source, symbol, timeframe).

Files live under ``TRADECREW_HOME/cache/bars/<source>/``: Parquet when pyarrow is installed,
otherwise a NumPy ``.npz``. Each file also records when the source was last asked and the
earliest time it was asked to cover, so a provider can tell "fresh enough" and "far enough
back" without a request. Writes go to a temporary file first and are moved into place with
``os.replace``, so a reader never sees half a file and concurrent writers each leave a whole
one. A file that cannot be read, or whose MAC (``sealed``) does not match, counts as absent:
the provider fetches again. Folders are 0700 and files 0600.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tradecrew.data import sealed
from tradecrew.data.base import COLUMNS, INDEX_NAME, TIME_UNIT
from tradecrew.models import Timeframe

log = logging.getLogger(__name__)

_HAVE_PYARROW = importlib.util.find_spec("pyarrow") is not None
_META_KEY = b"tradecrew"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class CachedBars:
    """A cached series: the bars, when the source was last asked, and how far back it covers."""

    bars: pd.DataFrame
    fetched_at: pd.Timestamp
    since: pd.Timestamp


class BarCache:
    """Canonical bars on disk under ``root`` (normally ``TRADECREW_HOME/cache/bars``)."""

    def __init__(
        self, root: str | Path, *, fmt: str | None = None, secret: bytes | None = None
    ) -> None:
        self.root = Path(root).expanduser()
        # The MAC key (``sealed.cache_secret(home)``); this process's own by default.
        self._secret = secret if secret is not None else sealed.cache_secret(None)
        self.fmt = fmt or ("parquet" if _HAVE_PYARROW else "npz")
        if self.fmt not in ("parquet", "npz"):
            raise ValueError(f"unknown cache format {self.fmt!r}; use parquet or npz")
        if self.fmt == "parquet" and not _HAVE_PYARROW:
            raise ValueError("the parquet cache format needs pyarrow")

    def path(self, source: str, symbol: str, timeframe: Timeframe) -> Path:
        # Symbols come from users and providers: keep them inside the cache folder.
        name = f"{_UNSAFE.sub('_', symbol)}_{timeframe.value}.{self.fmt}"
        return self.root / _UNSAFE.sub("_", source) / name

    def load(self, source: str, symbol: str, timeframe: Timeframe) -> CachedBars | None:
        """The cached series, or None when there is none or it cannot be read."""
        path = self.path(source, symbol, timeframe)
        if not path.is_file():
            return None
        try:
            index, values, meta = _read_parquet(path) if self.fmt == "parquet" else _read_npz(path)
            mac = meta.pop("mac", None)
            if not sealed.intact(
                self._secret, mac, *_parts(source, symbol, timeframe, index, values, meta)
            ):
                sealed.refused(path)
                return None
            frame = pd.DataFrame(
                values,
                columns=list(COLUMNS),
                index=pd.DatetimeIndex(
                    pd.to_datetime(index, unit="ns", utc=True), name=INDEX_NAME
                ).as_unit(TIME_UNIT),
            )
            frame.attrs = {
                "symbol": symbol,
                "synthetic": False,
                "source": str(meta.get("source", source)),
            }
            return CachedBars(frame, pd.Timestamp(meta["fetched_at"]), pd.Timestamp(meta["since"]))
        except Exception as exc:  # a torn or foreign file is refetched, never trusted
            log.warning("ignoring unreadable cache file %s: %s", path, type(exc).__name__)
            return None

    def store(self, source: str, symbol: str, timeframe: Timeframe, entry: CachedBars) -> Path:
        """Write ``entry`` atomically and return its path."""
        path = self.path(source, symbol, timeframe)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        bars = entry.bars
        index = pd.DatetimeIndex(bars.index).as_unit("ns").asi8
        values = bars[list(COLUMNS)].to_numpy(dtype="float64")
        meta = {
            "fetched_at": entry.fetched_at.isoformat(),
            "since": entry.since.isoformat(),
            "source": str(bars.attrs.get("source", source)),
        }
        meta["mac"] = sealed.seal(
            self._secret, *_parts(source, symbol, timeframe, index, values, meta)
        )
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                if self.fmt == "parquet":
                    _write_parquet(fh, index, values, meta)
                else:
                    np.savez(fh, index=index, values=values, meta=np.array(json.dumps(meta)))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return path


def _parts(
    source: str,
    symbol: str,
    timeframe: Timeframe,
    index: np.ndarray,
    values: np.ndarray,
    meta: dict,
) -> tuple[bytes, ...]:
    """What a file's MAC covers: whose bars they are, its stamps, and every number."""
    return (
        sealed.canonical([source, symbol, timeframe.value]),
        sealed.canonical(meta),
        np.ascontiguousarray(index, dtype="<i8").tobytes(),
        np.ascontiguousarray(values, dtype="<f8").tobytes(),
    )


def _write_parquet(fh: object, index: np.ndarray, values: np.ndarray, meta: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {INDEX_NAME: pa.array(index, type=pa.int64())}
    for i, name in enumerate(COLUMNS):
        columns[name] = pa.array(values[:, i], type=pa.float64())
    table = pa.table(columns).replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})
    pq.write_table(table, fh, compression="zstd")


def _read_parquet(path: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {})[_META_KEY])
    index = table.column(INDEX_NAME).to_numpy()
    values = np.column_stack([table.column(c).to_numpy() for c in COLUMNS]).astype("float64")
    return index, values, meta


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    with np.load(path, allow_pickle=False) as data:
        return data["index"], data["values"], json.loads(str(data["meta"]))

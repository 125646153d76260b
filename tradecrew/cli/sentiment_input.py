"""Headlines from a file for ``tradecrew sentiment --file``, with their labels when given.

The format is decided once per file, never per line, so a headline that happens to start
with ``{`` stays a headline:

- ``.jsonl`` / ``.json``, or a file whose every non-blank line is a JSON object: JSON lines
  with a string ``text`` and an optional ``label`` (``.json`` may also hold one array);
- ``.csv``: a header naming a ``text`` column and optionally a ``label`` column;
- anything else: plain text, one headline per non-blank line.

Labels are ``positive``, ``negative`` or ``neutral`` (``bullish``/``bearish`` too); in CSV the
codes of the Twitter Financial News data set are accepted as well: 0 bearish, 1 bullish,
2 neutral.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, NamedTuple

from tradecrew.tools.sentiment.models import Label

_LABELS: dict[str, Label] = {
    "positive": "positive", "negative": "negative", "neutral": "neutral",
    "bullish": "positive", "bearish": "negative",
}  # fmt: skip
_CSV_CODES: dict[str, Label] = {"0": "negative", "1": "positive", "2": "neutral"}


class Headline(NamedTuple):
    text: str
    label: Label | None


def read_headlines(path: Path) -> list[Headline]:
    """The file's headlines in order; a ValueError naming file and line for bad input."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(path, raw)
    if suffix == ".json" and raw.lstrip().startswith("["):
        return _json_array(path, raw)
    numbered = [(n, line.strip()) for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
    if suffix in (".jsonl", ".json") or (numbered and all(_is_object(s) for _, s in numbered)):
        return [_from_object(path, n, _loads(path, n, s)) for n, s in numbered]
    return [Headline(s, None) for _, s in numbered]


def _is_object(line: str) -> bool:
    if not line.startswith("{"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _loads(path: Path, n: int, line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ValueError(f"{path}:{n}: not valid JSON ({msg})") from None


def _from_object(path: Path, n: int, obj: Any) -> Headline:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise ValueError(f"{path}:{n}: a JSON line needs a string 'text' field")
    return Headline(obj["text"], _label(path, n, obj.get("label"), codes={}))


def _json_array(path: Path, raw: str) -> list[Headline]:
    data = _loads(path, 1, raw)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON array of objects with 'text'")
    return [_from_object(path, k, item) for k, item in enumerate(data, 1)]


def _label(path: Path, n: int, value: Any, codes: dict[str, Label]) -> Label | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    key = str(value).strip().lower()
    if key in _LABELS:
        return _LABELS[key]
    if key in codes:
        return codes[key]
    allowed = "positive, negative or neutral" + (" (or 0, 1, 2)" if codes else "")
    raise ValueError(f"{path}:{n}: label {str(value)[:30]!r} is not {allowed}")


def _csv(path: Path, raw: str) -> list[Headline]:
    reader = csv.reader(io.StringIO(raw, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return []
    except csv.Error as exc:
        raise ValueError(f"{path}:1: not valid CSV ({exc})") from None
    if "text" not in header:
        raise ValueError(f"{path}:1: the CSV header needs a 'text' column, got {header[:6]}")
    text_at = header.index("text")
    label_at = header.index("label") if "label" in header else None
    out: list[Headline] = []
    try:
        for row in reader:
            n = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{path}:{n}: {len(row)} fields where the header has {len(header)}"
                )
            text = row[text_at].strip()
            if not text:
                raise ValueError(f"{path}:{n}: empty text")
            label = _label(path, n, row[label_at], _CSV_CODES) if label_at is not None else None
            out.append(Headline(text, label))
    except csv.Error as exc:
        raise ValueError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
    return out

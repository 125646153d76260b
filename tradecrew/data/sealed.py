"""A MAC on the caches the desk keeps under its home (bars, calendar feeds).

A cache decides what the desk trades on (prices) and what protects it (event blackouts), and
within its TTL nothing is asked of the source. So a cache file counts only when it carries a
MAC under a key derived from the ledger's audit key (the environment's, or the home's 0600
key file): a file planted or edited by anyone without that key (a fresher ``fetched_at``,
other prices, an empty week of events) is ignored and the source asked again, with a
warning. Without a home the key is this process's own: nothing written earlier is trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from tradecrew.data.audit_key import load_key

log = logging.getLogger(__name__)

_PROCESS_SECRET = secrets.token_bytes(32)


def cache_secret(home: Path | None) -> bytes:
    """The cache MAC key of ``home`` (never printed); this process's own when there is none."""
    if home is None:
        return _PROCESS_SECRET
    try:
        return load_key(Path(home)).mac(b"tradecrew cache key v1").encode("ascii")
    except Exception as exc:  # no usable key: trust nothing another process wrote
        log.warning("cache files are not reused: no audit key (%s)", type(exc).__name__)
        return _PROCESS_SECRET


def seal(secret: bytes, *parts: bytes) -> str:
    """The MAC of ``parts`` (each length-prefixed, so no two splits of one byte string agree)."""
    mac = hmac.new(secret, b"tradecrew cache v1", hashlib.sha256)
    for part in parts:
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mac.hexdigest()


def intact(secret: bytes, found: object, *parts: bytes) -> bool:
    return isinstance(found, str) and hmac.compare_digest(seal(secret, *parts), found)


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


def refused(path: Path) -> None:
    log.warning(
        "ignoring cache file %s: it was not written by this desk (its MAC does not match); "
        "asking the source again",
        path.name,
    )


def read_json(path: Path, secret: bytes) -> dict[str, Any] | None:
    """A sealed JSON cache file's document (its MAC removed), or None when the file is absent,
    unreadable, or not sealed under ``secret`` (the last with a warning)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        mac = doc.pop("mac", None)
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    if not intact(secret, mac, path.name.encode(), canonical(doc)):
        refused(path)
        return None
    return dict(doc)


def write_json(path: Path, secret: bytes, doc: dict[str, Any]) -> None:
    """Write ``doc`` sealed, atomically (0700 folder, a temporary file moved into place). A
    failure is only logged: the cache saves requests, the data is good without it."""
    tmp = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Sealed as it will read back (JSON turns tuples into lists, keys into strings).
        doc = json.loads(json.dumps(doc))
        doc["mac"] = seal(secret, path.name.encode(), canonical(doc))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot write the cache %s: %s", path, exc.strerror)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

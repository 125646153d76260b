"""The audit chain's secret key: from ``TRADECREW_AUDIT_KEY``, or a 0600 file made on first use.

Without a key anyone who can write the database can recompute every hash of a rewritten log;
with an HMAC key kept outside the database they cannot. The key's bytes live only inside
``AuditKey`` and never appear in a repr, a message or a log line.
"""

# In data/, the lowest layer that uses it: the ledger chains its audit log with this key and
# data/sealed.py derives the disk caches' MAC key from it.

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import NoReturn

from pydantic import SecretStr

ENV_VAR = "TRADECREW_AUDIT_KEY"
KEY_FILE = "audit.key"
MIN_LENGTH = 32


class AuditKeyError(ValueError):
    """The audit key is missing, malformed, or kept in a file others may read or own."""


class AuditKey:
    """An HMAC-SHA256 key. ``key_id`` names it (a MAC of a fixed text, revealing nothing of
    the key) so verification can tell "another key" from "edited rows"."""

    __slots__ = ("_secret", "key_id", "source")

    def __init__(self, secret: bytes, source: str) -> None:
        if len(secret) < MIN_LENGTH:
            raise AuditKeyError(f"the audit key from {source} is shorter than {MIN_LENGTH} bytes")
        self._secret = secret
        self.source = source
        self.key_id = hmac.new(secret, b"tradecrew audit key id", hashlib.sha256).hexdigest()[:16]

    def mac(self, message: bytes) -> str:
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"AuditKey(id={self.key_id}, source={self.source})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("an audit key cannot be pickled")


def ephemeral_key() -> AuditKey:
    """A key for an in-memory ledger, which lives and dies with this process."""
    return AuditKey(secrets.token_bytes(32), "memory")


def load_key(home: Path | None, environ: dict[str, str] | None = None) -> AuditKey:
    """``TRADECREW_AUDIT_KEY`` when set, else ``home/audit.key`` (created 0600 if absent);
    with neither (an in-memory ledger) a fresh key for this process."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_VAR)
    if raw is not None:
        value = SecretStr(raw.strip())
        if len(value.get_secret_value()) < MIN_LENGTH:
            raise AuditKeyError(
                f"{ENV_VAR} must be at least {MIN_LENGTH} characters (for example the "
                "output of: python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return AuditKey(value.get_secret_value().encode("utf-8"), ENV_VAR)
    if home is None:
        return ephemeral_key()
    path = home / KEY_FILE
    if not path.exists():
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    """Write a new random key, 0600 from its first byte; racing creators agree on one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        # A hard link appears complete or not at all and never replaces an existing key, so a
        # process racing this one reads either no file or a whole one.
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: create in place instead
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            try:
                os.write(fd, tmp.read_bytes())
                os.fsync(fd)
            finally:
                os.close(fd)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> AuditKey:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise AuditKeyError(f"cannot read the audit key file {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise AuditKeyError(f"audit key file {path} is not a file; refusing to use it")
        if os.name == "posix":
            if st.st_uid != os.geteuid():
                raise AuditKeyError(
                    f"audit key file {path} is not owned by this user; refusing to use it"
                )
            if st.st_mode & 0o077:
                raise AuditKeyError(
                    f"audit key file {path} is open to group or others (mode "
                    f"{st.st_mode & 0o777:o}); refusing to use it: run chmod 600 {path}"
                )
        data = os.read(fd, 4096).strip()
    finally:
        os.close(fd)
    if len(data) < MIN_LENGTH:
        raise AuditKeyError(f"audit key file {path} holds fewer than {MIN_LENGTH} characters")
    return AuditKey(data, str(path))

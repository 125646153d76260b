"""Where optuna studies live: in memory, a journal file, SQLite or PostgreSQL.

``--storage`` forms: ``memory``; ``journal`` (the default file under TRADECREW_HOME) or
``journal:PATH``; ``sqlite:///PATH``; ``postgresql://...`` or ``postgresql+psycopg://...``
(psycopg 3 is the driver either way). A named study without ``--storage`` goes to the
default journal file, so it can be resumed and joined.
"""

from __future__ import annotations

import os
import re
import socket
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tradecrew.errors import Unavailable

if TYPE_CHECKING:
    import optuna

__all__ = [
    "DEFAULT_JOURNAL",
    "StorageSpec",
    "check_study_name",
    "connect",
    "load_study",
    "open_storage",
    "open_study",
    "progress_callback",
    "resolve_storage",
    "study_attrs",
    "worker_seed",
]

DEFAULT_JOURNAL = "optuna-studies.journal"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_FORMS = "memory, journal, journal:PATH, sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"


class StorageSpec(BaseModel):
    """A parsed ``--storage``: ``url`` may hold a password, ``shown`` never does."""

    kind: str  # memory | journal | sqlite | postgresql
    url: str
    shown: str

    @property
    def shared(self) -> bool:
        """Whether another process can open the same study."""
        return self.kind != "memory"


def check_study_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise ValueError(
            f"study name {name[:40]!r} is not valid: letters, digits, '.', '_' and '-', "
            "at most 100 characters"
        )
    return name


def _hidden(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as its scheme only
        return url.split(":", 1)[0] + "://..."


def resolve_storage(storage: str | None, home: Path | None, *, named: bool) -> StorageSpec:
    """The storage ``storage`` names; None means memory, or the default journal under
    ``home`` when the study is ``named`` (so a later run can resume or join it)."""
    text = (storage or "").strip()
    if not text:
        text = "journal" if named else "memory"
    low = text.lower()
    if low in ("memory", "inmemory", "in-memory"):
        return StorageSpec(kind="memory", url="memory", shown="memory")
    if low == "journal" or low.startswith("journal:"):
        raw = text.split(":", 1)[1].strip() if ":" in text else ""
        if raw:
            path = Path(raw).expanduser()
        elif home is not None:
            path = home / DEFAULT_JOURNAL
        else:
            raise ValueError("journal storage needs a path: --storage journal:PATH")
        if path.is_dir():
            raise ValueError(f"journal path {path} is a folder; name a file")
        return StorageSpec(kind="journal", url=str(path), shown=f"journal:{path}")
    if low.startswith("sqlite:///"):
        return StorageSpec(kind="sqlite", url=text, shown=text)
    if low.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        # SQLAlchemy's bare postgresql:// means psycopg2, which the postgres extra lacks.
        url = re.sub(
            r"^(postgresql|postgres)(\+psycopg)?://",
            "postgresql+psycopg://",
            text,
            count=1,
            flags=re.IGNORECASE,
        )
        return StorageSpec(kind="postgresql", url=url, shown=_hidden(url))
    raise ValueError(f"unknown --storage {_hidden(text)!r}; use {_FORMS}")


def open_storage(spec: StorageSpec) -> optuna.storages.BaseStorage | None:
    """The optuna storage of ``spec`` (None for memory: optuna makes one per study)."""
    import optuna

    if spec.kind == "memory":
        return None
    if spec.kind == "journal":
        from optuna.storages.journal import JournalStorage

        from tradecrew.research.journal import TrialSyncedJournal

        path = Path(spec.url)
        path.parent.mkdir(parents=True, exist_ok=True)
        # optuna's file format and lock, one fsync per trial (see research/journal.py)
        return JournalStorage(TrialSyncedJournal(str(path)))
    kwargs: dict[str, Any] = {}
    if spec.kind == "postgresql":
        # A worker that dies leaves its trial RUNNING; heartbeats let the others fail it.
        kwargs = {"heartbeat_interval": 60, "grace_period": 180}
        kwargs["engine_kwargs"] = {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings():
            # Heartbeats are marked experimental; they are what a shared study needs.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(spec.url, **kwargs)
    except ImportError as exc:
        raise ValueError(
            f"storage {spec.shown} needs a database driver ({exc.name}): "
            "install tradecrew[postgres]"
        ) from None


def study_attrs(storage: str | None, study_name: str, home: Path | None = None) -> dict[str, Any]:
    """What an existing study pins (symbol, strategy, windows, space, data range...); a
    ValueError when there is no such study."""
    spec = resolve_storage(storage, home, named=True)
    study = load_study(spec, check_study_name(study_name), None, None)
    return dict(study.user_attrs)


# One storage object per URL and process: an RDB storage checks its schema and opens a pool
# when made, and a journal storage replays the file; doing that once per run is enough.
_OPEN: dict[tuple[int, str], Any] = {}


def connect(spec: StorageSpec) -> Any:
    """``open_storage``, reused within a process; a database that does not answer is an
    outage (``Unavailable``), named without its password."""
    key = (os.getpid(), spec.url)
    if key in _OPEN:
        return _OPEN[key]
    try:
        storage = open_storage(spec)
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            raise Unavailable(f"study storage {spec.shown} did not answer") from None
        raise
    if storage is not None:
        _OPEN[key] = storage
    return storage


def load_study(spec: StorageSpec, name: str, sampler: Any, pruner: Any) -> optuna.Study:
    import optuna

    if not spec.shared:
        raise ValueError(
            "--join needs a shared --storage (journal:PATH or postgresql+psycopg://...)"
        )
    storage = connect(spec)
    try:
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    except KeyError:
        raise ValueError(
            f"no study named {name!r} in {spec.shown}; start it with --study"
        ) from None


def worker_seed(seed: int | None, worker: int, joined: bool) -> int | None:
    """Distinct seeds per worker, so parallel workers do not propose the same trials."""
    if seed is None:
        return None
    if not joined:
        return seed + worker
    host = zlib.crc32(socket.gethostname().encode())
    return (seed + worker + os.getpid() * 7919 + host) % 2**31


def open_study(
    spec: StorageSpec, name: str, seed: int | None, join: bool, attrs: dict[str, Any]
) -> optuna.Study:
    import optuna

    sampler = optuna.samplers.TPESampler(seed=seed)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if join:
        study = load_study(spec, name, sampler, pruner)
    else:
        study = optuna.create_study(
            storage=connect(spec),
            sampler=sampler,
            pruner=pruner,
            study_name=name,
            direction="maximize",
            load_if_exists=True,
        )
    pinned = study.user_attrs
    if not pinned:
        for key, value in attrs.items():
            study.set_user_attr(key, value)
        return study
    differ = [k for k in attrs if k in pinned and pinned[k] != attrs[k]]
    if differ:
        parts = ", ".join(f"{k}: study {pinned[k]!r}, this run {attrs[k]!r}" for k in differ)
        raise ValueError(f"study {name!r} was started with other settings ({parts})")
    return study


def progress_callback(progress: Callable[[str], None], n_trials: int) -> Any:
    """An optuna callback that reports each finished trial as one line."""
    count = {"n": 0}

    def report(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        count["n"] += 1
        value = "-" if trial.value is None else f"{trial.value:.3f}"
        try:
            best = f"{study.best_value:.3f}"
        except ValueError:
            best = "-"
        progress(
            f"trial {trial.number} {trial.state.name.lower()}: score {value}, best {best} "
            f"({count['n']}/{n_trials} here)"
        )

    return report

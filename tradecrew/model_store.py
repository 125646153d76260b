"""Models the desk can download once into ``TRADECREW_HOME/models`` and then use offline.

``pull_model("finbert", home)`` fetches the pinned revision of a known Hub repository through
huggingface_hub (``HF_ENDPOINT`` names a mirror), only the files a local classifier needs,
into a staging folder that replaces ``models/<name>`` when complete, so an interrupted pull
never leaves a half model where the backend looks. The backends then load it with
``local_files_only``: nothing reaches a hub at run time.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from tradecrew.errors import Unavailable
from tradecrew.text import one_line

MARKER = "tradecrew-model.json"
DEFAULT_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class KnownModel:
    """A Hub repository pinned to a commit, with the files a local load needs."""

    name: str
    repo_id: str
    revision: str
    purpose: str
    files: tuple[str, ...]  # taken when the repository has them
    weights: tuple[str, ...]  # the first one present is taken (safetensors before pickles)


KNOWN_MODELS: dict[str, KnownModel] = {
    "finbert": KnownModel(
        name="finbert",
        repo_id="ProsusAI/finbert",
        # main as of 2020-12-24; pinned so a changed upstream never changes the desk's labels
        revision="4556d13015211d73dccd3fdd39d39232506f3e43",
        purpose="financial sentiment: --backend finbert",
        files=(
            "config.json",
            "vocab.txt",
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
        ),
        weights=("model.safetensors", "pytorch_model.bin"),
    ),
}


class ModelStatus(BaseModel):
    """A known model and where it is (or would be) on disk."""

    name: str
    repo_id: str
    revision: str
    purpose: str
    path: str
    installed: bool
    installed_revision: str | None = None
    files: list[str] = []
    size_bytes: int = 0


class PullResult(ModelStatus):
    downloaded: bool  # False when the same revision was already there


def known(name: str) -> KnownModel:
    if name not in KNOWN_MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(KNOWN_MODELS)}")
    return KNOWN_MODELS[name]


def model_dir(home: Path, name: str) -> Path:
    return home / "models" / name


def status(home: Path, name: str) -> ModelStatus:
    """What is on disk for ``name``: a model counts as installed once its pull completed."""
    spec = known(name)
    folder = model_dir(home, name)
    info = _read_marker(folder)
    files = sorted(info.get("files", [])) if info else []
    return ModelStatus(
        name=spec.name,
        repo_id=spec.repo_id,
        revision=spec.revision,
        purpose=spec.purpose,
        path=str(folder),
        installed=info is not None,
        installed_revision=info.get("revision") if info else None,
        files=files,
        size_bytes=sum(_size(folder / f) for f in files),
    )


def installed_path(home: Path, name: str) -> Path | None:
    """The folder of a completely pulled model, or None."""
    folder = model_dir(home, name)
    return folder if _read_marker(folder) is not None else None


def pull_model(
    name: str,
    home: Path,
    *,
    revision: str | None = None,
    endpoint: str | None = None,
    force: bool = False,
) -> PullResult:
    """Download ``name`` once into ``home/models/<name>`` (``home`` must exist, private).

    Unreachable hub or HF_HUB_OFFLINE: ``Unavailable`` naming the cause. Unknown model or
    revision: ``ValueError``. Progress bars go to stderr (huggingface_hub's tqdm)."""
    spec = known(name)
    rev = revision or spec.revision
    folder = model_dir(home, name)
    current = _read_marker(folder)
    if current and rev in (current.get("revision"), current.get("commit")) and not force:
        return PullResult(**status(home, name).model_dump(), downloaded=False)
    base = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise Unavailable(f"HF_HUB_OFFLINE is set, so {spec.repo_id} cannot be downloaded")
    wanted, commit = _plan(spec, rev, base)
    (home / "models").mkdir(mode=0o700, exist_ok=True)
    staging = home / "models" / f".{name}.partial"
    _download(spec, commit, wanted, staging, base)
    shutil.rmtree(staging / ".cache", ignore_errors=True)  # huggingface_hub's resume notes
    marker = {"repo_id": spec.repo_id, "revision": rev, "commit": commit, "files": wanted}
    (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    old = home / "models" / f".{name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return PullResult(**status(home, name).model_dump(), downloaded=True)


def _plan(spec: KnownModel, rev: str, base: str) -> tuple[list[str], str]:
    """The files to fetch and the commit, from one request that is not retried (an offline
    machine hears so at once, not after huggingface_hub's backoff)."""
    from huggingface_hub import HfApi

    try:
        info = HfApi(endpoint=base).model_info(spec.repo_id, revision=rev, timeout=15)
    except Exception as exc:
        raise _translate(exc, spec, base) from None
    present = {s.rfilename for s in info.siblings or []}
    weights = next((w for w in spec.weights if w in present), None)
    if weights is None or "config.json" not in present:
        raise ValueError(
            f"{spec.repo_id}@{rev} has no {' or '.join(spec.weights)} and config.json to load"
        )
    return [f for f in spec.files if f in present] + [weights], str(info.sha or rev)


def _download(spec: KnownModel, commit: str, wanted: list[str], staging: Path, base: str) -> None:
    from huggingface_hub import snapshot_download

    staging.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        snapshot_download(
            spec.repo_id,
            revision=commit,
            allow_patterns=wanted,
            local_dir=staging,
            endpoint=base,
        )
    except Exception as exc:
        raise _translate(exc, spec, base) from None
    missing = [f for f in wanted if not (staging / f).is_file()]
    if missing:
        raise Unavailable(f"download of {spec.repo_id} from {base} is missing {missing}")


def _translate(exc: Exception, spec: KnownModel, base: str) -> Exception:
    """One line for the user: a bad name or revision is input, anything else an outage."""
    from huggingface_hub.errors import (
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(exc, RevisionNotFoundError):
        return ValueError(f"{spec.repo_id} has no such revision at {base}")
    if isinstance(exc, GatedRepoError | RepositoryNotFoundError):
        return ValueError(f"{base} has no (public) repository {spec.repo_id}")
    if isinstance(exc, OSError) and not _is_network(exc):
        return exc  # a full disk or a permission problem says so itself
    return Unavailable(f"cannot download {spec.repo_id} from {base}: {_root_cause(exc)}")


def _is_network(exc: BaseException) -> bool:
    import socket

    return isinstance(exc, ConnectionError | TimeoutError | socket.gaierror)


def _root_cause(exc: BaseException) -> str:
    """The innermost error's first line ("[Errno 111] Connection refused"), cleaned."""
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    lines = str(exc).splitlines()
    return one_line(lines[0] if lines else type(exc).__name__, 200)


def _read_marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0

"""Embedding functions for the desk memory, all offline: nothing here ever downloads a model.

* ``hashing`` (default): feature hashing of words, deterministic and dependency-free.
* ``sentence-transformers:<model>``: a sentence model already in the local Hugging Face cache
  (or a local directory), loaded with ``local_files_only``.
* ``onnx``: chromadb's bundled MiniLM, only when its files are already cached.
* ``auto``: the best of those that is present locally, else hashing.

Importing this module imports chromadb; ``tradecrew.memory.store`` imports it lazily.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from tradecrew.memory.hashing import DEFAULT_DIM, check_dim, hash_embed

DEFAULT_SENTENCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_ONNX_FILES = (
    "config.json",
    "model.onnx",
    "special_tokens_map.json",
    "tokenizer_config.json",
    "tokenizer.json",
    "vocab.txt",
)


@register_embedding_function
class HashingEmbedding(EmbeddingFunction[Documents]):
    """Chromadb embedding function over ``hash_embed``: same text, same vector, any process."""

    def __init__(self, dim: int = DEFAULT_DIM) -> None:
        self.dim = check_dim(dim)

    def __call__(self, input: Documents) -> Embeddings:
        return list(hash_embed(list(input), self.dim))

    @staticmethod
    def name() -> str:
        return "tradecrew_hashing"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashingEmbedding:
        return HashingEmbedding(dim=int(config.get("dim", DEFAULT_DIM)))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        check_dim(int(config.get("dim", DEFAULT_DIM)))


@register_embedding_function
class LocalSentenceEmbedding(EmbeddingFunction[Documents]):
    """A sentence-transformers model read from local files only; never fetched."""

    def __init__(self, model_name: str = DEFAULT_SENTENCE_MODEL) -> None:
        self.model_name = model_name
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ValueError("sentence-transformers is not installed") from exc
            try:
                self._model = SentenceTransformer(self.model_name, local_files_only=True)
            except Exception as exc:  # the library raises OSError, ValueError, HF errors...
                raise ValueError(
                    f"sentence model {self.model_name!r} is not available locally: {exc}"
                ) from exc
        return self._model

    def __call__(self, input: Documents) -> Embeddings:
        vectors = self._load().encode(list(input), normalize_embeddings=True)
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return "tradecrew_sentence_local"

    def default_space(self) -> Space:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LocalSentenceEmbedding:
        return LocalSentenceEmbedding(str(config.get("model_name", DEFAULT_SENTENCE_MODEL)))


def sentence_model_available(model_name: str = DEFAULT_SENTENCE_MODEL) -> bool:
    """True when sentence-transformers is installed and the model loads from local files."""
    try:
        LocalSentenceEmbedding(model_name)._load()
    except ValueError:
        return False
    return True


def onnx_model_dir() -> Path:
    """Where chromadb keeps its MiniLM ONNX model once someone has fetched it."""
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    return Path(ONNXMiniLM_L6_V2.DOWNLOAD_PATH) / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME


def onnx_model_cached() -> bool:
    """True when every file chromadb's ONNX MiniLM needs is on disk (so it will not download)."""
    folder = onnx_model_dir()
    return all((folder / name).is_file() for name in _ONNX_FILES)


def _onnx() -> EmbeddingFunction[Documents]:
    if not onnx_model_cached():
        raise ValueError(f"chromadb's ONNX MiniLM is not cached in {onnx_model_dir()}")
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    return ONNXMiniLM_L6_V2()


def resolve_embedding(spec: str | EmbeddingFunction[Documents] | None) -> EmbeddingFunction[Any]:
    """An embedding function from a name (see module docstring) or the function itself."""
    if spec is None:
        return HashingEmbedding()
    if not isinstance(spec, str):
        if not callable(spec):
            raise TypeError(f"embedding must be a name or an embedding function, got {spec!r}")
        return spec
    text = spec.strip()
    kind, _, arg = text.partition(":")
    kind = kind.lower()
    if kind == "hashing":
        return HashingEmbedding(int(arg)) if arg else HashingEmbedding()
    if kind in ("sentence-transformers", "st"):
        ef = LocalSentenceEmbedding(arg or DEFAULT_SENTENCE_MODEL)
        ef._load()  # fail now, not at the first write
        return ef
    if kind == "onnx":
        return _onnx()
    if kind == "auto":
        if sentence_model_available():
            return LocalSentenceEmbedding()
        return _onnx() if onnx_model_cached() else HashingEmbedding()
    raise ValueError(
        f"unknown embedding {spec!r}; use hashing[:DIM], sentence-transformers[:MODEL], "
        "onnx or auto"
    )


def embedding_key(ef: EmbeddingFunction[Any]) -> str:
    """A short name for the vector space ``ef`` produces; collections are kept per space."""
    if isinstance(ef, HashingEmbedding):
        raw = f"hashing{ef.dim}"
    elif isinstance(ef, LocalSentenceEmbedding):
        raw = f"st-{ef.model_name.rsplit('/', 1)[-1]}"
    else:
        try:
            raw = str(ef.name())
        except Exception:  # a plain callable without chromadb's name()
            raw = type(ef).__name__
    return re.sub(r"[^a-zA-Z0-9_-]+", "-", raw).strip("-_").lower() or "custom"

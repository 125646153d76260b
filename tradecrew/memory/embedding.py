"""Embedding functions for the desk memory, all offline: nothing here ever downloads a model.

* ``hashing`` (default): feature hashing of words, deterministic and dependency-free.
* ``sentence-transformers:<model>``: a sentence model already in the local Hugging Face cache
  (or a local directory), loaded with ``local_files_only``.
* ``onnx``: chromadb's bundled MiniLM, only when its files are already cached.
* ``openai``: an OpenAI-compatible endpoint's ``/v1/embeddings`` (the one configured).
* ``auto``: a local sentence model, else the configured endpoint, else hashing.

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


@register_embedding_function
class EndpointEmbedding(EmbeddingFunction[Documents]):
    """An OpenAI-compatible ``POST {base_url}/embeddings`` (OpenAI, Ollama, vLLM...).

    The key is sent only to the URL it was configured with and never kept in the
    collection's config (``get_config`` holds the model and URL alone)."""

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        batch: int = 64,
    ) -> None:
        if not model or not base_url:
            raise ValueError("an embedding endpoint needs a model and a base URL")
        self.model, self.base_url = model, base_url.rstrip("/")
        self._key, self._timeout, self._batch = api_key, timeout, batch

    def __call__(self, input: Documents) -> Embeddings:
        import httpx

        texts = list(input)
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        out: list[np.ndarray] = []
        with httpx.Client(timeout=self._timeout) as client:
            for start in range(0, len(texts), self._batch):
                chunk = texts[start : start + self._batch]
                try:
                    resp = client.post(
                        f"{self.base_url}/embeddings",
                        json={"model": self.model, "input": chunk},
                        headers=headers,
                    )
                    resp.raise_for_status()
                    rows = sorted(resp.json()["data"], key=lambda r: r["index"])
                except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
                    # The URL only: an error text must never carry the key.
                    raise ValueError(
                        f"embedding endpoint {self.base_url} failed: {type(exc).__name__}"
                    ) from None
                if len(rows) != len(chunk):
                    raise ValueError(
                        f"embedding endpoint {self.base_url} returned {len(rows)} "
                        f"vectors for {len(chunk)} texts"
                    )
                for row in rows:
                    vec = np.asarray(row["embedding"], dtype=np.float32)
                    out.append(vec / (float(np.linalg.norm(vec)) or 1.0))
        return out

    @staticmethod
    def name() -> str:
        return "tradecrew_endpoint"

    def default_space(self) -> Space:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> EndpointEmbedding:
        return EndpointEmbedding(str(config["model"]), str(config["base_url"]))


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


def resolve_embedding(
    spec: str | EmbeddingFunction[Documents] | None,
    endpoint: EndpointEmbedding | None = None,
) -> EmbeddingFunction[Any]:
    """An embedding function from a name (see module docstring) or the function itself;
    ``endpoint`` is the configured ``/v1/embeddings`` (for ``openai`` and ``auto``)."""
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
    if kind == "openai":
        if endpoint is None:
            raise ValueError(
                "the openai embedding needs TRADECREW_MEMORY__EMBEDDING_MODEL and a base URL "
                "(TRADECREW_MEMORY__EMBEDDING_BASE_URL or TRADECREW_LLM__BASE_URL)"
            )
        return endpoint
    if kind == "auto":
        if sentence_model_available():
            return LocalSentenceEmbedding()
        if endpoint is not None:
            return endpoint
        return _onnx() if onnx_model_cached() else HashingEmbedding()
    raise ValueError(
        f"unknown embedding {spec!r}; use hashing[:DIM], sentence-transformers[:MODEL], "
        "onnx, openai or auto"
    )


def embedding_key(ef: EmbeddingFunction[Any]) -> str:
    """A short name for the vector space ``ef`` produces; collections are kept per space."""
    if isinstance(ef, HashingEmbedding):
        raw = f"hashing{ef.dim}"
    elif isinstance(ef, LocalSentenceEmbedding):
        raw = f"st-{ef.model_name.rsplit('/', 1)[-1]}"
    elif isinstance(ef, EndpointEmbedding):
        raw = f"api-{ef.model.rsplit('/', 1)[-1]}"
    else:
        try:
            raw = str(ef.name())
        except Exception:  # a plain callable without chromadb's name()
            raw = type(ef).__name__
    return re.sub(r"[^a-zA-Z0-9_-]+", "-", raw).strip("-_").lower() or "custom"


def embedding_from_settings(settings: Any) -> EmbeddingFunction[Any]:
    """The embedding ``settings.memory`` names (``auto`` by default)."""
    mem = settings.memory
    base = mem.embedding_base_url or settings.llm.base_url
    endpoint = None
    if mem.embedding_model and base:
        key = settings.llm.api_key.get_secret_value() if settings.llm.api_key else None
        endpoint = EndpointEmbedding(mem.embedding_model, base, key, settings.llm.timeout_seconds)
    return resolve_embedding(mem.embedding, endpoint)

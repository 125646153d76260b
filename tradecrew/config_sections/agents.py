"""The language model the agents call and the embedding of the desk memory."""

from __future__ import annotations

from pydantic import Field, SecretStr

from .base import Section


class LLMSettings(Section):
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0)
    max_tokens_per_run: int = Field(200_000, ge=1)
    max_cost_per_run: float = Field(2.0, ge=0)
    max_concurrency: int = Field(4, ge=1)


class MemorySettings(Section):
    """The desk memory's embedding: ``auto`` takes a local sentence-transformers model when
    one is installed and cached, else the OpenAI-compatible endpoint's ``/v1/embeddings``
    when ``embedding_model`` is set, else the offline hashing embedding."""

    embedding: str = Field(
        "auto", description="auto | hashing[:DIM] | sentence-transformers[:MODEL] | onnx | openai"
    )
    embedding_model: str | None = Field(
        None, description="model name at the endpoint (e.g. text-embedding-3-small)"
    )
    embedding_base_url: str | None = Field(
        None, description="OpenAI-compatible base URL (.../v1); defaults to llm.base_url"
    )

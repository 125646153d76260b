"""The OpenAI-compatible ``/v1/embeddings`` as the memory's embedding, against a scripted
server on 127.0.0.1: same interface as the offline hashing one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.http import LoopbackServer, QuietHandler
from tradecrew.config import LLMSettings, MemorySettings, Settings
from tradecrew.memory import DeskMemory
from tradecrew.memory.embedding import EndpointEmbedding, HashingEmbedding, embedding_from_settings

KEY = "sk-embed-canary-5Xq2"
# A toy "semantic" model: words of one concept share a direction, as a real model's do.
CONCEPTS = [
    {"gold", "bullion", "xauusd", "metal", "precious"},
    {"euro", "eurusd", "ecb", "currency"},
    {"stocks", "spx", "equities", "index"},
]


def vector(text: str) -> list[float]:
    words = set(text.lower().replace(",", " ").split())
    out = [float(len(words & c)) for c in CONCEPTS]
    return [*out, 0.1]


class EmbeddingServer(LoopbackServer):
    def __init__(self, status: int = 200) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = status
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), **body}
                )
                if outer.status != 200:
                    self.reply(outer.status, b'{"error": "down"}', {})
                    return
                data = [
                    {"object": "embedding", "index": i, "embedding": vector(t)}
                    for i, t in reversed(list(enumerate(body["input"])))  # any order
                ]
                payload = json.dumps({"object": "list", "data": data, "model": body["model"]})
                self.reply(200, payload.encode(), {"Content-Type": "application/json"})

        self.serve(Handler)


@pytest.fixture
def server() -> Iterator[EmbeddingServer]:
    srv = EmbeddingServer().start()
    yield srv
    srv.stop()


def _settings(home: Path, url: str, embedding: str = "auto") -> Settings:
    return Settings(
        home=home,
        memory=MemorySettings(embedding=embedding, embedding_model="toy-embed"),
        llm=LLMSettings(base_url=f"{url}/v1", api_key=KEY),
    )


def test_the_configured_endpoint_embeds_memories_and_queries(
    tmp_path: Path, server: EmbeddingServer
) -> None:
    memory = DeskMemory.from_settings(_settings(tmp_path, server.url))
    assert isinstance(memory.embedding, EndpointEmbedding)
    assert memory.collection_name == "desk_memory_api-toy-embed"
    memory.remember_report("XAUUSD", "ranging", "precious metal drifts")
    memory.remember_report("EURUSD", "ranging", "ecb keeps rates")
    memory.remember_report("SPX", "volatile", "equities slide")
    # No word of "bullion" is in any text: the endpoint's vectors find it.
    (hit,) = memory.recall("bullion", k=1)
    assert hit.symbol == "XAUUSD" and hit.distance is not None and hit.distance < 0.5
    found = memory.search("single currency", k=3)
    assert found[0].symbol == "EURUSD" and len({round(i.distance, 4) for i in found}) == 3
    first = server.requests[0]
    assert first["path"] == "/v1/embeddings" and first["model"] == "toy-embed"
    assert first["auth"] == f"Bearer {KEY}" and isinstance(first["input"], list)


def test_without_a_model_auto_stays_offline(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, llm=LLMSettings(base_url="http://127.0.0.1:9/v1"))
    assert isinstance(embedding_from_settings(settings), HashingEmbedding)
    with pytest.raises(ValueError, match="EMBEDDING_MODEL"):
        embedding_from_settings(Settings(home=tmp_path, memory=MemorySettings(embedding="openai")))


def test_an_endpoint_failure_names_the_url_never_the_key(tmp_path: Path) -> None:
    srv = EmbeddingServer(status=500).start()
    try:
        ef = embedding_from_settings(_settings(tmp_path, srv.url, "openai"))
        with pytest.raises(ValueError) as err:
            ef(["gold"])
    finally:
        srv.stop()
    assert srv.url in str(err.value) and KEY not in str(err.value)
    assert KEY not in json.dumps(ef.get_config())

"""`tradecrew models pull finbert` against a stand-in Hub on 127.0.0.1, then offline scoring.

The stand-in serves the repository at FinBERT's pinned commit with huggingface_hub's real
API shapes, so the real ``snapshot_download`` runs end to end; no test reaches the internet.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from tests.cli.invoke import cli
from tests.fakes.hf_hub import StandInHub
from tradecrew.model_store import KNOWN_MODELS, MARKER

FINBERT = KNOWN_MODELS["finbert"]
# What the real repository also holds and a pull must not fetch (hundreds of MB each).
UNWANTED = {"tf_model.h5": b"tf" * 50, "flax_model.msgpack": b"fx" * 50, "README.md": b"# x"}


def _fake_repo(folder: Path, weights: str = "model.safetensors") -> Path:
    """Files shaped like FinBERT's repository (content is not loaded by these tests)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    (folder / "special_tokens_map.json").write_text("{}")
    (folder / weights).write_bytes(os.urandom(4096))
    for name, data in UNWANTED.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def env(tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRADECREW_COMPONENTS__SENTIMENT__MODEL_PATH", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    return tradecrew_home


def test_pull_fetches_only_the_needed_files_once(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _fake_repo(tmp_path / "repo", weights="pytorch_model.bin")
    with StandInHub(FINBERT.repo_id, repo, commit=FINBERT.revision) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        result = cli("models", "pull", "finbert")
        assert result.exit_code == 0, result.stderr
        assert "downloaded" in result.stdout and FINBERT.repo_id in result.stderr
        assert sorted(hub.downloads()) == [
            "config.json",
            "pytorch_model.bin",
            "special_tokens_map.json",
            "vocab.txt",
        ]
        assert all(FINBERT.revision in p for m, p in hub.requests if "/resolve/" in p)
        folder = env / "models" / "finbert"
        assert (folder / "pytorch_model.bin").read_bytes() == (
            repo / "pytorch_model.bin"
        ).read_bytes()
        assert not any((folder / name).exists() for name in UNWANTED)
        assert stat.S_IMODE((env / "models").stat().st_mode) == 0o700
        assert stat.S_IMODE(env.stat().st_mode) == 0o700
        marker = json.loads((folder / MARKER).read_text())
        assert marker["revision"] == FINBERT.revision
        seen = len(hub.requests)
        again = cli("models", "pull", "finbert", "--json")
        assert again.exit_code == 0, again.stderr
        assert json.loads(again.stdout)["downloaded"] is False
        assert len(hub.requests) == seen  # present: the hub is not asked again
    listed = json.loads(cli("models", "list", "--json").stdout)
    assert listed[0]["name"] == "finbert" and listed[0]["installed"] is True


def test_safetensors_are_preferred_to_pickled_weights(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _fake_repo(tmp_path / "repo")
    (repo / "pytorch_model.bin").write_bytes(b"pickle" * 100)
    with StandInHub(FINBERT.repo_id, repo, commit=FINBERT.revision) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        assert cli("models", "pull", "finbert").exit_code == 0
        assert "model.safetensors" in hub.downloads()
        assert "pytorch_model.bin" not in hub.downloads()


def test_no_network_is_one_line_and_exit_3(
    env: Path, monkeypatch: pytest.MonkeyPatch, refused_port: int
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{refused_port}")
    start = time.monotonic()
    result = cli("models", "pull", "finbert")
    assert time.monotonic() - start < 10  # no long retry loop before saying so
    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "refused" in lines[0].lower(), result.stderr
    assert "Traceback" not in result.stderr
    assert not (env / "models" / "finbert").exists()


def test_hub_offline_mode_is_named(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = cli("models", "pull", "finbert")
    assert result.exit_code == 3 and "HF_HUB_OFFLINE" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("models", "pull", "gpt5"), "unknown model"),
        (("models", "pull", "finbert", "--revision", "no-such-branch"), "no such revision"),
    ],
)
def test_bad_names_are_bad_input(
    env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    needle: str,
) -> None:
    with StandInHub(FINBERT.repo_id, _fake_repo(tmp_path / "repo"), FINBERT.revision) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        result = cli(*args)
    assert result.exit_code == 2 and needle in result.stderr, result.stderr


def test_a_failed_pull_keeps_the_model_already_there(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_port: int
) -> None:
    repo = _fake_repo(tmp_path / "repo")
    with StandInHub(FINBERT.repo_id, repo, commit=FINBERT.revision) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        assert cli("models", "pull", "finbert").exit_code == 0
    before = (env / "models" / "finbert" / "model.safetensors").read_bytes()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{refused_port}")
    assert cli("models", "pull", "finbert", "--force").exit_code == 3
    assert (env / "models" / "finbert" / "model.safetensors").read_bytes() == before


def test_without_the_model_the_backend_names_the_pull_command(env: Path) -> None:
    from tradecrew.tools.sentiment import analyze_sentiment
    from tradecrew.tools.sentiment.finbert import FinBertUnavailable

    with pytest.raises(FinBertUnavailable, match="tradecrew models pull finbert"):
        analyze_sentiment(["Acme profit rises"], backend="finbert")
    result = cli("sentiment", "--backend", "finbert", "Acme profit rises")
    assert result.exit_code == 2 and "tradecrew models pull finbert" in result.stderr


def test_pulled_tiny_bert_scores_offline_in_batches(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch", reason="torch is needed to run a local FinBERT model")
    pytest.importorskip("transformers", reason="the finbert backend needs transformers")
    from tests.fakes.tiny_bert import build_tiny_bert
    from tradecrew.model_store import installed_path
    from tradecrew.tools.sentiment import analyze_sentiment
    from tradecrew.tools.sentiment.finbert import _load

    repo = build_tiny_bert(tmp_path / "repo", winner=1)  # always "negative"
    with StandInHub(FINBERT.repo_id, repo, commit=FINBERT.revision) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        result = cli("models", "pull", "finbert")
        assert result.exit_code == 0, result.stderr
        pulled = len(hub.requests)
    # The hub is gone and downloads are off: scoring must use the pulled files only.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _load.cache_clear()
    texts = [f"acme shares jump {k}" for k in range(37)]
    # The caller passes where the model is (the backend never reads the settings): the
    # pulled copy under TRADECREW_HOME, as the CLI below finds it.
    model_path = installed_path(env, "finbert")
    assert model_path is not None
    results = analyze_sentiment(
        texts, backend="finbert", threshold=0.1, batch_size=16, model_path=model_path
    )
    assert len(hub.requests) == pulled
    assert [r.text for r in results] == texts
    assert {r.label for r in results} == {"negative"} and {r.backend for r in results} == {
        "finbert"
    }
    cli_result = cli("sentiment", "--backend", "finbert", "--json", "acme profit rises")
    assert cli_result.exit_code == 0, cli_result.stderr
    assert json.loads(cli_result.stdout)["label"] == "negative"

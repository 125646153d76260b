"""The finbert backend loads a local classifier only; a tiny random BERT stands in for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.tiny_bert import FINBERT_LABELS
from tests.fakes.tiny_bert import build_tiny_bert as _tiny_model
from tradecrew.tools.sentiment import analyze_sentiment, label_for
from tradecrew.tools.sentiment.finbert import FinBertUnavailable

torch = pytest.importorskip("torch", reason="torch is needed to run a local FinBERT model")
transformers = pytest.importorskip("transformers", reason="the finbert backend needs transformers")


@pytest.mark.parametrize(("winner", "expected"), [(0, "positive"), (1, "negative"), (2, "neutral")])
def test_dominant_class_becomes_the_label(tmp_path: Path, winner: int, expected: str) -> None:
    path = _tiny_model(tmp_path / f"m{winner}", winner, FINBERT_LABELS)
    texts = ["Acme profit rises", "Acme loss narrows", "the"]
    results = analyze_sentiment(texts, backend="finbert", threshold=0.1, model_path=path)
    assert [r.text for r in results] == texts
    for r in results:
        assert r.backend == "finbert" and r.label == expected
        assert r.label == label_for(r.score, 0.1)
        assert r.confidence > 0.99  # softmax of a +5 against two -5 logits
    if expected == "neutral":
        assert all(abs(r.score) < 0.01 for r in results)


def test_generic_label_names_follow_config_order(tmp_path: Path) -> None:
    # the model calls its outputs by other names, in another order: index 2 is positive
    names = {0: "Bearish", 1: "NEUTRAL", 2: "Bullish"}
    path = _tiny_model(tmp_path / "m", 2, names)
    (result,) = analyze_sentiment(["Acme shares jump"], backend="finbert", model_path=path)
    assert result.label == "positive" and result.score > 0.99


def test_label_placeholders_need_an_explicit_mapping(tmp_path: Path) -> None:
    path = _tiny_model(tmp_path / "m", 1, {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    with pytest.raises(FinBertUnavailable, match="labels="):
        analyze_sentiment(["x"], backend="finbert", model_path=path)
    (result,) = analyze_sentiment(
        ["Acme profit falls"],
        backend="finbert",
        model_path=path,
        labels=("positive", "negative", "neutral"),
    )
    assert result.label == "negative"


def test_missing_model_names_the_setting(tmp_path: Path, tradecrew_home: Path) -> None:
    with pytest.raises(FinBertUnavailable, match=r"components\.sentiment\.model_path"):
        analyze_sentiment(["x"], backend="finbert")
    with pytest.raises(FinBertUnavailable, match=r"components\.sentiment\.model_path"):
        analyze_sentiment(["x"], backend="finbert", model_path=tmp_path / "nowhere")


def test_model_path_comes_from_the_settings_the_caller_passes(
    tmp_path: Path, tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings
    from tradecrew.tools.sentiment import backend_options

    path = _tiny_model(tmp_path / "m", 1, FINBERT_LABELS)
    monkeypatch.setenv("TRADECREW_COMPONENTS__SENTIMENT__MODEL_PATH", str(path))
    get_settings.cache_clear()
    settings = get_settings()
    options = backend_options("finbert", settings.components.sentiment, settings.llm, settings.home)
    (result,) = analyze_sentiment(["Acme profit falls"], backend="finbert", **options)
    assert result.label == "negative"


def test_empty_text_never_reaches_the_model(tmp_path: Path) -> None:
    path = _tiny_model(tmp_path / "m", 0, FINBERT_LABELS)
    empty, full = analyze_sentiment(["", "Acme"], backend="finbert", model_path=path)
    assert empty.confidence == 0.0 and empty.label == "neutral"
    assert full.label == "positive"

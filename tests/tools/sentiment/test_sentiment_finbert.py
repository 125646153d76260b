"""The finbert backend loads a local classifier only; a tiny random BERT stands in for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradecrew.tools.sentiment import analyze_sentiment, label_for
from tradecrew.tools.sentiment.finbert import FinBertUnavailable

torch = pytest.importorskip("torch", reason="torch is needed to run a local FinBERT model")
transformers = pytest.importorskip("transformers", reason="the finbert backend needs transformers")

_WORDS = ["acme", "profit", "rises", "falls", "shares", "jump", "loss", "narrows", "the", "a"]
_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _tiny_model(path: Path, winner: int, id2label: dict[int, str]) -> Path:
    """A 1-layer BERT whose classifier bias makes output ``winner`` dominate every input."""
    (path).mkdir(parents=True, exist_ok=True)
    vocab = path / "vocab.txt"
    vocab.write_text("\n".join(_SPECIAL + _WORDS) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(str(vocab))
    config = transformers.BertConfig(
        vocab_size=len(_SPECIAL) + len(_WORDS),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=64,
        num_labels=3,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([-5.0, -5.0, -5.0]))
        model.classifier.bias[winner] = 5.0
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


FINBERT_LABELS = {0: "positive", 1: "negative", 2: "neutral"}


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

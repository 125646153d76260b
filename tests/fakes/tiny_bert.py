"""A tiny BERT-style 3-class classifier saved to a folder, standing in for FinBERT in tests.

One layer of width 8 over a 15-word vocabulary: a few hundred kilobytes, built in well under
a second. Its classifier ignores the text and its bias makes output ``winner`` dominate, so a
test knows every label in advance. Needs torch and transformers.
"""

from __future__ import annotations

from pathlib import Path

WORDS = ["acme", "profit", "rises", "falls", "shares", "jump", "loss", "narrows", "the", "a"]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
FINBERT_LABELS = {0: "positive", 1: "negative", 2: "neutral"}  # ProsusAI/finbert's order


def build_tiny_bert(path: Path, winner: int, id2label: dict[int, str] | None = None) -> Path:
    import torch
    import transformers

    id2label = id2label or FINBERT_LABELS
    path.mkdir(parents=True, exist_ok=True)
    vocab = path / "vocab.txt"
    vocab.write_text("\n".join(SPECIAL + WORDS) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(str(vocab))
    config = transformers.BertConfig(
        vocab_size=len(SPECIAL) + len(WORDS),
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

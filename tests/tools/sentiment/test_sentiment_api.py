"""The one entry point: backend choice, input checks, threshold, summaries, invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.tools.sentiment import (
    SentimentResult,
    analyze_sentiment,
    label_for,
    summarize,
)


def test_unknown_backend_is_rejected_with_the_valid_names() -> None:
    with pytest.raises(ValueError, match="lexicon, finbert, llm"):
        analyze_sentiment(["Profit rises"], backend="vader")


def test_empty_text_is_neutral_with_zero_confidence() -> None:
    (result,) = analyze_sentiment([""])
    assert (result.label, result.score, result.confidence) == ("neutral", 0.0, 0.0)
    (blank,) = analyze_sentiment(["   \n\t"])
    assert blank.label == "neutral" and blank.confidence == 0.0


def test_a_single_string_is_refused_rather_than_read_letter_by_letter() -> None:
    with pytest.raises(TypeError, match="list of strings"):
        analyze_sentiment("Profit rises")  # type: ignore[arg-type]


def test_non_string_items_are_refused() -> None:
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        analyze_sentiment(["ok", 3])  # type: ignore[list-item]


@pytest.mark.parametrize("threshold", [-0.1, 1.0, 2.0])
def test_threshold_outside_unit_interval_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        analyze_sentiment(["Profit rises"], threshold=threshold)


def test_lexicon_takes_no_options() -> None:
    with pytest.raises(TypeError, match="no options"):
        analyze_sentiment(["Profit rises"], model_path="x")


def test_threshold_defaults_to_the_built_in_one_never_the_process_settings(
    tradecrew_home: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings
    from tradecrew.config_sections import SentimentComponent

    text = "Shares edge up"  # a weak positive: its label depends on the threshold
    (weak,) = analyze_sentiment([text], threshold=0.0)
    assert 0.0 < weak.score < 0.9
    monkeypatch.setenv("TRADECREW_COMPONENTS__SENTIMENT__THRESHOLD", "0.9")
    get_settings.cache_clear()
    built_in = SentimentComponent().threshold
    assert analyze_sentiment([text]) == analyze_sentiment([text], threshold=built_in)
    configured = get_settings().components.sentiment.threshold
    assert analyze_sentiment([text], threshold=configured)[0].label == "neutral"
    assert analyze_sentiment([text], threshold=0.0)[0].label == "positive"


def test_results_keep_input_order_and_length() -> None:
    texts = ["Profit jumps", "", "Bank fined over fraud", "Board meets"]
    results = analyze_sentiment(texts)
    assert [r.text for r in results] == texts
    assert [r.label for r in results][:3] == ["positive", "neutral", "negative"]


def test_summary_counts_and_mean() -> None:
    results = analyze_sentiment(["Profit jumps", "Bank fined over fraud", ""])
    summary = summarize(results)
    assert summary.n == 3
    assert (summary.positive, summary.negative, summary.neutral) == (1, 1, 1)
    assert summary.mean_score == pytest.approx(sum(r.score for r in results) / 3)


def test_summary_of_nothing_is_zero() -> None:
    summary = summarize([])
    assert summary.n == 0 and summary.mean_score == 0.0 and summary.positive == 0


def test_result_model_refuses_out_of_range_scores() -> None:
    with pytest.raises(ValueError):
        SentimentResult(text="x", label="positive", score=1.5, confidence=0.5, backend="lexicon")


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200), threshold=st.floats(0.0, 0.99))
def test_any_text_gives_a_bounded_score_and_a_consistent_label(text: str, threshold: float) -> None:
    (result,) = analyze_sentiment([text], threshold=threshold)
    assert -1.0 <= result.score <= 1.0
    assert 0.0 <= result.confidence <= 1.0
    assert result.label == label_for(result.score, threshold)


_WORDS = "profit loss rises falls not no record 12m from to 10m vs shares jump debt fine probe"
_MORE = "beats misses forecasts may sharply 25% , ? - despite offsets narrows widens"
_FINANCE_WORDS = st.sampled_from([*_WORDS.split(), *_MORE.split()])


@settings(max_examples=300, deadline=None)
@given(words=st.lists(_FINANCE_WORDS, max_size=14))
def test_finance_word_soup_stays_consistent(words: list[str]) -> None:
    (result,) = analyze_sentiment([" ".join(words)], threshold=0.1)
    assert -1.0 <= result.score <= 1.0
    assert result.label == label_for(result.score, 0.1)
    if result.confidence == 0.0:
        assert result.score == 0.0

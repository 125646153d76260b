"""The expression language: safe parsing (never Python), positions in errors, no look-ahead
by construction, a printer that round-trips, and rules compiled to strategies."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.research.sample_bars import sample_bars
from tradecrew.research.expr import (
    FUNCTIONS,
    MAX_LENGTH,
    SERIES,
    Binary,
    Call,
    ExprError,
    Name,
    Num,
    Unary,
    parse,
    to_source,
)
from tradecrew.research.expr_eval import ExprStrategy, evaluate


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return sample_bars("SPX", 700)


# ----------------------------------------------------------------- parsing and errors


@pytest.mark.parametrize(
    ("source", "position", "words"),
    [
        ("lag(close, -1)", 11, "negative lag"),
        ("close +", 7, "expected a number"),
        ("rsi(close)", 0, "takes 2 argument"),
        ("foo > 1", 0, "unknown series 'foo'"),
        ("bar(close, 3)", 0, "unknown function 'bar'"),
        ("close and rsi < 3", 0, "needs a condition"),
        ("close + (rsi < 30)", 9, "needs a number"),
        ("1 < 2 < 3", 6, "cannot be chained"),
        ("sma(close, 2.5)", 11, "whole number"),
        ("sma(close, 5000)", 11, "cannot exceed"),
        ("sma(close, n)", 11, "whole number"),
        ("macd(close, 26, 12)", 12, "fast must be shorter"),
        ("__import__('os').system('x')", 11, "unexpected character"),
        ("close.__class__", 5, "unexpected character"),
        ("(close", 6, "expected ')'"),
        ("close)", 5, "unexpected ')'"),
        ("", 0, "empty"),
        ("1e999 > close", 0, "out of range"),
    ],
)
def test_bad_expressions_raise_expr_error_naming_the_position(
    source: str, position: int, words: str
) -> None:
    with pytest.raises(ExprError) as err:
        parse(source)
    assert err.value.position == position
    assert words in str(err.value)
    assert f"position {position}" in str(err.value)


def test_limits_on_length_and_depth() -> None:
    with pytest.raises(ExprError, match="longer than"):
        parse("close + " * 100 + "close")
    with pytest.raises(ExprError, match="nested deeper"):
        parse("(" * 30 + "close" + ")" * 30)
    with pytest.raises(ExprError, match="nested deeper"):
        parse("-" * 40 + "close")
    with pytest.raises(ExprError, match="nested deeper"):
        parse("abs(" * 30 + "close" + ")" * 30)


def test_python_is_never_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in the language reaches Python's eval/exec/compile, whatever the text."""
    import builtins

    bars = sample_bars("SPX", 300)
    rule = "rsi < 30 or close > sma(close, 50)"
    evaluate(rule, bars)  # imports (which may compile code of their own) happen first

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("Python code evaluation was called")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, refuse)
    assert evaluate(rule, bars).dtype == bool
    for hostile in ("open('/etc/passwd')", "__import__", "close; import os", "lambda: 1"):
        with pytest.raises(ExprError):
            parse(hostile)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_random_text_raises_nothing_but_expr_error(text: str) -> None:
    with contextlib.suppress(ExprError):  # anything else fails the test
        parse(text)


_ALPHABET = st.sampled_from(
    ["close", "rsi", "sma", "lag", "(", ")", ",", " ", "and", "or", "not", "-", "+", "*", "/",
     "<", ">=", "==", "1", "2.5", "1e3", "cross_above", "zscore", "14", "0", "macd"]
)  # fmt: skip


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ALPHABET, max_size=30))
def test_random_token_soup_raises_nothing_but_expr_error(parts: list[str]) -> None:
    with contextlib.suppress(ExprError):
        parse(" ".join(parts))


# ----------------------------------------------------------------- printer round-trip

_NAMES = sorted(SERIES)
_NUM_FUNCS = sorted(f for f, (_, kind) in FUNCTIONS.items() if kind == "num" and "macd" not in f)


def _num_tree(depth: int) -> st.SearchStrategy:
    leaf = st.one_of(
        st.builds(Name, st.sampled_from(_NAMES)),
        st.builds(Num, st.floats(0, 1e6, allow_nan=False).map(lambda v: round(v, 3))),
    )
    if depth == 0:
        return leaf
    sub = _num_tree(depth - 1)

    def call(func: str, a: object, b: object, w: int) -> Call:
        params = FUNCTIONS[func][0]
        args = []
        for p in params:
            if p in ("win", "lag"):
                args.append(Num(float(w if p == "win" else w - 1)))
            else:
                args.append(a if not args else b)
        return Call(func, tuple(args))

    return st.one_of(
        leaf,
        st.builds(Unary, st.just("-"), sub),
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/"]), sub, sub),
        st.builds(call, st.sampled_from(_NUM_FUNCS), sub, sub, st.integers(1, 50)),
    )


def _bool_tree(depth: int) -> st.SearchStrategy:
    num = _num_tree(min(depth, 2))
    leaf = st.one_of(
        st.builds(Binary, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), num, num),
        st.builds(Call, st.sampled_from(["cross_above", "cross_below"]), st.tuples(num, num)),
    )
    if depth == 0:
        return leaf
    sub = _bool_tree(depth - 1)
    return st.one_of(
        leaf,
        st.builds(Unary, st.just("not"), sub),
        st.builds(Binary, st.sampled_from(["and", "or"]), sub, sub),
    )


TREES = st.one_of(_num_tree(3), _bool_tree(2))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_printer_round_trips(tree: object) -> None:
    text = to_source(tree)  # type: ignore[arg-type]
    if len(text) > MAX_LENGTH:
        return
    try:
        parsed = parse(text)
    except ExprError as exc:  # only the size limits may refuse a generated tree
        assert "deeper" in str(exc) or "more than" in str(exc)
        return
    assert parsed == tree
    assert to_source(parsed) == text


def test_printer_keeps_only_needed_parentheses() -> None:
    assert to_source(parse("((close - (open)) - (high - low))")) == "close - open - (high - low)"
    assert to_source(parse("not (rsi < 30 and close > open) or adx > 25")) == (
        "not (rsi < 30 and close > open) or adx > 25"
    )
    assert to_source(parse("-(close * 2)")) == "-(close * 2)"


# ----------------------------------------------------------------- evaluation


def test_evaluation_matches_pandas_for_simple_functions(bars: pd.DataFrame) -> None:
    close = bars["close"]
    pd.testing.assert_series_equal(
        evaluate("sma(close, 10)", bars), close.rolling(10).mean().rename("value"), rtol=1e-9
    )
    pd.testing.assert_series_equal(
        evaluate("lag(close, 3) - close", bars), (close.shift(3) - close).rename("value")
    )
    cross = evaluate("cross_above(close, sma(close, 20))", bars)
    sma = close.rolling(20).mean()
    expected = (close > sma) & (close.shift(1) <= sma.shift(1))
    assert (cross == expected).all()
    assert evaluate("rsi < 30", bars).dtype == bool
    assert (evaluate("rsi(close, 14) == rsi", bars).iloc[20:]).all()


def test_division_by_zero_and_log_of_negative_are_unknown_not_inf(bars: pd.DataFrame) -> None:
    values = evaluate("close / (close - close) + log(-close)", bars)
    assert values.isna().all()
    assert not evaluate("close / (close - close) > 0", bars).any()


# Expressions across the language, for the look-ahead check.
CAUSAL = [
    "rsi < 30 and close > sma(close, 200)",
    "cross_above(ema(close, 12), ema(close, 26))",
    "zscore(close, 20) < -1.5 or pct_change(close, 5) > 0.02",
    "macd_hist(close, 12, 26, 9) > 0 and atr(14) / close < 0.02",
    "rolling_max(lag(high, 1), 20) < close",
    "(trend_score + momentum_score + volume_score + regime_score) / 4",
    "max(std(close, 10), abs(delta(close, 3))) / sign(close)",
]


@pytest.mark.parametrize("source", CAUSAL)
def test_no_look_ahead_appending_bars_never_changes_past_values(
    bars: pd.DataFrame, source: str
) -> None:
    full = evaluate(source, bars)
    for cut in (350, 500):
        prefix = evaluate(source, bars.iloc[:cut])
        pd.testing.assert_series_equal(prefix, full.iloc[:cut], rtol=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bool_tree(1))
def test_no_look_ahead_for_random_rules(tree: object) -> None:
    bars = sample_bars("SPX", 300)
    full = evaluate(tree, bars)  # type: ignore[arg-type]
    prefix = evaluate(tree, bars.iloc[:200])  # type: ignore[arg-type]
    pd.testing.assert_series_equal(prefix, full.iloc[:200])


def test_a_rule_compiles_to_a_strategy_target(bars: pd.DataFrame) -> None:
    rule = ExprStrategy("close > sma(close, 50)")
    target = rule.target(bars, {})
    assert set(np.unique(target)) <= {0.0, 1.0}
    assert target.iloc[:49].eq(0).all()  # warm-up is flat
    short = rule.target(bars, {"side": -1})
    assert set(np.unique(short)) <= {-1.0, 0.0}
    factor = ExprStrategy("trend_score * 3")
    values = factor.target(bars, {})
    assert values.between(-1, 1).all() and values.abs().max() == 1.0
    assert rule.name == "expr:close > sma(close, 50)"


def test_named_series_are_exactly_the_desks_indicator_columns(bars: pd.DataFrame) -> None:
    from tradecrew.research.expr import INDICATOR_NAMES
    from tradecrew.tools.indicators import indicator_frame

    assert set(INDICATOR_NAMES) == set(indicator_frame(bars).columns)
    every = " + ".join(sorted(SERIES))
    assert evaluate(every, bars).iloc[-1] == evaluate(every, bars).iloc[-1]  # all finite

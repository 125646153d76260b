"""The expression language's vocabulary: limits, named series, whitelisted functions, the
syntax tree, its error type and its printer (see :mod:`tradecrew.research.expr`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tradecrew.errors import TradecrewError

MAX_LENGTH = 500  # characters of source
MAX_DEPTH = 24  # nesting of the tree
MAX_NODES = 120
MAX_WINDOW = 1000  # bars, for every window and lag

Kind = Literal["num", "bool"]

# Named series an expression may read: the bar's OHLCV, every column of the desk's
# indicator_frame, and the fusion components' per-bar scores.
OHLCV_NAMES = ("open", "high", "low", "close", "volume")
INDICATOR_NAMES = (
    "rsi", "macd", "macd_signal", "macd_hist", "stoch_k", "stoch_d", "mfi", "adl", "ao",
    "obv", "atr", "adx", "plus_di", "minus_di", "bb_upper", "bb_middle", "bb_lower",
    "bb_width", "bb_pct", "volume_ma", "volume_ratio", "volume_z", "up_volume",
    "down_volume", "up_volume_share", "obv_slope", "adl_slope",
)  # fmt: skip
COMPONENT_NAMES = ("trend_score", "momentum_score", "volume_score", "regime_score")
SERIES = frozenset(OHLCV_NAMES + INDICATOR_NAMES + COMPONENT_NAMES)

# Argument kinds: "num"/"bool" series (or constants), "win" an integer literal in
# 1..MAX_WINDOW, "lag" an integer literal in 0..MAX_WINDOW.
FUNCTIONS: dict[str, tuple[tuple[str, ...], Kind]] = {
    "sma": (("num", "win"), "num"),
    "ema": (("num", "win"), "num"),
    "rsi": (("num", "win"), "num"),
    "atr": (("win",), "num"),
    "macd": (("num", "win", "win"), "num"),
    "macd_signal": (("num", "win", "win", "win"), "num"),
    "macd_hist": (("num", "win", "win", "win"), "num"),
    "std": (("num", "win"), "num"),
    "zscore": (("num", "win"), "num"),
    "rolling_max": (("num", "win"), "num"),
    "rolling_min": (("num", "win"), "num"),
    "lag": (("num", "lag"), "num"),
    "delta": (("num", "win"), "num"),
    "pct_change": (("num", "win"), "num"),
    "abs": (("num",), "num"),
    "sign": (("num",), "num"),
    "log": (("num",), "num"),
    "min": (("num", "num"), "num"),
    "max": (("num", "num"), "num"),
    "cross_above": (("num", "num"), "bool"),
    "cross_below": (("num", "num"), "bool"),
}

COMPARISONS = ("<=", ">=", "==", "!=", "<", ">")
KEYWORDS = ("and", "or", "not")


class ExprError(TradecrewError, ValueError):
    """A malformed or unsafe expression; ``position`` is the 0-based offset it concerns."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"expression error at position {position}: {message}")
        self.position = position


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Num:
    value: float
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Name:
    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int = field(default=0, compare=False)


Node = Num | Name | Call | Unary | Binary

# --------------------------------------------------------------------------- printing

_PREC = {"or": 1, "and": 2, "not": 3, **dict.fromkeys(COMPARISONS, 4)}
_PREC.update({"+": 5, "-": 5, "*": 6, "/": 6})
_UNARY_MINUS = 7
_ATOM = 8


def _prec(node: Node) -> int:
    if isinstance(node, Binary):
        return _PREC[node.op]
    if isinstance(node, Unary):
        return _PREC["not"] if node.op == "not" else _UNARY_MINUS
    return _ATOM


def _wrap(node: Node, least: int) -> str:
    text = to_source(node)
    return f"({text})" if _prec(node) < least else text


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def to_source(node: Node) -> str:
    """Canonical text of a tree, with only the parentheses it needs; parses back equal."""
    if isinstance(node, Num):
        return _number(node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Call):
        return f"{node.func}({', '.join(to_source(a) for a in node.args)})"
    if isinstance(node, Unary):
        if node.op == "not":
            return f"not {_wrap(node.operand, _PREC['not'])}"
        return f"-{_wrap(node.operand, _UNARY_MINUS)}"
    prec = _PREC[node.op]
    # Left-associative: the right side needs parentheses at equal precedence; comparisons
    # do not chain, so both their sides must bind tighter.
    left_min = prec + 1 if node.op in COMPARISONS else prec
    return f"{_wrap(node.left, left_min)} {node.op} {_wrap(node.right, prec + 1)}"

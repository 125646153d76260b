"""A small, safe expression language over the desk's indicators, for rules and factors.

    rsi < 30 and close > sma(close, 200)
    cross_above(ema(close, 12), ema(close, 26)) or zscore(close, 20) < -2
    (trend_score + momentum_score) / 2

Grammar (lowest precedence first): ``or``, ``and``, ``not``, one comparison
(``< <= > >= == !=``, not chained), ``+ -``, ``* /``, unary ``-``, then numbers, series
names and calls of whitelisted functions. It is parsed here by a small recursive-descent
parser and evaluated by :mod:`tradecrew.research.expr_eval`; nothing is ever handed to
Python's ``eval``/``exec``/``compile``. Every window and lag is an integer literal, and a lag
is never negative, so an expression cannot read a future bar by construction. Errors are
:class:`ExprError` and name the position (0-based character offset) they concern.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tradecrew.research.expr_ast import (
    COMPARISONS,
    COMPONENT_NAMES,
    FUNCTIONS,
    INDICATOR_NAMES,
    KEYWORDS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    MAX_WINDOW,
    OHLCV_NAMES,
    SERIES,
    Binary,
    Call,
    ExprError,
    Kind,
    Name,
    Node,
    Num,
    Unary,
    to_source,
)

__all__ = [
    "COMPONENT_NAMES",
    "FUNCTIONS",
    "INDICATOR_NAMES",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_WINDOW",
    "OHLCV_NAMES",
    "SERIES",
    "Binary",
    "Call",
    "ExprError",
    "Name",
    "Node",
    "Num",
    "Unary",
    "kind_of",
    "literal",
    "parse",
    "to_source",
]

# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|[-+*/<>(),])"
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, name, kw, op, end
    text: str
    pos: int


def _tokens(source: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise ExprError(f"unexpected character {source[pos]!r}", pos)
        kind = m.lastgroup or ""
        text = m.group()
        if kind == "name" and text in KEYWORDS:
            kind = "kw"
        if kind != "ws":
            out.append(_Tok(kind, text, pos))
        pos = m.end()
    out.append(_Tok("end", "", len(source)))
    return out


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, source: str) -> None:
        self.toks = _tokens(source)
        self.i = 0
        self.depth = 0
        self.nodes = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> _Tok:
        if self.tok.text != text or self.tok.kind not in ("op", "kw"):
            raise ExprError(f"expected {text!r}, found {self._shown()}", self.tok.pos)
        return self.take()

    def _shown(self) -> str:
        return "end of expression" if self.tok.kind == "end" else repr(self.tok.text)

    def enter(self, pos: int) -> None:
        self.depth += 1
        self.nodes += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"nested deeper than {MAX_DEPTH} levels", pos)
        if self.nodes > MAX_NODES:
            raise ExprError(f"more than {MAX_NODES} terms", pos)

    def binary_left(self, ops: tuple[str, ...], below: str) -> Node:
        node = getattr(self, below)()
        while self.tok.kind in ("op", "kw") and self.tok.text in ops:
            op = self.take()
            self.enter(op.pos)
            right = getattr(self, below)()
            self.depth -= 1
            node = Binary(op.text, node, right, op.pos)
        return node

    def expr(self) -> Node:
        return self.binary_left(("or",), "and_")

    def and_(self) -> Node:
        return self.binary_left(("and",), "not_")

    def not_(self) -> Node:
        if self.tok.kind == "kw" and self.tok.text == "not":
            tok = self.take()
            self.enter(tok.pos)
            node = Unary("not", self.not_(), tok.pos)
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        left = self.additive()
        if self.tok.kind == "op" and self.tok.text in COMPARISONS:
            op = self.take()
            self.enter(op.pos)
            right = self.additive()
            self.depth -= 1
            if self.tok.kind == "op" and self.tok.text in COMPARISONS:
                raise ExprError("comparisons cannot be chained; join them with 'and'", self.tok.pos)
            return Binary(op.text, left, right, op.pos)
        return left

    def additive(self) -> Node:
        return self.binary_left(("+", "-"), "term")

    def term(self) -> Node:
        return self.binary_left(("*", "/"), "unary")

    def unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text == "-":
            tok = self.take()
            self.enter(tok.pos)
            node = Unary("-", self.unary(), tok.pos)
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Node:
        tok = self.tok
        self.enter(tok.pos)
        try:
            if tok.kind == "num":
                self.take()
                value = float(tok.text)
                if not math.isfinite(value):
                    raise ExprError(f"number {tok.text} is out of range", tok.pos)
                return Num(value, tok.pos)
            if tok.kind == "name":
                self.take()
                if self.tok.kind == "op" and self.tok.text == "(":
                    return self.call(tok)
                return Name(tok.text, tok.pos)
            if tok.kind == "op" and tok.text == "(":
                self.take()
                node = self.expr()
                self.expect(")")
                return node
            raise ExprError(f"expected a number, name or '(', found {self._shown()}", tok.pos)
        finally:
            self.depth -= 1

    def call(self, name: _Tok) -> Call:
        self.expect("(")
        args: list[Node] = []
        if not (self.tok.kind == "op" and self.tok.text == ")"):
            args.append(self.expr())
            while self.tok.kind == "op" and self.tok.text == ",":
                self.take()
                args.append(self.expr())
        self.expect(")")
        return Call(name.text, tuple(args), name.pos)


def parse(source: str) -> Node:
    """The checked tree of ``source``; an ExprError (with its position) for anything else.

    Checks: length, depth and size limits, known names and functions, argument counts,
    integer windows and non-negative lags, and that numbers and conditions are not mixed
    (``close + (rsi < 30)`` and ``close and rsi`` are refused)."""
    if not isinstance(source, str):
        raise ExprError("an expression must be text", 0)
    if len(source) > MAX_LENGTH:
        raise ExprError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    if not source.strip():
        raise ExprError("the expression is empty", 0)
    parser = _Parser(source)
    node = parser.expr()
    if parser.tok.kind != "end":
        raise ExprError(f"unexpected {parser._shown()}", parser.tok.pos)
    kind_of(node)
    return node


# --------------------------------------------------------------------------- checking


def _window(node: Node, arg: str, func: str) -> None:
    value = literal(node)
    least = 0 if arg == "lag" else 1
    what = "lag" if arg == "lag" else "window"
    if value is None or not value.is_integer():
        raise ExprError(f"{func}: the {what} must be a whole number", _pos(node))
    if value < least:
        detail = " (a negative lag would read the future)" if arg == "lag" else ""
        raise ExprError(f"{func}: the {what} must be at least {least}{detail}", _pos(node))
    if value > MAX_WINDOW:
        raise ExprError(f"{func}: the {what} cannot exceed {MAX_WINDOW}", _pos(node))


def literal(node: Node) -> float | None:
    """A number written directly (with an optional minus sign), else None."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Num):
        return -node.operand.value
    return None


def _pos(node: Node) -> int:
    if isinstance(node, Binary):
        return _pos(node.left)
    return node.pos


def _need(node: Node, want: Kind, context: str) -> None:
    got = kind_of(node)
    if got != want:
        noun = "a number" if want == "num" else "a condition"
        raise ExprError(f"{context} needs {noun}", _pos(node))


def kind_of(node: Node) -> Kind:
    """Whether ``node`` gives numbers or conditions; raises ExprError for a misfit."""
    if isinstance(node, Num):
        return "num"
    if isinstance(node, Name):
        if node.name not in SERIES:
            raise ExprError(f"unknown series {node.name!r}", node.pos)
        return "num"
    if isinstance(node, Unary):
        want: Kind = "bool" if node.op == "not" else "num"
        _need(node.operand, want, f"'{node.op}'")
        return want
    if isinstance(node, Binary):
        if node.op in ("and", "or"):
            _need(node.left, "bool", f"'{node.op}'")
            _need(node.right, "bool", f"'{node.op}'")
            return "bool"
        _need(node.left, "num", f"'{node.op}'")
        _need(node.right, "num", f"'{node.op}'")
        return "bool" if node.op in COMPARISONS else "num"
    spec = FUNCTIONS.get(node.func)
    if spec is None:
        raise ExprError(f"unknown function {node.func!r}", node.pos)
    params, result = spec
    if len(node.args) != len(params):
        raise ExprError(
            f"{node.func} takes {len(params)} argument(s), got {len(node.args)}", node.pos
        )
    for arg, param in zip(node.args, params, strict=True):
        if param in ("win", "lag"):
            _window(arg, param, node.func)
        else:
            _need(arg, "num" if param == "num" else "bool", node.func)
    if node.func.startswith("macd"):
        fast, slow = (literal(a) for a in node.args[1:3])
        if fast is not None and slow is not None and fast >= slow:
            raise ExprError(f"{node.func}: fast must be shorter than slow", _pos(node.args[1]))
    return result

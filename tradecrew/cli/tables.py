"""Tables that fit the terminal: columns are dropped by priority, never cut to ``pendi…``.

Each column says how important it is and whether its cells may wrap at spaces. A table that
is too wide for the console loses its least important columns first and says which; the
rest keep every character (``--json`` always gives everything).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text


def price_text(value: float | None, symbol: str | None, *, grouped: bool = False) -> str:
    """A price at its instrument's precision (``tradecrew.prices``, loaded when first used:
    the instrument catalogue is not needed for ``--help``)."""
    from tradecrew.prices import format_price

    return format_price(value, symbol, grouped=grouped)


@dataclass(frozen=True)
class Col:
    """A column: ``priority`` 0 is never dropped, higher numbers go first."""

    header: str
    priority: int = 0
    justify: Literal["left", "right", "center"] = "left"
    wrap: bool = False  # may break at spaces (free text); ids and numbers never do


def _widest_word(text: str) -> int:
    return max((cell_len(w) for w in text.split()), default=0)


def _needed(col: Col, cells: Sequence[str]) -> int:
    """The narrowest the column can be without cutting a cell or a header word."""
    if col.wrap:
        body = max((_widest_word(c) for c in cells), default=0)
        return max(body, _widest_word(col.header), 1)
    # A column that never wraps keeps its header on one line too.
    body = max((cell_len(line) for c in cells for line in c.splitlines()), default=0)
    return max(body, cell_len(col.header), 1)


_GAP = 3  # SIMPLE_HEAD: a padding space either side of a blank divider


def fit_table(
    cols: Sequence[Col],
    rows: Sequence[Sequence[str | Text]],
    *,
    console: Console,
    title: str | None = None,
    width: int | None = None,
) -> Table:
    """A rich table of ``rows`` holding the columns that fit ``width`` (the console's)."""
    width = width or console.width
    plain = [[c.plain if isinstance(c, Text) else str(c) for c in row] for row in rows]
    needs = [_needed(col, [row[i] for row in plain]) for i, col in enumerate(cols)]
    kept = list(range(len(cols)))
    dropped: list[int] = []

    def total() -> int:
        return sum(needs[i] for i in kept) + _GAP * (len(kept) - 1)

    # Least important (highest priority number) first; among equals the rightmost.
    order = sorted(
        (i for i, c in enumerate(cols) if c.priority > 0),
        key=lambda i: (cols[i].priority, i),
        reverse=True,
    )
    for i in order:
        if total() <= width:
            break
        kept.remove(i)
        dropped.append(i)
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        header_style="bold",
    )
    for i in kept:
        col = cols[i]
        table.add_column(
            col.header,
            justify=col.justify,
            no_wrap=not col.wrap,
            overflow="fold",
            min_width=needs[i],
        )
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    if dropped:
        names = ", ".join(cols[i].header for i in sorted(dropped))
        table.caption = f"not shown at this width: {names} (--json gives all)"
        table.caption_justify = "left"
    return table

"""``tradecrew instruments search TEXT``: the symbols a source knows, with how they trade."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tradecrew.cli.common import console, emit_json, fail, user_errors

if TYPE_CHECKING:
    from tradecrew.instrument_search import InstrumentInfo

SOURCES = ("catalogue", "sample", "alpaca", "mt5")

instruments_app = typer.Typer(
    name="instruments", help="Find the instruments a source knows.", no_args_is_help=True
)


@instruments_app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="part of a symbol, alias or name: gold, eur, AAPL")],
    source: Annotated[
        str,
        typer.Option(
            "--source",
            "-s",
            help="catalogue (built-in, also the sample data's) | sample | alpaca (assets API) "
            "| mt5 (the terminal's symbols)",
        ),
    ] = "catalogue",
    limit: Annotated[int, typer.Option("--limit", "-n", help="most results shown")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable JSON output")] = False,
) -> None:
    """Search symbols, aliases and names (any case); best matches first."""
    from tradecrew.instrument_search import search as find
    from tradecrew.instrument_search import search_catalogue

    chosen = source.strip().lower()
    if chosen not in SOURCES:
        fail(f"unknown source {source!r}; choose one of: {', '.join(SOURCES)}")
    if limit < 1:
        fail(f"--limit must be at least 1, got {limit}")
    with user_errors():
        if chosen == "alpaca":
            from tradecrew.config import get_settings
            from tradecrew.data.alpaca_assets import alpaca_assets

            rows = find(text, alpaca_assets(get_settings()), limit)
        elif chosen == "mt5":
            from tradecrew.data.mt5 import Mt5DataProvider

            rows = find(text, Mt5DataProvider().instruments(), limit)
        else:
            rows = search_catalogue(text, limit)
    if as_json:
        emit_json(rows)
        return
    _table(text, chosen, rows)


def _n(value: float) -> str:
    """0.00001 rather than 1e-05: a tick size is read digit by digit."""
    from decimal import Decimal

    return f"{Decimal(repr(value)).normalize():f}"


def _sizes(r: InstrumentInfo) -> str:
    parts = [f"tick {_n(r.tick_size)}" if r.tick_size is not None else ""]
    if r.contract_size is not None and r.contract_size != 1.0:
        parts.append(f"lot {_n(r.contract_size)}")
    if r.min_quantity is not None:
        parts.append(f"min {_n(r.min_quantity)}")
    if r.quantity_step is not None and r.quantity_step != r.min_quantity:
        parts.append(f"step {_n(r.quantity_step)}")
    return ", ".join(p for p in parts if p) or "-"


def _trading(r: InstrumentInfo) -> str:
    def flag(value: bool | None, yes: str, no: str) -> str:
        return "" if value is None else (yes if value else no)

    parts = [
        flag(r.tradable, "", "NOT TRADABLE"),
        flag(r.fractional, "fractional", "whole units"),
        flag(r.shortable, "shortable", "no shorts"),
        r.trading_hours or "",
        r.exchange or "",
    ]
    return ", ".join(p for p in parts if p) or "-"


def _table(text: str, source: str, rows: list[InstrumentInfo]) -> None:
    from rich.table import Table
    from rich.text import Text

    from tradecrew.text import one_line

    if not rows:
        console.print(Text(f"no instrument in {source} matches {text.strip()!r}"))
        return
    table = Table(title=Text(f"instruments matching {text.strip()!r} ({source})"))
    table.add_column("symbol", no_wrap=True)
    for col in ("name", "class", "ccy", "sizes (units)", "trading"):
        table.add_column(col, overflow="fold")  # a narrow terminal wraps values, never cuts
    for r in rows:
        # Names come from a server: one line without escape sequences, shown as Text so a
        # bracket is never read as rich markup.
        cells = (r.symbol, r.name, r.asset_class, r.currency, _sizes(r), _trading(r))
        table.add_row(*(Text(one_line(c, 200)) for c in cells))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(instruments_app)


__all__ = ["register"]

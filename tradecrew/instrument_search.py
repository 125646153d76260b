"""Finding instruments by symbol, alias or name: the catalogue's and a broker's alike.

Pure: no settings, no network. The Alpaca assets API lives in ``data/alpaca_assets.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from tradecrew.instruments import ALIASES, CATALOGUE, Instrument
from tradecrew.models import AssetClass

CATALOGUE_SOURCE = "catalogue"


class InstrumentInfo(BaseModel):
    """One instrument a source knows, with the facts a person needs to trade it."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    name: str = ""
    asset_class: str = Field(description="forex, metal, index, equity, crypto, commodity...")
    currency: str = Field(description="the currency prices are quoted in")
    tick_size: float | None = Field(None, description="smallest price increment")
    contract_size: float | None = Field(None, description="units in one lot")
    min_quantity: float | None = Field(None, description="smallest order, in units")
    quantity_step: float | None = Field(None, description="order size increment, in units")
    fractional: bool | None = Field(None, description="orders may be for part of a unit")
    shortable: bool | None = Field(None, description="None: up to the broker")
    tradable: bool | None = None
    exchange: str | None = None
    trading_hours: str | None = None
    aliases: list[str] = Field(default_factory=list)
    source: str


def _aliases_of(symbol: str) -> list[str]:
    return sorted(a for a, target in ALIASES.items() if target == symbol)


def catalogue_info(inst: Instrument) -> InstrumentInfo:
    pair = inst.asset_class in (AssetClass.FOREX, AssetClass.METAL)
    return InstrumentInfo(
        symbol=inst.symbol,
        name=inst.description,
        asset_class=inst.asset_class.value,
        currency=inst.quote_currency,
        tick_size=inst.tick_size,
        contract_size=inst.contract_size,
        min_quantity=inst.min_quantity,
        quantity_step=inst.quantity_step,
        fractional=inst.quantity_step < 1,
        # Selling a currency pair or a metal is the same trade as buying the other leg;
        # for the rest, whether a short is allowed depends on the broker.
        shortable=True if pair else None,
        trading_hours="24h weekdays" if inst.trades_24h else "exchange",
        aliases=_aliases_of(inst.symbol),
        source=CATALOGUE_SOURCE,
    )


def _rank(info: InstrumentInfo, needle: str, target: str | None) -> int | None:
    """How well ``info`` matches (0 best), or None; ``target`` is the alias's symbol."""
    symbol = info.symbol.lower()
    bare = symbol.replace("/", "")
    if needle in (symbol, bare) or (target is not None and target.lower() in (symbol, bare)):
        return 0
    if symbol.startswith(needle) or bare.startswith(needle):
        return 1
    if needle in symbol or needle in bare:
        return 2
    if any(needle in a.lower() for a in info.aliases):
        return 3
    if needle in info.name.lower():
        return 4
    return None


def search(text: str, candidates: Iterable[InstrumentInfo], limit: int) -> list[InstrumentInfo]:
    """Candidates whose symbol, alias or name holds ``text`` (any case), best match first:
    exact symbol or alias (``gold`` -> XAUUSD), then symbol prefix, symbol, alias, name."""
    needle = text.strip().lower()
    if not needle:
        raise ValueError("search text must not be empty")
    target = ALIASES.get(needle.upper())
    ranked = [
        (rank, info.symbol, info)
        for info in candidates
        if (rank := _rank(info, needle, target)) is not None
    ]
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [info for _, _, info in ranked[:limit]]


def search_catalogue(text: str, limit: int) -> list[InstrumentInfo]:
    return search(text, (catalogue_info(i) for i in CATALOGUE.values()), limit)


__all__ = ["CATALOGUE_SOURCE", "InstrumentInfo", "catalogue_info", "search", "search_catalogue"]

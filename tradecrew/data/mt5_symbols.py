"""An MT5 terminal's own contract data (``symbol_info``) as the desk's instrument facts:
digits and tick size, contract size, volume minimum and step, trade mode, currencies.

Pure: the values come in as the terminal's record (any object with its attribute names).
"""

from __future__ import annotations

from typing import Any

from tradecrew.instrument_search import InstrumentInfo
from tradecrew.instruments import Instrument, normalize_symbol
from tradecrew.models import AssetClass

SOURCE = "mt5"
# SYMBOL_TRADE_MODE_*: what the broker lets an account do with the symbol.
TRADE_MODES = {0: "disabled", 1: "long only", 2: "short only", 3: "close only", 4: "full"}
# The folders brokers file symbols under (``Forex\\Majors\\EURUSD``), most specific first.
_PATH_CLASSES = (
    ("crypto", AssetClass.CRYPTO),
    ("metal", AssetClass.METAL),
    ("forex", AssetClass.FOREX),
    ("fx", AssetClass.FOREX),
    ("ind", AssetClass.INDEX),
    ("stock", AssetClass.EQUITY),
    ("share", AssetClass.EQUITY),
    ("equit", AssetClass.EQUITY),
    ("etf", AssetClass.EQUITY),
    ("energ", AssetClass.COMMODITY),
    ("commod", AssetClass.COMMODITY),
)
_METALS = ("XAU", "XAG", "XPT", "XPD")


def asset_class(info: Any) -> AssetClass:
    """The class from the symbol's folder in the terminal, else from its currencies."""
    path = str(getattr(info, "path", "") or "").lower()
    for word, cls in _PATH_CLASSES:
        if word in path:
            return cls
    base = str(getattr(info, "currency_base", "") or "")
    if base in _METALS:
        return AssetClass.METAL
    # SYMBOL_CALC_MODE_FOREX (0) and FOREX_NO_LEVERAGE (5)
    if int(getattr(info, "trade_calc_mode", -1)) in (0, 5):
        return AssetClass.FOREX
    return AssetClass.COMMODITY


def tick_size(info: Any) -> float:
    """The price increment: the tick size when the terminal sets one, else one point."""
    tick = float(getattr(info, "trade_tick_size", 0.0) or 0.0)
    return tick if tick > 0 else float(info.point or 10.0 ** -int(info.digits))


def instrument(info: Any, desk: str | None = None) -> Instrument:
    """The desk's ``Instrument`` for a terminal symbol; quantities are in units, as the desk
    counts them (lots times the contract size)."""
    cls = asset_class(info)
    contract = float(info.trade_contract_size or 1.0)
    base = str(getattr(info, "currency_base", "") or "") or str(info.name)[:3]
    quote = str(getattr(info, "currency_profit", "") or "USD")
    return Instrument(
        symbol=desk or normalize_symbol(info.name),
        asset_class=cls,
        base_currency=base,
        quote_currency=quote,
        contract_size=contract,
        min_quantity=float(info.volume_min) * contract,
        quantity_step=float(info.volume_step) * contract,
        tick_size=tick_size(info),
        description=str(getattr(info, "description", "") or info.name) + ", from the MT5 terminal",
        trades_24h=cls in (AssetClass.FOREX, AssetClass.METAL, AssetClass.CRYPTO),
    )


def info_row(info: Any) -> InstrumentInfo:
    """One terminal symbol as ``instruments search --source mt5`` shows it."""
    inst = instrument(info)
    mode = int(getattr(info, "trade_mode", 4))
    hours = "24/7" if inst.asset_class is AssetClass.CRYPTO else "broker sessions"
    return InstrumentInfo(
        symbol=str(info.name),
        name=str(getattr(info, "description", "") or ""),
        asset_class=inst.asset_class.value,
        currency=inst.quote_currency,
        tick_size=inst.tick_size,
        contract_size=inst.contract_size,
        min_quantity=inst.min_quantity,
        quantity_step=inst.quantity_step,
        fractional=inst.quantity_step < 1,
        shortable=mode in (2, 4),
        tradable=mode in (1, 2, 4),
        exchange=str(getattr(info, "exchange", "") or "") or None,
        trading_hours=f"{hours}, trade mode {TRADE_MODES.get(mode, mode)}",
        source=SOURCE,
    )

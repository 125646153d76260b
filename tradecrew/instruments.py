"""The instruments the desk knows: asset class, currencies, contract size, aliases.

Quantities everywhere in the desk are *units* (shares, ounces, base-currency units,
coins); lots are a display and broker convenience converted here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tradecrew.models import AssetClass


class UnknownSymbol(LookupError):
    """Raised for a symbol the desk has no instrument definition for."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        known = ", ".join(sorted(CATALOGUE))
        super().__init__(f"unknown symbol {symbol!r}; known symbols: {known}")


class Instrument(BaseModel):
    """Static facts about a tradable symbol."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    asset_class: AssetClass
    base_currency: str
    quote_currency: str = "USD"
    contract_size: float = Field(1.0, description="units in one lot")
    min_quantity: float = 1.0
    quantity_step: float = 1.0
    tick_size: float = 0.01
    annual_volatility: float = Field(0.2, description="typical annualised volatility")
    typical_price: float = 100.0
    typical_spread: float = Field(0.0002, description="typical spread as a fraction of price")
    description: str = ""
    trades_24h: bool = False

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies an exposure to this instrument moves (EUR and USD for EURUSD)."""
        if self.asset_class is AssetClass.FOREX or self.asset_class is AssetClass.METAL:
            return (self.base_currency, self.quote_currency)
        return (self.quote_currency,)

    def lots_to_units(self, lots: float) -> float:
        return lots * self.contract_size

    def units_to_lots(self, units: float) -> float:
        return units / self.contract_size


def _fx(symbol: str, vol: float, price: float, tick: float = 0.00001) -> Instrument:
    return Instrument(
        symbol=symbol,
        asset_class=AssetClass.FOREX,
        base_currency=symbol[:3],
        quote_currency=symbol[3:],
        contract_size=100_000,
        min_quantity=1_000,
        quantity_step=1_000,
        tick_size=tick,
        annual_volatility=vol,
        typical_price=price,
        typical_spread=0.00008,
        trades_24h=True,
        description=f"{symbol[:3]}/{symbol[3:]} spot",
    )


CATALOGUE: dict[str, Instrument] = {
    i.symbol: i
    for i in [
        _fx("EURUSD", 0.07, 1.09),
        _fx("GBPUSD", 0.08, 1.27),
        _fx("USDJPY", 0.09, 150.0, 0.001),
        _fx("AUDUSD", 0.10, 0.66),
        _fx("USDCHF", 0.07, 0.88),
        _fx("USDCAD", 0.06, 1.36),
        _fx("NZDUSD", 0.10, 0.61),
        _fx("EURJPY", 0.09, 163.0, 0.001),
        _fx("EURGBP", 0.05, 0.86),
        _fx("GBPJPY", 0.10, 190.0, 0.001),
        Instrument(
            symbol="XAUUSD",
            asset_class=AssetClass.METAL,
            base_currency="XAU",
            contract_size=100,
            min_quantity=0.01,
            quantity_step=0.01,
            tick_size=0.01,
            annual_volatility=0.15,
            typical_price=2300.0,
            typical_spread=0.0001,
            trades_24h=True,
            description="gold spot, troy ounces",
        ),
        Instrument(
            symbol="XAGUSD",
            asset_class=AssetClass.METAL,
            base_currency="XAG",
            contract_size=5000,
            min_quantity=1,
            quantity_step=1,
            tick_size=0.001,
            annual_volatility=0.28,
            typical_price=28.0,
            typical_spread=0.0005,
            trades_24h=True,
            description="silver spot, troy ounces",
        ),
        Instrument(
            symbol="DXY",
            asset_class=AssetClass.INDEX,
            base_currency="USD",
            min_quantity=1,
            tick_size=0.001,
            annual_volatility=0.07,
            typical_price=104.0,
            trades_24h=True,
            description="US dollar index",
        ),
        Instrument(
            symbol="SPX",
            asset_class=AssetClass.INDEX,
            base_currency="USD",
            min_quantity=0.01,
            quantity_step=0.01,
            annual_volatility=0.18,
            typical_price=2500.0,
            typical_spread=0.0001,
            description="S&P 500 index",
        ),
        Instrument(
            symbol="NDX",
            asset_class=AssetClass.INDEX,
            base_currency="USD",
            min_quantity=0.01,
            quantity_step=0.01,
            annual_volatility=0.24,
            typical_price=6000.0,
            typical_spread=0.0001,
            description="NASDAQ composite",
        ),
        Instrument(
            symbol="WTI",
            asset_class=AssetClass.COMMODITY,
            base_currency="USD",
            min_quantity=1,
            annual_volatility=0.35,
            typical_price=60.0,
            typical_spread=0.0003,
            description="WTI crude oil spot",
        ),
        Instrument(
            symbol="VIX",
            asset_class=AssetClass.INDEX,
            base_currency="USD",
            min_quantity=1,
            annual_volatility=0.9,
            typical_price=16.0,
            typical_spread=0.002,
            description="CBOE volatility index",
        ),
        Instrument(
            symbol="BTCUSD",
            asset_class=AssetClass.CRYPTO,
            base_currency="BTC",
            min_quantity=0.0001,
            quantity_step=0.0001,
            tick_size=0.01,
            annual_volatility=0.6,
            typical_price=60_000.0,
            typical_spread=0.0003,
            trades_24h=True,
            description="bitcoin",
        ),
        Instrument(
            symbol="ETHUSD",
            asset_class=AssetClass.CRYPTO,
            base_currency="ETH",
            min_quantity=0.001,
            quantity_step=0.001,
            tick_size=0.01,
            annual_volatility=0.75,
            typical_price=3_000.0,
            typical_spread=0.0004,
            trades_24h=True,
            description="ether",
        ),
        *[
            Instrument(
                symbol=s,
                asset_class=AssetClass.EQUITY,
                base_currency="USD",
                annual_volatility=v,
                typical_price=p,
                typical_spread=0.0002,
                description=d,
            )
            for s, v, p, d in [
                ("AAPL", 0.28, 190.0, "Apple"),
                ("MSFT", 0.26, 400.0, "Microsoft"),
                ("GOOG", 0.30, 150.0, "Alphabet"),
                ("AMZN", 0.33, 180.0, "Amazon"),
                ("NVDA", 0.50, 120.0, "NVIDIA"),
                ("TSLA", 0.60, 200.0, "Tesla"),
                ("SPY", 0.18, 500.0, "SPDR S&P 500 ETF"),
                ("QQQ", 0.23, 430.0, "Invesco QQQ"),
            ]
        ],
    ]
}

ALIASES: dict[str, str] = {
    "GOLD": "XAUUSD",
    "XAU": "XAUUSD",
    "SILVER": "XAGUSD",
    "XAG": "XAGUSD",
    "EUR": "EURUSD",
    "EURO": "EURUSD",
    "CABLE": "GBPUSD",
    "POUND": "GBPUSD",
    "YEN": "USDJPY",
    "AUSSIE": "AUDUSD",
    "LOONIE": "USDCAD",
    "KIWI": "NZDUSD",
    "SWISSY": "USDCHF",
    "BITCOIN": "BTCUSD",
    "BTC": "BTCUSD",
    "ETHEREUM": "ETHUSD",
    "ETH": "ETHUSD",
    "OIL": "WTI",
    "CRUDE": "WTI",
    "SP500": "SPX",
    "S&P": "SPX",
    "S&P500": "SPX",
    "NASDAQ": "NDX",
    "DOLLAR": "DXY",
    "USDX": "DXY",
    "EUR/USD": "EURUSD",
    "GBP/USD": "GBPUSD",
    "USD/JPY": "USDJPY",
    "XAU/USD": "XAUUSD",
    "BTC/USD": "BTCUSD",
    "ETH/USD": "ETHUSD",
    "GOOGL": "GOOG",
    "ALPHABET": "GOOG",
    # Everyday names, so a plain-words memory search ("yellow metal") finds the symbol.
    "YELLOW METAL": "XAUUSD",
    "BULLION": "XAUUSD",
    "SINGLE CURRENCY": "EURUSD",
    "EURO DOLLAR": "EURUSD",
    "FIBER": "EURUSD",
    "STERLING": "GBPUSD",
    "US STOCKS": "SPX",
    "US EQUITIES": "SPX",
    "S&P 500": "SPX",
    "SP 500": "SPX",
    "SPX500": "SPX",
    "US500": "SPX",
    "NASDAQ 100": "NDX",
    "NAS100": "NDX",
    "CRUDE OIL": "WTI",
    "ETHER": "ETHUSD",
    "VOLATILITY INDEX": "VIX",
}


def normalize_symbol(text: str) -> str:
    """Upper-case, trim, and map a known alias (``gold`` -> ``XAUUSD``)."""
    key = text.strip().upper()
    return ALIASES.get(key, key.replace("/", ""))


# Symbols a live data provider has actually served in this process (AMD, SOL/USD...), so
# the desk can size and display them. The built-in catalogue always wins and is never
# changed, and nothing lands here unless a provider returned real data for the symbol.
_PROVIDED: dict[str, Instrument] = {}


def provided_instrument(
    symbol: str, asset_class: AssetClass, source: str, *, quote_currency: str = "USD"
) -> Instrument:
    """The instrument of a symbol a live provider served: a US equity in USD, or a crypto
    pair (``SOL/USD`` -> SOLUSD, base SOL); a catalogue symbol returns its catalogue entry."""
    key = normalize_symbol(symbol)
    known = CATALOGUE.get(key) or _PROVIDED.get(key)
    if known is not None:
        return known
    if asset_class is AssetClass.CRYPTO:
        base, _, quote = symbol.strip().upper().partition("/")
        inst = Instrument(
            symbol=key,
            asset_class=AssetClass.CRYPTO,
            base_currency=base,
            quote_currency=quote or quote_currency,
            min_quantity=0.0001,
            quantity_step=0.0001,
            annual_volatility=0.6,
            typical_spread=0.0003,
            trades_24h=True,
            description=f"{base}/{quote or quote_currency}, as served by {source}",
        )
    elif asset_class is AssetClass.EQUITY:
        inst = Instrument(
            symbol=key,
            asset_class=AssetClass.EQUITY,
            base_currency=quote_currency,
            quote_currency=quote_currency,
            annual_volatility=0.3,
            description=f"{key} (US equity), as served by {source}",
        )
    else:
        raise ValueError(f"only equities and crypto pairs are derived, not {asset_class.value}")
    _PROVIDED[key] = inst
    return inst


def register_instrument(inst: Instrument) -> Instrument:
    """Keep an instrument a source described in full (an MT5 terminal's symbol info) for this
    process; a catalogue symbol keeps its catalogue entry."""
    return CATALOGUE.get(inst.symbol) or _PROVIDED.setdefault(inst.symbol, inst)


def find_instrument(symbol: str) -> Instrument | None:
    key = normalize_symbol(symbol)
    return CATALOGUE.get(key) or _PROVIDED.get(key)


def get_instrument(symbol: str) -> Instrument:
    """The instrument for a symbol or alias; raises UnknownSymbol."""
    inst = find_instrument(symbol)
    if inst is None:
        raise UnknownSymbol(symbol)
    return inst

"""One cost and fill model for both engines: commission on notional per side, a spread and a
slippage that move every fill against the trader.

A buy fills at ``open * (1 + spread/2 + slippage) + (spread_ticks/2 + slippage_ticks) * tick``
and a sell at the mirror image; commission is ``commission * |quantity * fill|`` per side.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

#: A spread for a symbol the catalogue does not know (its own default), as a fraction.
DEFAULT_SPREAD = 0.0002


def paper_defaults() -> tuple[float, float]:
    """(commission, slippage) the paper venue charges by default, as fractions."""
    from tradecrew.config_sections import BrokerSettings

    fields = BrokerSettings.model_fields
    return (
        float(fields["commission_bps"].default) / 10_000.0,
        float(fields["slippage_bps"].default) / 10_000.0,
    )


class Costs(BaseModel):
    """Trading costs as fractions of price (``*_ticks`` add whole ticks of ``tick_size``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    commission: float = Field(0.0, ge=0.0, lt=0.1, description="fraction of notional per side")
    spread: float = Field(0.0, ge=0.0, lt=0.1, description="full bid/ask spread, fraction")
    slippage: float = Field(0.0, ge=0.0, lt=0.1, description="per fill, fraction of price")
    spread_ticks: float = Field(0.0, ge=0.0, description="full spread in ticks")
    slippage_ticks: float = Field(0.0, ge=0.0, description="per fill, in ticks")
    tick_size: float = Field(0.0, ge=0.0, description="price of one tick (needed for ticks)")
    source: str = Field("given", description="where the numbers come from")

    @classmethod
    def from_instrument(cls, symbol: str | None, **overrides: float | None) -> Costs:
        """The defaults for ``symbol``: the catalogue's typical spread and tick, the paper
        venue's commission and slippage; any override that is not None replaces one."""
        from tradecrew.instruments import find_instrument

        inst = find_instrument(symbol) if symbol else None
        commission, slippage = paper_defaults()
        values: dict[str, float | str] = {
            "commission": commission,
            "spread": inst.typical_spread if inst is not None else DEFAULT_SPREAD,
            "slippage": slippage,
            "tick_size": inst.tick_size if inst is not None else 0.0,
            "source": f"instrument catalogue ({inst.symbol})" if inst else "desk defaults",
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    def half_spread_and_slip(self) -> tuple[float, float]:
        """(fractional, absolute) adverse move of one fill."""
        frac = self.spread / 2.0 + self.slippage
        absolute = (self.spread_ticks / 2.0 + self.slippage_ticks) * self.tick_size
        return frac, absolute

    def buy_price(self, price: npt.ArrayLike) -> npt.NDArray[np.float64]:
        frac, absolute = self.half_spread_and_slip()
        return np.asarray(price, dtype=np.float64) * (1.0 + frac) + absolute

    def sell_price(self, price: npt.ArrayLike) -> npt.NDArray[np.float64]:
        frac, absolute = self.half_spread_and_slip()
        return np.asarray(price, dtype=np.float64) * (1.0 - frac) - absolute

    def describe(self) -> str:
        """One line for the CLI: the numbers in basis points and where they come from."""
        parts = [
            f"commission {self.commission * 1e4:.2f} bps/side",
            f"spread {self.spread * 1e4:.2f} bps",
            f"slippage {self.slippage * 1e4:.2f} bps",
        ]
        if self.spread_ticks or self.slippage_ticks:
            parts.append(
                f"+ {self.spread_ticks:g} spread / {self.slippage_ticks:g} slippage ticks "
                f"of {self.tick_size:g}"
            )
        return f"costs: {', '.join(parts)} ({self.source})"

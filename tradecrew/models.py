"""The shared vocabulary of the desk: bars, signals, proposals, decisions, orders, fills.

Every package speaks in these models; the CLI's ``--json`` and the MCP results are their
``model_dump``. Lifecycle tables live here too so that every state change of a proposal or
an order is checked against one table in one place.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def utcnow() -> datetime:
    """The desk's clock: always timezone-aware UTC."""
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """Short, sortable-enough, collision-safe ids such as ``prp_3f2a9c...``."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class Model(BaseModel):
    """Base for boundary models: strict field names, enums serialised by value."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, frozen=False)


# --------------------------------------------------------------------------- enums


class Timeframe(StrEnum):
    M1 = "M1"
    M5 = "M5"
    M15 = "M15"
    M30 = "M30"
    H1 = "H1"
    H4 = "H4"
    D1 = "D1"
    W1 = "W1"
    MN1 = "MN1"

    @property
    def minutes(self) -> int:
        return _TIMEFRAME_MINUTES[self]

    @property
    def pandas_rule(self) -> str:
        """The pandas resample rule for this timeframe."""
        return _TIMEFRAME_RULES[self]

    @classmethod
    def parse(cls, value: str | Timeframe) -> Timeframe:
        """Accept ``H1``, ``h1``, ``1h``, ``60m``, ``1d``, ``daily``... or raise ValueError."""
        if isinstance(value, Timeframe):
            return value
        text = str(value).strip().upper()
        aliases = {
            "1M": "M1",
            "1MIN": "M1",
            "5M": "M5",
            "5MIN": "M5",
            "15M": "M15",
            "15MIN": "M15",
            "30M": "M30",
            "30MIN": "M30",
            "60M": "H1",
            "1H": "H1",
            "4H": "H4",
            "240M": "H4",
            "1D": "D1",
            "D": "D1",
            "DAY": "D1",
            "DAILY": "D1",
            "1W": "W1",
            "W": "W1",
            "WEEKLY": "W1",
            "MN": "MN1",
            "1MO": "MN1",
            "MONTHLY": "MN1",
        }
        text = aliases.get(text, text)
        try:
            return cls(text)
        except ValueError:
            valid = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown timeframe {value!r}; use one of {valid}") from None


_TIMEFRAME_MINUTES = {
    Timeframe.M1: 1,
    Timeframe.M5: 5,
    Timeframe.M15: 15,
    Timeframe.M30: 30,
    Timeframe.H1: 60,
    Timeframe.H4: 240,
    Timeframe.D1: 1440,
    Timeframe.W1: 10080,
    Timeframe.MN1: 43200,
}
_TIMEFRAME_RULES = {
    Timeframe.M1: "1min",
    Timeframe.M5: "5min",
    Timeframe.M15: "15min",
    Timeframe.M30: "30min",
    Timeframe.H1: "1h",
    Timeframe.H4: "4h",
    Timeframe.D1: "1D",
    Timeframe.W1: "W-FRI",
    Timeframe.MN1: "MS",
}


class AssetClass(StrEnum):
    FOREX = "forex"
    METAL = "metal"
    INDEX = "index"
    EQUITY = "equity"
    CRYPTO = "crypto"
    COMMODITY = "commodity"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


class Regime(StrEnum):
    TRENDING_BULL = "trending_bull"
    TRENDING_BEAR = "trending_bear"
    RANGING = "ranging"
    VOLATILE = "volatile"


class Origin(StrEnum):
    CLI = "cli"
    MCP = "mcp"
    CREW = "crew"
    OPTIMIZER = "optimizer"
    SYSTEM = "system"


class AccountMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class TradingState(StrEnum):
    """ACTIVE trades freely; REDUCING only shrinks positions; HALTED submits nothing."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class ApprovalChannel(StrEnum):
    """How a yes (an approval, or a move back to trading) reached the desk. Only
    ``HUMAN_CHANNELS`` are a person's; the values fit the ledger's 8-character column."""

    CLI = "cli"  # the command line, run by a person or by their own scripts
    MCP_CONFIRMED = "mcp_ok"  # an MCP elicitation the user accepted in their client
    MCP_UNCONFIRMED = "mcp_tool"  # a bare MCP tool call: a model may have made it alone
    ALERT_LINK = "alert"  # reserved for a configured alert channel's signed button
    # A signed Telegram button; counts as a person's only where the user configured that
    # chat as their own (``risk.approvals.accepted_channels``), never on the static list.
    TELEGRAM = "telegram"
    AUTO = "auto"  # the paper auto-approver
    LEGACY_MCP = "mcp"  # MCP approvals stored before confirmations were told apart


#: The allow-list of channels a person drives; everything else is a machine's.
HUMAN_CHANNELS: frozenset[ApprovalChannel] = frozenset(
    {ApprovalChannel.CLI, ApprovalChannel.MCP_CONFIRMED, ApprovalChannel.ALERT_LINK}
)


class ProposalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    VETOED = "vetoed"
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    FAILED = "failed"


class OrderStatus(StrEnum):
    """NEW is persisted but not yet claimed for sending; SUBMITTED is claimed, so on its way
    or at the broker with the outcome not yet known (see ``ORDER_TRANSITIONS``)."""

    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class IllegalTransition(ValueError):
    """A proposal or order was asked to move to a state its lifecycle forbids."""


PROPOSAL_TRANSITIONS: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    ProposalStatus.PENDING: frozenset(
        {
            ProposalStatus.APPROVED,
            ProposalStatus.REJECTED,
            ProposalStatus.EXPIRED,
            ProposalStatus.VETOED,
        }
    ),
    ProposalStatus.APPROVED: frozenset(
        {
            ProposalStatus.SUBMITTED,
            ProposalStatus.EXPIRED,
            ProposalStatus.REJECTED,
            ProposalStatus.VETOED,
            ProposalStatus.FAILED,
        }
    ),
    ProposalStatus.SUBMITTED: frozenset(
        {
            ProposalStatus.PARTIALLY_FILLED,
            ProposalStatus.FILLED,
            ProposalStatus.CANCELLED,
            ProposalStatus.FAILED,
        }
    ),
    ProposalStatus.PARTIALLY_FILLED: frozenset(
        {ProposalStatus.PARTIALLY_FILLED, ProposalStatus.FILLED, ProposalStatus.CANCELLED}
    ),
    ProposalStatus.REJECTED: frozenset(),
    ProposalStatus.EXPIRED: frozenset(),
    ProposalStatus.VETOED: frozenset(),
    ProposalStatus.FILLED: frozenset(),
    ProposalStatus.CANCELLED: frozenset(),
    ProposalStatus.FAILED: frozenset(),
}

# An order's life, the one table every change goes through:
# - NEW: stored (with its approval consumed) but not claimed for sending: it has not left and
#   cannot leave under a halted desk. The kill switch closes it (CANCELLED); reconciliation
#   closes it once it is older than the submit grace period and unknown to the broker. A NEW
#   order that was closed is never sent: sending needs its claim (NEW -> SUBMITTED), which
#   happens under the ledger's write lock only while the desk is not halted.
# - SUBMITTED: claimed, so it may be on its way or at the broker. The kill switch cancels it at
#   the broker, or reports it in flight if the broker does not hold it yet (it is cancelled
#   when it arrives: by its sender, else by reconciliation under the halt). Reconciliation
#   adopts the broker's view of it, or closes it after the grace period as never sent; a
#   broker that later reports it alive makes it "contradicted" and the desk REDUCING.
# - ACCEPTED / PARTIALLY_FILLED: working at the broker. FILLED, CANCELLED, REJECTED, EXPIRED:
#   final (a fill arriving after a cancel is still booked; the status is kept).
# External orders (found at the broker, the venue's bracket legs among them) start ACCEPTED.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW: frozenset(
        {
            OrderStatus.SUBMITTED,
            OrderStatus.ACCEPTED,
            OrderStatus.REJECTED,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
        }
    ),
    OrderStatus.SUBMITTED: frozenset(
        {
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.ACCEPTED: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.PARTIALLY_FILLED: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
        }
    ),
    OrderStatus.FILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}

TERMINAL_ORDER_STATUSES = frozenset(s for s, nxt in ORDER_TRANSITIONS.items() if not nxt)
TERMINAL_PROPOSAL_STATUSES = frozenset(s for s, nxt in PROPOSAL_TRANSITIONS.items() if not nxt)


def check_proposal_transition(current: ProposalStatus, new: ProposalStatus) -> None:
    """Raise IllegalTransition unless the proposal lifecycle allows current -> new."""
    if new not in PROPOSAL_TRANSITIONS[current]:
        raise IllegalTransition(f"proposal cannot go from {current.value} to {new.value}")


def check_order_transition(current: OrderStatus, new: OrderStatus) -> None:
    """Raise IllegalTransition unless the order lifecycle allows current -> new."""
    if new not in ORDER_TRANSITIONS[current]:
        raise IllegalTransition(f"order cannot go from {current.value} to {new.value}")


# --------------------------------------------------------------------------- market data


class Bar(Model):
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


class Quote(Model):
    symbol: str
    bid: float
    ask: float
    last: float
    timestamp: datetime
    synthetic: bool = False
    source: str = "sample"

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0


# --------------------------------------------------------------------------- signals


class ComponentSignal(Model):
    """One analyzer's vote in the fusion: score in [-1, 1] (short..long), weight, why."""

    name: str
    score: float = Field(ge=-1.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)
    weight: float = Field(ge=0.0)
    contribution: float = 0.0
    detail: str = ""


class Signal(Model):
    """The fused view on a symbol: which way, how strongly, how sure, and who said so."""

    symbol: str
    timestamp: datetime | None = None
    direction: Direction
    score: float = Field(ge=-1.0, le=1.0)
    strength: float = Field(ge=0.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)
    components: list[ComponentSignal] = Field(default_factory=list)
    vetoes: list[str] = Field(default_factory=list)
    risk_reduction: float = Field(default=1.0, ge=0.0, le=1.0)


# --------------------------------------------------------------------------- trading


def _finite_positive(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number above zero, got {value}")
    return value


class ProposalRequest(Model):
    """What someone (a person, the crew, the optimizer) wants to trade."""

    symbol: str = Field(min_length=1, max_length=32)
    side: Side
    quantity: float = Field(description="units: shares, ounces, base-currency units, coins")
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    rationale: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)
    origin: Origin = Origin.CLI
    reduce_only: bool = False

    @field_validator("symbol")
    @classmethod
    def _upper_symbol(cls, v: str) -> str:
        return v.strip().upper()

    @field_validator("quantity")
    @classmethod
    def _positive_quantity(cls, v: float) -> float:
        return _finite_positive(v, "quantity")  # type: ignore[return-value]

    @field_validator("limit_price", "stop_price", "stop_loss", "take_profit")
    @classmethod
    def _positive_prices(cls, v: float | None, info: Any) -> float | None:
        return _finite_positive(v, info.field_name)

    @model_validator(mode="after")
    def _prices_fit_type(self) -> ProposalRequest:
        needs_limit = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_limit and self.limit_price is None:
            raise ValueError(f"a {self.order_type.value} order needs a limit_price")
        if needs_stop and self.stop_price is None:
            raise ValueError(f"a {self.order_type.value} order needs a stop_price")
        if not needs_limit and self.limit_price is not None:
            raise ValueError(f"a {self.order_type.value} order takes no limit_price")
        if not needs_stop and self.stop_price is not None:
            raise ValueError(f"a {self.order_type.value} order takes no stop_price")
        return self


class Proposal(ProposalRequest):
    """A persisted request, moving through PROPOSAL_TRANSITIONS."""

    id: str = Field(default_factory=lambda: new_id("prp"))
    status: ProposalStatus = ProposalStatus.PENDING
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    status_reason: str = ""


class RiskCheck(Model):
    """One named pre-trade check and what it concluded."""

    name: str
    passed: bool
    reason: str = ""
    max_quantity: float | None = Field(
        default=None, description="the largest quantity this check allows, when it shrinks"
    )


class RiskDecision(Model):
    """The risk engine's verdict on exactly one proposal, bound by ``order_hash``."""

    id: str = Field(default_factory=lambda: new_id("rdc"))
    proposal_id: str
    approved: bool
    requested_quantity: float
    approved_quantity: float = Field(ge=0.0)
    checks: list[RiskCheck] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    order_hash: str
    decided_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    trading_state: TradingState = TradingState.ACTIVE


class Order(Model):
    id: str = Field(default_factory=lambda: new_id("ord"))
    client_order_id: str
    proposal_id: str | None = None
    symbol: str
    side: Side
    quantity: float
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: float = 0.0
    average_fill_price: float | None = None
    broker: str = "paper"
    broker_order_id: str | None = None
    external: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    status_reason: str = ""

    @property
    def remaining_quantity(self) -> float:
        return max(self.quantity - self.filled_quantity, 0.0)


class Fill(Model):
    id: str = Field(default_factory=lambda: new_id("fil"))
    order_id: str
    client_order_id: str
    symbol: str
    side: Side
    quantity: float = Field(gt=0.0)
    price: float = Field(gt=0.0)
    commission: float = 0.0
    timestamp: datetime = Field(default_factory=utcnow)
    broker_fill_id: str | None = None


class Position(Model):
    symbol: str
    quantity: float = Field(description="signed units: positive long, negative short")
    average_price: float
    market_price: float | None = None
    unrealized_pnl: float = 0.0
    realized_pnl: float = 0.0

    @property
    def side(self) -> Direction:
        if self.quantity > 0:
            return Direction.LONG
        if self.quantity < 0:
            return Direction.SHORT
        return Direction.FLAT


class Account(Model):
    account_id: str
    broker: str
    mode: AccountMode = AccountMode.PAPER
    currency: str = "USD"
    cash: float
    equity: float
    buying_power: float
    realized_pnl_today: float = 0.0
    start_of_day_equity: float | None = None
    peak_equity: float | None = None
    timestamp: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- microstructure


class BookLevel(Model):
    price: float = Field(gt=0.0)
    size: float = Field(ge=0.0)


class OrderBookSnapshot(Model):
    """Level-2 book at one instant; bids best (highest) first, asks best (lowest) first."""

    symbol: str
    timestamp: datetime
    bids: list[BookLevel]
    asks: list[BookLevel]
    synthetic: bool = False


class TradePrint(Model):
    """One trade from the tape; ``side`` is the aggressor when the venue reports it."""

    timestamp: datetime
    price: float = Field(gt=0.0)
    size: float = Field(gt=0.0)
    side: Side | None = None

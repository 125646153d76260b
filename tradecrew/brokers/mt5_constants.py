"""The MetaTrader 5 constants the adapter uses, as typed enums.

Values are those of the MQL5 reference (ENUM_TRADE_REQUEST_ACTIONS, ENUM_ORDER_TYPE,
ENUM_ORDER_TYPE_FILLING, ENUM_ORDER_TYPE_TIME, ENUM_ORDER_STATE, ENUM_DEAL_TYPE,
ENUM_DEAL_ENTRY, ENUM_POSITION_TYPE, ENUM_ACCOUNT_TRADE_MODE, SYMBOL_FILLING_* flags and
the trade server return codes), which the ``MetaTrader5`` package exposes under the same
names. Declaring them here lets the adapter and its tests run without that package.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag


class TradeAction(IntEnum):
    DEAL = 1  # TRADE_ACTION_DEAL: market execution
    PENDING = 5  # TRADE_ACTION_PENDING: place a pending order
    SLTP = 6  # TRADE_ACTION_SLTP: modify a position's stop-loss / take-profit
    MODIFY = 7  # TRADE_ACTION_MODIFY: modify a pending order
    REMOVE = 8  # TRADE_ACTION_REMOVE: delete a pending order
    CLOSE_BY = 10  # TRADE_ACTION_CLOSE_BY


class Mt5OrderType(IntEnum):
    BUY = 0
    SELL = 1
    BUY_LIMIT = 2
    SELL_LIMIT = 3
    BUY_STOP = 4
    SELL_STOP = 5
    BUY_STOP_LIMIT = 6
    SELL_STOP_LIMIT = 7
    CLOSE_BY = 8


class Filling(IntEnum):
    FOK = 0  # ORDER_FILLING_FOK
    IOC = 1  # ORDER_FILLING_IOC
    RETURN = 2  # ORDER_FILLING_RETURN


class SymbolFilling(IntFlag):
    """SYMBOL_FILLING_MODE bit flags: which fill policies a symbol allows."""

    FOK = 1
    IOC = 2


class OrderTime(IntEnum):
    GTC = 0  # ORDER_TIME_GTC
    DAY = 1  # ORDER_TIME_DAY
    SPECIFIED = 2
    SPECIFIED_DAY = 3


class OrderState(IntEnum):
    STARTED = 0
    PLACED = 1
    CANCELED = 2
    PARTIAL = 3
    FILLED = 4
    REJECTED = 5
    EXPIRED = 6
    REQUEST_ADD = 7
    REQUEST_MODIFY = 8
    REQUEST_CANCEL = 9


class DealType(IntEnum):
    BUY = 0
    SELL = 1


class DealEntry(IntEnum):
    IN = 0
    OUT = 1
    INOUT = 2
    OUT_BY = 3


class PositionType(IntEnum):
    BUY = 0
    SELL = 1


class AccountTradeMode(IntEnum):
    DEMO = 0
    CONTEST = 1
    REAL = 2


class Retcode(IntEnum):
    """Trade server return codes (TRADE_RETCODE_*)."""

    REQUOTE = 10004
    REJECT = 10006
    CANCEL = 10007
    PLACED = 10008
    DONE = 10009
    DONE_PARTIAL = 10010
    ERROR = 10011
    TIMEOUT = 10012
    INVALID = 10013
    INVALID_VOLUME = 10014
    INVALID_PRICE = 10015
    INVALID_STOPS = 10016
    TRADE_DISABLED = 10017
    MARKET_CLOSED = 10018
    NO_MONEY = 10019
    PRICE_CHANGED = 10020
    PRICE_OFF = 10021
    INVALID_EXPIRATION = 10022
    ORDER_CHANGED = 10023
    TOO_MANY_REQUESTS = 10024
    NO_CHANGES = 10025
    SERVER_DISABLES_AT = 10026
    CLIENT_DISABLES_AT = 10027
    LOCKED = 10028
    FROZEN = 10029
    INVALID_FILL = 10030
    CONNECTION = 10031
    ONLY_REAL = 10032
    LIMIT_ORDERS = 10033
    LIMIT_VOLUME = 10034
    INVALID_ORDER = 10035
    POSITION_CLOSED = 10036
    INVALID_CLOSE_VOLUME = 10038
    CLOSE_ORDER_EXIST = 10039
    LIMIT_POSITIONS = 10040
    REJECT_CANCEL = 10041
    LONG_ONLY = 10042
    SHORT_ONLY = 10043
    CLOSE_ONLY = 10044
    FIFO_CLOSE = 10045
    HEDGE_PROHIBITED = 10046


# The request may have reached the server: look it up before anything else.
UNCERTAIN_RETCODES = frozenset({Retcode.TIMEOUT, Retcode.CONNECTION, Retcode.ERROR})

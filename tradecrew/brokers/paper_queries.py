"""The paper venue's read statements on its book, built once: orders by any id, open
orders (of a symbol), the last order sequence number and fills joined with their orders.

Promises: plain table statements (they never flush a session), ordered by sequence.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from tradecrew.brokers.paper_store import FillRow, OrderRow
from tradecrew.models import TERMINAL_ORDER_STATUSES, OrderStatus

TERMINAL = TERMINAL_ORDER_STATUSES

# Statements of every submission, built once (plain table statements: they never flush).
order_table, fill_table = OrderRow.__table__, FillRow.__table__
BY_CLIENT_ID = select(order_table).where(order_table.c.client_order_id == bindparam("cid"))
BY_ANY_ID = select(order_table).where(
    (order_table.c.broker_order_id == bindparam("key"))
    | (order_table.c.client_order_id == bindparam("key"))
    | (order_table.c.order_id == bindparam("key"))
)
ALL_ORDERS = select(order_table).order_by(order_table.c.seq)
OPEN_ORDERS = ALL_ORDERS.where(
    order_table.c.status.in_([s.value for s in OrderStatus if s not in TERMINAL])
)
OPEN_OF_SYMBOL = OPEN_ORDERS.where(order_table.c.symbol == bindparam("symbol"))
LAST_ORDER_SEQ = select(func.max(order_table.c.seq))
FILLS = (
    select(
        fill_table,
        order_table.c.order_id,
        order_table.c.client_order_id,
    )
    .join(order_table, order_table.c.broker_order_id == fill_table.c.broker_order_id)
    .order_by(fill_table.c.seq)
)
FILLS_OF_ORDER = FILLS.where(order_table.c.client_order_id == bindparam("cid"))

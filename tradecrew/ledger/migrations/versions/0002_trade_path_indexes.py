"""Indexes for the look-ups every trade makes: a broker's recent orders (the order rate
limit), the last recorded risk decision and the peak equity (the drawdown limit), so a
desk's checks stay as fast after a year of trading as on its first day.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_broker_created_at", "orders", ["broker", "created_at"])
    op.create_index("ix_risk_decisions_seq", "risk_decisions", ["seq"])
    op.create_index("ix_account_snapshots_broker_equity", "account_snapshots", ["broker", "equity"])


def downgrade() -> None:
    op.drop_index("ix_account_snapshots_broker_equity", table_name="account_snapshots")
    op.drop_index("ix_risk_decisions_seq", table_name="risk_decisions")
    op.drop_index("ix_orders_broker_created_at", table_name="orders")

"""Initial ledger schema: proposals to fills, snapshots, trading state and the audit chain.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64


def _pk(table: str, column: str = "id") -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(column, name=f"pk_{table}")


def _fk_proposal(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["proposal_id"], ["proposals.id"], name=f"fk_{table}_proposal_id_proposals"
    )


def _prices() -> list[sa.Column]:
    return [
        sa.Column("limit_price", sa.Float(), nullable=True),
        sa.Column("stop_price", sa.Float(), nullable=True),
        sa.Column("stop_loss", sa.Float(), nullable=True),
        sa.Column("take_profit", sa.Float(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        *_prices(),
        sa.Column("time_in_force", sa.String(8), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _pk("proposals"),
    )
    op.create_index("ix_proposals_status", "proposals", ["status"])
    op.create_index("ix_proposals_created_at", "proposals", ["created_at"])

    op.create_table(
        "risk_decisions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("proposal_id", sa.String(40), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("requested_quantity", sa.Float(), nullable=False),
        sa.Column("approved_quantity", sa.Float(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("order_hash", sa.String(128), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("trading_state", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _fk_proposal("risk_decisions"),
        _pk("risk_decisions"),
    )
    op.create_index("ix_risk_decisions_proposal_id", "risk_decisions", ["proposal_id"])

    op.create_table(
        "approvals",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("proposal_id", sa.String(40), nullable=False),
        sa.Column("order_hash", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("approved_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(), nullable=True),
        sa.Column("consumed_by", sa.String(128), nullable=True),
        _fk_proposal("approvals"),
        _pk("approvals"),
    )
    op.create_index("ix_approvals_proposal_id", "approvals", ["proposal_id"])

    op.create_table(
        "orders",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("proposal_id", sa.String(40), nullable=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        *_prices(),
        sa.Column("time_in_force", sa.String(8), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("filled_quantity", sa.Float(), nullable=False),
        sa.Column("average_fill_price", sa.Float(), nullable=True),
        sa.Column("broker", sa.String(32), nullable=False),
        sa.Column("broker_order_id", sa.String(128), nullable=True),
        sa.Column("external", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        _fk_proposal("orders"),
        _pk("orders"),
        sa.UniqueConstraint("client_order_id", name="uq_orders_client_order_id"),
    )
    op.create_index("ix_orders_proposal_id", "orders", ["proposal_id"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_broker_order_id", "orders", ["broker_order_id"])

    op.create_table(
        "fills",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("commission", sa.Float(), nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column("broker_fill_id", sa.String(128), nullable=True),
        sa.Column("fill_key", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_fills_order_id_orders"),
        _pk("fills", "seq"),
        sa.UniqueConstraint("id", name="uq_fills_id"),
        sa.UniqueConstraint("fill_key", name="uq_fills_fill_key"),
        sa.UniqueConstraint("order_id", "broker_fill_id", name="uq_fills_order_id_broker_fill_id"),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])

    op.create_table(
        "position_snapshots",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("broker", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("average_price", sa.Float(), nullable=False),
        sa.Column("market_price", sa.Float(), nullable=True),
        sa.Column("unrealized_pnl", sa.Float(), nullable=False),
        sa.Column("realized_pnl", sa.Float(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        _pk("position_snapshots", "seq"),
    )
    op.create_index("ix_position_snapshots_taken_at", "position_snapshots", ["taken_at"])

    op.create_table(
        "account_snapshots",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("broker", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("cash", sa.Float(), nullable=False),
        sa.Column("equity", sa.Float(), nullable=False),
        sa.Column("buying_power", sa.Float(), nullable=False),
        sa.Column("realized_pnl_today", sa.Float(), nullable=False),
        sa.Column("start_of_day_equity", sa.Float(), nullable=True),
        sa.Column("peak_equity", sa.Float(), nullable=True),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        _pk("account_snapshots", "seq"),
    )
    op.create_index("ix_account_snapshots_broker", "account_snapshots", ["broker"])
    op.create_index("ix_account_snapshots_timestamp", "account_snapshots", ["timestamp"])

    trading_state = op.create_table(
        "trading_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tripped_by", sa.String(128), nullable=True),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        _pk("trading_state"),
    )

    op.create_table(
        "agent_verdicts",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("proposal_id", sa.String(40), nullable=False),
        sa.Column("agent", sa.String(128), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk_proposal("agent_verdicts"),
        _pk("agent_verdicts"),
    )
    op.create_index("ix_agent_verdicts_proposal_id", "agent_verdicts", ["proposal_id"])

    op.create_table(
        "runs",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        _pk("runs"),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(128), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        _pk("audit_log", "seq"),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])

    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        _pk("audit_head"),
    )
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])
    op.bulk_insert(
        trading_state,
        [
            {
                "id": 1,
                "state": "active",
                "reason": "initial state",
                "tripped_by": None,
                "changed_by": "system",
                "changed_at": datetime.now(UTC).replace(tzinfo=None),
            }
        ],
    )
    _append_only_guard()


def _append_only_guard() -> None:
    """Refuse UPDATE and DELETE on audit_log inside the database too (defence in depth)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for table in (
        "audit_head",
        "audit_log",
        "runs",
        "agent_verdicts",
        "trading_state",
        "account_snapshots",
        "position_snapshots",
        "fills",
        "orders",
        "approvals",
        "risk_decisions",
        "proposals",
    ):
        op.drop_table(table)

"""Versioned analysis configuration (fusion weights, components on/off and thresholds) and
champion/challenger experiments with their shadow observations.

Configuration versions and experiments are audited like every other change; observations
are MACed under the audit key (they record what happened, they change nothing).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "config_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_config_versions"),
    )
    op.create_table(
        "ab_experiments",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("champion", sa.Integer(), nullable=False),
        sa.Column("challenger", sa.String(16), nullable=False),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("started_by", sa.String(128), nullable=False),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("stopped_by", sa.String(128), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ab_experiments"),
    )
    op.create_index("ix_ab_experiments_status", "ab_experiments", ["status"])
    op.create_table(
        "ab_observations",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("experiment_id", sa.String(40), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("bar_time", sa.DateTime(), nullable=False),
        sa.Column("champion_position", sa.Float(), nullable=False),
        sa.Column("challenger_position", sa.Float(), nullable=False),
        sa.Column("champion_return", sa.Float(), nullable=False),
        sa.Column("challenger_return", sa.Float(), nullable=False),
        sa.Column("attribution", sa.JSON(), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["ab_experiments.id"],
            name="fk_ab_observations_experiment_id_ab_experiments",
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_ab_observations"),
        sa.UniqueConstraint(
            "experiment_id",
            "symbol",
            "bar_time",
            name="uq_ab_observations_experiment_id_symbol_bar_time",
        ),
    )
    op.create_index("ix_ab_observations_experiment_id", "ab_observations", ["experiment_id"])


def downgrade() -> None:
    op.drop_index("ix_ab_observations_experiment_id", table_name="ab_observations")
    op.drop_table("ab_observations")
    op.drop_index("ix_ab_experiments_status", table_name="ab_experiments")
    op.drop_table("ab_experiments")
    op.drop_table("config_versions")

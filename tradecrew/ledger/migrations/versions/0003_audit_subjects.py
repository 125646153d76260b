"""Audit rows name the proposal they are about (``subject``, indexed), so the order path can
read a proposal's whole audited history in one look-up; account snapshots carry a keyed MAC.

Rows written before this revision keep ``subject`` NULL: their hashes were computed without
it, so filling it in would break them. The order path finds such a proposal's older rows by
entity instead (see ``_integrity``). Snapshots from before it keep ``mac`` NULL and are not
used as risk facts (their content cannot be checked).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN is not an UPDATE: the append-only triggers stay in place.
    op.add_column("audit_log", sa.Column("subject", sa.String(40), nullable=True))
    op.create_index("ix_audit_log_subject", "audit_log", ["subject", "seq"])
    op.add_column("account_snapshots", sa.Column("mac", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account_snapshots") as batch:
        batch.drop_column("mac")
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("subject")

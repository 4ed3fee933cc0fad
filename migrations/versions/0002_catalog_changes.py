"""catalog change log for in-memory ranking indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("offering_id", sa.Integer(), nullable=True),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_catalog_changes_organization_id", "catalog_changes", ["organization_id"])
    op.create_index("ix_catalog_changes_offering_id", "catalog_changes", ["offering_id"])


def downgrade() -> None:
    op.drop_index("ix_catalog_changes_offering_id", table_name="catalog_changes")
    op.drop_index("ix_catalog_changes_organization_id", table_name="catalog_changes")
    op.drop_table("catalog_changes")

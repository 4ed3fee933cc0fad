"""a district's own equity default

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Rankings for a district's schools use `districts.ranking_equity` when a request gives no
`equity`; null means the service default (EQUITY_DEFAULT). It replaces the DISTRICT_EQUITY
setting, which keyed the same value by district name.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("districts") as batch:
        batch.add_column(sa.Column("ranking_equity", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("districts") as batch:
        batch.drop_column("ranking_equity")

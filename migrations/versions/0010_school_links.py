"""school links, district aliases and field sources: one school and one district per real one

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06

- `district_aliases`: other names a district is known by (a directory's "Oakland Unified" for
  "Oakland Unified School District"), so an import naming it that way finds the same district.
- `school_links`: a record of another source (source, external_id) that was linked to an
  existing school (by NCES id, state id or an opt-in fuzzy match), so its refreshes update that
  school instead of adding a second one.
- `locations.lat/lon` nullable: a location an interchange file (HSDS) gives without usable
  coordinates is kept, without a point (nothing spatial reads it; exports give it back).
  Going down deletes such locations (the older schema has no place for them).
- `schools.state_id` indexed: records of another source are linked by it.
- `schools.field_sources`: who last wrote each field ({field: [source, precedence]}; a person's
  edit is ["person", null]), which the import precedence rule reads (docs/imports.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "district_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_district_aliases_name"),
    )
    op.create_index("ix_district_aliases_district_id", "district_aliases", ["district_id"])
    op.create_table(
        "school_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("matched_by", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "external_id", name="uq_school_links_source_ext"),
    )
    op.create_index("ix_school_links_school_id", "school_links", ["school_id"])
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("field_sources", sa.Text(), nullable=True))
        batch.create_index("ix_schools_state_id", ["state_id"])
    with op.batch_alter_table("locations") as batch:
        batch.alter_column("lat", existing_type=sa.Float(), nullable=True)
        batch.alter_column("lon", existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM locations WHERE lat IS NULL OR lon IS NULL")
    with op.batch_alter_table("locations") as batch:
        batch.alter_column("lat", existing_type=sa.Float(), nullable=False)
        batch.alter_column("lon", existing_type=sa.Float(), nullable=False)
    with op.batch_alter_table("schools") as batch:
        batch.drop_index("ix_schools_state_id")
        batch.drop_column("field_sources")
    op.drop_index("ix_school_links_school_id", table_name="school_links")
    op.drop_table("school_links")
    op.drop_index("ix_district_aliases_district_id", table_name="district_aliases")
    op.drop_table("district_aliases")

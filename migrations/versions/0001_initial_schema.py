"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("type_inferred", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("website", sa.String(length=2048), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("verification", sa.String(length=16), nullable=False),
        sa.Column("service_area_kind", sa.String(length=16), nullable=False),
        sa.Column("service_area", sa.Text(), nullable=True),
        sa.Column("service_radius_km", sa.Float(), nullable=True),
        sa.Column("service_region", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "external_id", name="uq_organizations_source_ext"),
    )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organizations_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_organizations_type"), ["type"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_organizations_verification"), ["verification"], unique=False
        )

    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("nces_id", sa.String(length=12), nullable=True),
        sa.Column("state_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("district", sa.String(length=300), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("state", sa.String(length=64), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("location_precision", sa.String(length=16), nullable=False),
        sa.Column("grade_low", sa.Integer(), nullable=False),
        sa.Column("grade_high", sa.Integer(), nullable=False),
        sa.Column("enrollment", sa.Integer(), nullable=True),
        sa.Column("frl_pct", sa.Float(), nullable=True),
        sa.Column("title_i", sa.Boolean(), nullable=True),
        sa.Column("el_pct", sa.Float(), nullable=True),
        sa.Column("swd_pct", sa.Float(), nullable=True),
        sa.Column("chronic_absence_pct", sa.Float(), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("need_index", sa.Float(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nces_id"),
        sa.UniqueConstraint("source", "external_id", name="uq_schools_source_ext"),
    )
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schools_district"), ["district"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_lat"), ["lat"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_lon"), ["lon"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_schools_need_index"), ["need_index"], unique=False)

    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("state", sa.String(length=64), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("precision", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_locations_lat"), ["lat"], unique=False)
        batch_op.create_index(batch_op.f("ix_locations_lon"), ["lon"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_locations_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "needs_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("is_example", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("needs_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_needs_assessments_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "offerings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("grade_low", sa.Integer(), nullable=False),
        sa.Column("grade_high", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column("delivery", sa.Text(), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("cost", sa.String(length=16), nullable=True),
        sa.Column("cost_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("cost_note", sa.String(length=500), nullable=True),
        sa.Column("capacity_schools", sa.Integer(), nullable=True),
        sa.Column("capacity_students", sa.Integer(), nullable=True),
        sa.Column("populations", sa.Text(), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=True),
        sa.Column("active_until", sa.Date(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "external_id", name="uq_offerings_source_ext"),
    )
    with op.batch_alter_table("offerings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offerings_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=120), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("grade_low", sa.Integer(), nullable=True),
        sa.Column("grade_high", sa.Integer(), nullable=True),
        sa.Column("students_affected", sa.Integer(), nullable=True),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column("delivery", sa.Text(), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["assessment_id"], ["needs_assessments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_needs_assessment_id"), ["assessment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_needs_category"), ["category"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _add_postgis_columns()


def downgrade() -> None:
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_category"))
        batch_op.drop_index(batch_op.f("ix_needs_assessment_id"))

    op.drop_table("needs")
    with op.batch_alter_table("offerings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offerings_organization_id"))

    op.drop_table("offerings")
    with op.batch_alter_table("needs_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_assessments_school_id"))

    op.drop_table("needs_assessments")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_locations_organization_id"))
        batch_op.drop_index(batch_op.f("ix_locations_lon"))
        batch_op.drop_index(batch_op.f("ix_locations_lat"))

    op.drop_table("locations")
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schools_need_index"))
        batch_op.drop_index(batch_op.f("ix_schools_name"))
        batch_op.drop_index(batch_op.f("ix_schools_lon"))
        batch_op.drop_index(batch_op.f("ix_schools_lat"))
        batch_op.drop_index(batch_op.f("ix_schools_district"))

    op.drop_table("schools")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_verification"))
        batch_op.drop_index(batch_op.f("ix_organizations_type"))
        batch_op.drop_index(batch_op.f("ix_organizations_name"))

    op.drop_table("organizations")


def _add_postgis_columns() -> None:
    """Geography columns derived from lat/lon and GeoJSON, so writes stay backend-neutral and
    PostGIS answers distance and coverage queries from GiST indexes."""
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for table in ("locations", "schools"):
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN geog geography(Point, 4326) GENERATED ALWAYS AS "
            "(ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_geog ON {table} USING gist (geog)")
    op.execute(
        "ALTER TABLE organizations ADD COLUMN service_area_geog geography(MultiPolygon, 4326) "
        "GENERATED ALWAYS AS (ST_Multi(ST_GeomFromGeoJSON(service_area))::geography) STORED"
    )
    op.execute(
        "CREATE INDEX ix_organizations_service_area_geog ON organizations "
        "USING gist (service_area_geog)"
    )

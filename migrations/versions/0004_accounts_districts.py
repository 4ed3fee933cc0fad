"""districts as tenants, accounts, API keys, verification and the audit log

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Existing `schools.district` names become rows of `districts` and every school is linked to
the row of its name; the name column stays as the district's name (see models.School).
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("nces_lea_id", sa.String(length=7), nullable=True),
        _now(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("slug"),
        sa.UniqueConstraint("nces_lea_id"),
    )
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_schools_district_id", "districts", ["district_id"], ["id"], ondelete="RESTRICT"
        )
        batch.create_index("ix_schools_district_id", ["district_id"])
    _districts_from_school_names()

    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("verification_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("verified_by_district_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            "fk_organizations_verified_by_district_id",
            "districts",
            ["verified_by_district_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("created_by_user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("created_by_key_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch.create_index("ix_import_jobs_district_id", ["district_id"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _now(),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_index("ix_users_district_id", "users", ["district_id"])
    op.create_table(
        "user_schools",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "school_id"),
    )
    op.create_index("ix_user_schools_school_id", "user_schools", ["school_id"])
    op.create_table(
        "user_organizations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "organization_id"),
    )
    op.create_index(
        "ix_user_organizations_organization_id", "user_organizations", ["organization_id"]
    )
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _now(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_access_tokens_user_id", "access_tokens", ["user_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("allowed_origins", sa.Text(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        _now(),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("prefix"),
    )
    op.create_index("ix_api_keys_district_id", "api_keys", ["district_id"])
    op.create_index("ix_api_keys_revoked_at", "api_keys", ["revoked_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_key_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("at", "actor_user_id", "district_id", "resource_type"):
        op.create_index(f"ix_audit_events_{column}", "audit_events", [column])


def downgrade() -> None:
    for column in ("at", "actor_user_id", "district_id", "resource_type"):
        op.drop_index(f"ix_audit_events_{column}", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_api_keys_revoked_at", table_name="api_keys")
    op.drop_index("ix_api_keys_district_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_index("ix_access_tokens_user_id", table_name="access_tokens")
    op.drop_table("access_tokens")
    op.drop_index("ix_user_organizations_organization_id", table_name="user_organizations")
    op.drop_table("user_organizations")
    op.drop_index("ix_user_schools_school_id", table_name="user_schools")
    op.drop_table("user_schools")
    op.drop_index("ix_users_district_id", table_name="users")
    op.drop_table("users")
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_index("ix_import_jobs_district_id")
        batch.drop_column("district_id")
        batch.drop_column("created_by_key_id")
        batch.drop_column("created_by_user_id")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_constraint("fk_organizations_verified_by_district_id", type_="foreignkey")
        batch.drop_column("verified_at")
        batch.drop_column("verified_by_district_id")
        batch.drop_column("verification_reason")
    # schools.district still holds each school's district name, so nothing is lost here.
    with op.batch_alter_table("schools") as batch:
        batch.drop_index("ix_schools_district_id")
        batch.drop_constraint("fk_schools_district_id", type_="foreignkey")
        batch.drop_column("district_id")
    op.drop_table("districts")


def _districts_from_school_names() -> None:
    """One district per distinct school district name, then each school linked to its row."""
    bind = op.get_bind()
    names = [
        row[0]
        for row in bind.execute(
            sa.text(
                "SELECT DISTINCT district FROM schools WHERE district IS NOT NULL "
                "AND district <> '' ORDER BY district"
            )
        )
    ]
    districts = sa.table(
        "districts", sa.column("id", sa.Integer), sa.column("name"), sa.column("slug")
    )
    taken: set[str] = set()
    for name in names:
        bind.execute(sa.insert(districts).values(name=name, slug=_slug(name, taken)))
    bind.execute(
        sa.text(
            "UPDATE schools SET district_id = "
            "(SELECT districts.id FROM districts WHERE districts.name = schools.district) "
            "WHERE district IS NOT NULL"
        )
    )


def _slug(name: str, taken: set[str]) -> str:
    """Lower-case ASCII words joined by '-', made unique with a counter (frozen copy of
    app.services.districts.slug_for, so this migration never changes with the app)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:90] or "district"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug

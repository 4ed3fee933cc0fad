"""serving versions

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-06

Workers cache schools with their latest needs and the principals of bearer tokens; one row per
kind holds a random stamp that triggers rewrite in every writer's transaction (ORM, Core bulk
inserts, imports, raw SQL alike), so a worker compares one read against its cached stamp.
Random rather than counted: a stamp never comes back after the rows are emptied.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = {
    "schools": ("schools", "needs_assessments", "needs", "districts"),
    "accounts": ("users", "user_schools", "user_organizations", "access_tokens", "api_keys"),
}


def upgrade() -> None:
    op.create_table(
        "serving_versions",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(
            """
            CREATE FUNCTION bump_serving_version() RETURNS trigger AS $$
            BEGIN
              INSERT INTO serving_versions (name, version)
              VALUES (TG_ARGV[0], floor(random() * 9e15)::bigint)
              ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version;
              RETURN NULL;
            END $$ LANGUAGE plpgsql
            """
        )
    for kind, tables in WATCHED.items():
        op.execute(f"INSERT INTO serving_versions (name, version) VALUES ('{kind}', 1)")
        for table in tables:
            if postgres:
                op.execute(
                    f"CREATE TRIGGER serving_{table} AFTER INSERT OR UPDATE OR DELETE OR "
                    f"TRUNCATE ON {table} FOR EACH STATEMENT "
                    f"EXECUTE FUNCTION bump_serving_version('{kind}')"
                )
                continue
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER serving_{table}_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN INSERT OR REPLACE INTO serving_versions (name, version) "
                    f"VALUES ('{kind}', abs(random())); END"
                )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for tables in WATCHED.values():
        for table in tables:
            if postgres:
                op.execute(f"DROP TRIGGER serving_{table} ON {table}")
                continue
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER serving_{table}_{event}")
    if postgres:
        op.execute("DROP FUNCTION bump_serving_version()")
    op.drop_table("serving_versions")

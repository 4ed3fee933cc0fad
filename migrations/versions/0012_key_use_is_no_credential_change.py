"""an API key's last use is no credential change

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

A key's first use each minute writes `api_keys.last_used_at`; through the 0011 triggers that
moved the "accounts" serving version and emptied every worker's cached token principals. The
update trigger on api_keys now fires only when a column other than last_used_at is written
(`UPDATE OF`, a column list both backends read from the statement's SET list). A column added
to api_keys later must be added to KEY_COLUMNS to be watched.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_COLUMNS = (
    "id, name, prefix, secret_hash, district_id, scope, allowed_origins, created_by_user_id, "
    "created_at, revoked_at"
)
_SQLITE_BODY = (
    "BEGIN INSERT OR REPLACE INTO serving_versions (name, version) "
    "VALUES ('accounts', abs(random())); END"
)


def upgrade() -> None:
    _update_trigger(f"UPDATE OF {KEY_COLUMNS}")


def downgrade() -> None:
    _update_trigger("UPDATE")


def _update_trigger(update: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER serving_api_keys ON api_keys")
        op.execute(
            f"CREATE TRIGGER serving_api_keys AFTER INSERT OR {update} OR DELETE OR TRUNCATE "
            "ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION bump_serving_version('accounts')"
        )
        return
    op.execute("DROP TRIGGER serving_api_keys_update")
    op.execute(f"CREATE TRIGGER serving_api_keys_update AFTER {update} ON api_keys {_SQLITE_BODY}")

"""partnerships: terms, SMART goals and readings, agreements and signatures, check-ins, reviews

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

Agreement documents (PDF) live in `agreements.document` on both backends (BYTEA / BLOB).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _partnership_fk() -> sa.Column:
    return sa.Column("partnership_id", sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "partnerships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.String(length=16), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("need_categories", sa.Text(), nullable=True),
        sa.Column("needs_assessment_id", sa.Integer(), nullable=True),
        sa.Column("students_served", sa.Integer(), nullable=True),
        sa.Column("grade_low", sa.Integer(), nullable=True),
        sa.Column("grade_high", sa.Integer(), nullable=True),
        sa.Column("schedule", sa.Text(), nullable=True),
        sa.Column("shares_student_data", sa.Boolean(), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("renewal_of_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("source_ref", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["needs_assessment_id"], ["needs_assessments.id"], ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["renewal_of_id"], ["partnerships.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_ref", name="uq_partnerships_source_ref"),
    )
    for column in ("school_id", "organization_id", "status", "renewal_of_id"):
        op.create_index(f"ix_partnerships_{column}", "partnerships", [column])
    op.create_table(
        "partnership_offerings",
        _partnership_fk(),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnerships.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("partnership_id", "offering_id"),
    )
    op.create_table(
        "partnership_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        _partnership_fk(),
        sa.Column("category", sa.String(length=120), nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("indicator_name", sa.String(length=200), nullable=True),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("baseline_value", sa.Float(), nullable=False),
        sa.Column("baseline_date", sa.Date(), nullable=False),
        sa.Column("target_value", sa.Float(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnerships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_partnership_goals_partnership_id", "partnership_goals", ["partnership_id"])
    op.create_table(
        "goal_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["goal_id"], ["partnership_goals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_goal_readings_goal_id", "goal_readings", ["goal_id"])
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        _partnership_fk(),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("school_responsibilities", sa.Text(), nullable=True),
        sa.Column("organization_responsibilities", sa.Text(), nullable=True),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=True),
        sa.Column("data_elements", sa.Text(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("retention", sa.Text(), nullable=True),
        sa.Column("destruction_date", sa.Date(), nullable=True),
        sa.Column("document_name", sa.String(length=255), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("document_size", sa.Integer(), nullable=True),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnerships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agreements_partnership_id", "agreements", ["partnership_id"])
    op.create_table(
        "agreement_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agreement_id", "party", name="uq_agreement_signatures_party"),
    )
    op.create_index(
        "ix_agreement_signatures_agreement_id", "agreement_signatures", ["agreement_id"]
    )
    op.create_table(
        "check_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        _partnership_fk(),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("participants", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("next_step", sa.Text(), nullable=True),
        sa.Column("next_step_due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnerships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_check_ins_partnership_id", "check_ins", ["partnership_id"])
    op.create_table(
        "partnership_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        _partnership_fk(),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnerships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partnership_id", "party", name="uq_partnership_reviews_party"),
    )
    op.create_index(
        "ix_partnership_reviews_partnership_id", "partnership_reviews", ["partnership_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_partnership_reviews_partnership_id", table_name="partnership_reviews")
    op.drop_table("partnership_reviews")
    op.drop_index("ix_check_ins_partnership_id", table_name="check_ins")
    op.drop_table("check_ins")
    op.drop_index("ix_agreement_signatures_agreement_id", table_name="agreement_signatures")
    op.drop_table("agreement_signatures")
    op.drop_index("ix_agreements_partnership_id", table_name="agreements")
    op.drop_table("agreements")
    op.drop_index("ix_goal_readings_goal_id", table_name="goal_readings")
    op.drop_table("goal_readings")
    op.drop_index("ix_partnership_goals_partnership_id", table_name="partnership_goals")
    op.drop_table("partnership_goals")
    op.drop_table("partnership_offerings")
    for column in ("renewal_of_id", "status", "organization_id", "school_id"):
        op.drop_index(f"ix_partnerships_{column}", table_name="partnerships")
    op.drop_table("partnerships")

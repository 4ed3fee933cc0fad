"""SQLAlchemy models. Points are lat/lon columns on both backends; on PostGIS the migration adds
generated geography columns (`geog`, `service_area_geog`) with GiST indexes for pushdown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.types import JSONText, TagList, UTCDateTime


class Base(DeclarativeBase):
    pass


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, server_default=func.now(), onupdate=func.now()
    )


class District(Base):
    """A school district: the tenant that owns schools, their needs assessments and API keys."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    nces_lea_id: Mapped[str | None] = mapped_column(String(7), unique=True)
    # Equity strength of rankings for the district's schools when a request gives none;
    # null: the service default (Settings.equity_default).
    ranking_equity: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class DistrictAlias(Base):
    """Another name a district is known by ("Oakland Unified" for "Oakland Unified School
    District"): an import naming it so finds the same district (services.districts)."""

    __tablename__ = "district_aliases"
    __table_args__ = (UniqueConstraint("name", name="uq_district_aliases_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))


class Organization(Timestamped, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_organizations_source_ext"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300), index=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    type_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(2048))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(TagList, default=list)
    verification: Mapped[str] = mapped_column(String(16), default="unverified", index=True)
    verification_reason: Mapped[str | None] = mapped_column(Text)
    verified_by_district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="SET NULL")
    )
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    service_area_kind: Mapped[str] = mapped_column(String(16), default="none")
    service_area: Mapped[dict | None] = mapped_column(JSONText)
    service_radius_km: Mapped[float | None] = mapped_column(Float)
    service_region: Mapped[str | None] = mapped_column(String(200))

    locations: Mapped[list[Location]] = relationship(
        back_populates="organization",
        cascade="all, delete-orphan",
        order_by="Location.id",
        lazy="selectin",
    )
    offerings: Mapped[list[Offering]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", passive_deletes=True
    )


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str | None] = mapped_column(String(64))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    # None: a location received without usable coordinates (HSDS), kept without a point;
    # nothing spatial reads it (every spatial query filters on lat).
    lat: Mapped[float | None] = mapped_column(Float, index=True)
    lon: Mapped[float | None] = mapped_column(Float, index=True)
    precision: Mapped[str] = mapped_column(String(16), default="exact")
    note: Mapped[str | None] = mapped_column(Text)

    organization: Mapped[Organization] = relationship(back_populates="locations")


class Offering(Timestamped, Base):
    __tablename__ = "offerings"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_offerings_source_ext"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(TagList)
    grade_low: Mapped[int] = mapped_column(Integer)
    grade_high: Mapped[int] = mapped_column(Integer)
    schedule: Mapped[list[str]] = mapped_column(TagList, default=list)
    delivery: Mapped[list[str]] = mapped_column(TagList, default=list)
    languages: Mapped[list[str]] = mapped_column(TagList, default=list)
    cost: Mapped[str | None] = mapped_column(String(16))
    cost_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    cost_note: Mapped[str | None] = mapped_column(String(500))
    capacity_schools: Mapped[int | None] = mapped_column(Integer)
    capacity_students: Mapped[int | None] = mapped_column(Integer)
    populations: Mapped[list[str]] = mapped_column(TagList, default=list)
    active_from: Mapped[dt.date | None] = mapped_column(Date)
    active_until: Mapped[dt.date | None] = mapped_column(Date)

    organization: Mapped[Organization] = relationship(back_populates="offerings", lazy="joined")


class School(Timestamped, Base):
    __tablename__ = "schools"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_schools_source_ext"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(200))
    nces_id: Mapped[str | None] = mapped_column(String(12), unique=True)
    state_id: Mapped[str | None] = mapped_column(String(32), index=True)  # links (imports)
    name: Mapped[str] = mapped_column(String(300), index=True)
    # The district's name, copied by the one function that assigns a district
    # (services.districts.assign) so name filters and gap queries need no join.
    district: Mapped[str | None] = mapped_column(String(300), index=True)
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"), index=True
    )
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str | None] = mapped_column(String(64))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    lat: Mapped[float] = mapped_column(Float, index=True)
    lon: Mapped[float] = mapped_column(Float, index=True)
    location_precision: Mapped[str] = mapped_column(String(16), default="exact")
    grade_low: Mapped[int] = mapped_column(Integer)
    grade_high: Mapped[int] = mapped_column(Integer)
    enrollment: Mapped[int | None] = mapped_column(Integer)
    frl_pct: Mapped[float | None] = mapped_column(Float)
    title_i: Mapped[bool | None] = mapped_column(Boolean)
    el_pct: Mapped[float | None] = mapped_column(Float)
    swd_pct: Mapped[float | None] = mapped_column(Float)
    chronic_absence_pct: Mapped[float | None] = mapped_column(Float)
    locale: Mapped[str | None] = mapped_column(String(16))
    languages: Mapped[list[str]] = mapped_column(TagList, default=list)
    need_index: Mapped[float | None] = mapped_column(Float, index=True)
    # Who last wrote each field: {field: [source, precedence]}, ["person", None] for an edit
    # through the API or pages; read by the import precedence rule (docs/imports.md).
    field_sources: Mapped[dict | None] = mapped_column(JSONText)

    assessments: Mapped[list[NeedsAssessment]] = relationship(
        back_populates="school", cascade="all, delete-orphan", passive_deletes=True
    )


class SchoolLink(Base):
    """A record of another source linked to an existing school (by NCES id, state id or an
    opt-in fuzzy match): its refreshes update that school instead of adding a second one."""

    __tablename__ = "school_links"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_school_links_source_ext"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(200))
    matched_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class NeedsAssessment(Base):
    __tablename__ = "needs_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    is_example: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())

    school: Mapped[School] = relationship(back_populates="assessments")
    needs: Mapped[list[Need]] = relationship(
        back_populates="assessment",
        cascade="all, delete-orphan",
        order_by="(Need.priority, Need.id)",
        lazy="selectin",
    )


class Need(Base):
    __tablename__ = "needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("needs_assessments.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(120), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    grade_low: Mapped[int | None] = mapped_column(Integer)
    grade_high: Mapped[int | None] = mapped_column(Integer)
    students_affected: Mapped[int | None] = mapped_column(Integer)
    schedule: Mapped[list[str]] = mapped_column(TagList, default=list)
    delivery: Mapped[list[str]] = mapped_column(TagList, default=list)
    languages: Mapped[list[str]] = mapped_column(TagList, default=list)
    notes: Mapped[str | None] = mapped_column(Text)

    assessment: Mapped[NeedsAssessment] = relationship(back_populates="needs")


class CatalogChange(Base):
    """One row per write to an offering or organization, in the writer's transaction, so every
    worker's in-memory ranking index can catch up with exactly what changed."""

    __tablename__ = "catalog_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(Integer, index=True)
    offering_id: Mapped[int | None] = mapped_column(Integer, index=True)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class ServingVersion(Base):
    """A random stamp per kind of record workers cache ('schools': schools, assessments, needs,
    districts; 'accounts': users, grants, tokens, keys), rewritten by database triggers in
    every writer's transaction (migration 0011), so one read tells a worker whether its cached
    copies still hold."""

    __tablename__ = "serving_versions"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class ImportJob(Base):
    """An upload through POST /v1/imports: what was asked, where it stands, and its report."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_invalid: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    report: Mapped[dict | None] = mapped_column(JSONText)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)
    created_by_key_id: Mapped[int | None] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(Integer, index=True)


class User(Base):
    """A person who logs in. `role` is one of app.auth.principal.USER_ROLES; district admins
    have a district, school staff their schools, organization members their organizations."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class UserSchool(Base):
    __tablename__ = "user_schools"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    school_id: Mapped[int] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class UserOrganization(Base):
    __tablename__ = "user_organizations"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AccessToken(Base):
    """A log-in: only the SHA-256 of the bearer token is kept."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """A district portal's key: found by its public prefix, checked against the SHA-256 of its
    secret; the plaintext is shown once, when it is created."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(16))
    allowed_origins: Mapped[list[str]] = mapped_column(JSONText, default=list)
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)


class AuditEvent(Base):
    """Who changed what and when; written in the transaction of the write it records. Holds
    field names only, never values, so no secret or password can land here."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now(), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_key_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(32))
    district_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(32))
    resource_type: Mapped[str] = mapped_column(String(32), index=True)
    resource_id: Mapped[str | None] = mapped_column(String(64))
    fields: Mapped[list[str]] = mapped_column(JSONText, default=list)
    request_id: Mapped[str | None] = mapped_column(String(64))


class IdempotentRequest(Base):
    """A POST sent with an Idempotency-Key and its first answer, replayed to retries of the
    same request by the same caller until it expires (IDEMPOTENCY_TTL_HOURS)."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[list | None] = mapped_column(JSONText)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


partnership_offerings = Table(
    "partnership_offerings",
    Base.metadata,
    Column("partnership_id", ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True),
    Column("offering_id", ForeignKey("offerings.id", ondelete="CASCADE"), primary_key=True),
)


class Partnership(Timestamped, Base):
    """A school x organization relationship over one term, from proposal to its end; a renewal
    is a new row pointing at the term it renews."""

    __tablename__ = "partnerships"
    __table_args__ = (UniqueConstraint("source", "source_ref", name="uq_partnerships_source_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    proposed_by: Mapped[str] = mapped_column(String(16))
    term_start: Mapped[dt.date] = mapped_column(Date)
    term_end: Mapped[dt.date | None] = mapped_column(Date)
    need_categories: Mapped[list[str]] = mapped_column(JSONText, default=list)
    needs_assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("needs_assessments.id", ondelete="SET NULL")
    )
    students_served: Mapped[int | None] = mapped_column(Integer)
    grade_low: Mapped[int | None] = mapped_column(Integer)
    grade_high: Mapped[int | None] = mapped_column(Integer)
    schedule: Mapped[str | None] = mapped_column(Text)
    shares_student_data: Mapped[bool] = mapped_column(Boolean, default=False)
    status_reason: Mapped[str | None] = mapped_column(Text)
    renewal_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str | None] = mapped_column(String(64))
    source_ref: Mapped[str | None] = mapped_column(String(200))

    offerings: Mapped[list[Offering]] = relationship(
        secondary=partnership_offerings, lazy="selectin", order_by="Offering.id"
    )


class PartnershipGoal(Base):
    """A SMART goal: an indicator with a unit, moved from a baseline to a target by a date."""

    __tablename__ = "partnership_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(120))
    indicator: Mapped[str] = mapped_column(String(32))
    indicator_name: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(64))
    baseline_value: Mapped[float] = mapped_column(Float)
    baseline_date: Mapped[dt.date] = mapped_column(Date)
    target_value: Mapped[float] = mapped_column(Float)
    target_date: Mapped[dt.date] = mapped_column(Date)
    owner: Mapped[str] = mapped_column(Text)


class GoalReading(Base):
    """One observation of a goal's indicator."""

    __tablename__ = "goal_readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(
        ForeignKey("partnership_goals.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[float] = mapped_column(Float)
    observed_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class Agreement(Base):
    """An MOU or a data-sharing agreement (DSA) of a partnership, with its optional PDF kept in
    the database (both backends) beside its SHA-256."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(Text)
    school_responsibilities: Mapped[list[str]] = mapped_column(JSONText, default=list)
    organization_responsibilities: Mapped[list[str]] = mapped_column(JSONText, default=list)
    term_start: Mapped[dt.date] = mapped_column(Date)
    term_end: Mapped[dt.date] = mapped_column(Date)
    renewal_date: Mapped[dt.date | None] = mapped_column(Date)
    data_elements: Mapped[list[str] | None] = mapped_column(JSONText)
    purpose: Mapped[str | None] = mapped_column(Text)
    retention: Mapped[str | None] = mapped_column(Text)
    destruction_date: Mapped[dt.date | None] = mapped_column(Date)
    document_name: Mapped[str | None] = mapped_column(String(255))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document_size: Mapped[int | None] = mapped_column(Integer)
    document: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    signatures: Mapped[list[AgreementSignature]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="AgreementSignature.id",
        lazy="selectin",
    )


class AgreementSignature(Base):
    __tablename__ = "agreement_signatures"
    __table_args__ = (
        UniqueConstraint("agreement_id", "party", name="uq_agreement_signatures_party"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    party: Mapped[str] = mapped_column(String(16))
    signer_name: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[dt.date] = mapped_column(Date)


class CheckIn(Base):
    """One entry of a partnership's communication log."""

    __tablename__ = "check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    participants: Mapped[list[str]] = mapped_column(JSONText, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)
    next_step_due: Mapped[dt.date | None] = mapped_column(Date)


class PartnershipReview(Base):
    """One side's end-of-term review: satisfaction and what it wants next."""

    __tablename__ = "partnership_reviews"
    __table_args__ = (
        UniqueConstraint("partnership_id", "party", name="uq_partnership_reviews_party"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    party: Mapped[str] = mapped_column(String(16))
    satisfaction: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(8))
    comments: Mapped[str | None] = mapped_column(Text)

"""The caller of a request, as the permission checks see it."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.filters import Visibility

ADMIN = "admin"
DISTRICT_ADMIN = "district_admin"
SCHOOL_STAFF = "school_staff"
ORG_MEMBER = "org_member"
ANONYMOUS = "anonymous"
KEY_READ = "key_read"
KEY_READ_WRITE = "key_read_write"

USER_ROLES = (ADMIN, DISTRICT_ADMIN, SCHOOL_STAFF, ORG_MEMBER)
KEY_SCOPES = {"read": KEY_READ, "read_write": KEY_READ_WRITE}
# Every column of the permission matrix, in the order docs/permissions.md shows them.
ROLES = (ANONYMOUS, ORG_MEMBER, SCHOOL_STAFF, DISTRICT_ADMIN, KEY_READ, KEY_READ_WRITE, ADMIN)


@dataclass(frozen=True)
class Principal:
    """A logged-in user, a district's API key, or nobody. Grants are read with the token (a
    worker keeps a token's principal until an accounts write or a few seconds pass)."""

    role: str = ANONYMOUS
    user_id: int | None = None
    key_id: int | None = None
    email: str | None = None
    district_id: int | None = None
    school_ids: frozenset[int] = field(default_factory=frozenset)
    organization_ids: frozenset[int] = field(default_factory=frozenset)
    token_id: int | None = None
    request_id: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role == ANONYMOUS

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_key(self) -> bool:
        return self.key_id is not None

    def reads_district(self, district_id: int | None) -> bool:
        """District admins and their district's keys read everything of their district."""
        if self.is_admin:
            return True
        return (
            self.role in (DISTRICT_ADMIN, KEY_READ, KEY_READ_WRITE)
            and district_id is not None
            and district_id == self.district_id
        )

    def manages_district(self, district_id: int | None) -> bool:
        """District admins and their district's read-write keys change their district."""
        if self.is_admin:
            return True
        return (
            self.role in (DISTRICT_ADMIN, KEY_READ_WRITE)
            and district_id is not None
            and district_id == self.district_id
        )

    def reads_school(self, school_id: int, district_id: int | None) -> bool:
        """A school's needs: its own staff, its district's admins and keys, the operator."""
        return self.reads_district(district_id) or (
            self.role == SCHOOL_STAFF and school_id in self.school_ids
        )

    def edits_school(self, school_id: int, district_id: int | None) -> bool:
        return self.manages_district(district_id) or (
            self.role == SCHOOL_STAFF and school_id in self.school_ids
        )

    def member_of(self, organization_id: int) -> bool:
        return self.role == ORG_MEMBER and organization_id in self.organization_ids

    def edits_organization(self, organization_id: int) -> bool:
        return self.is_admin or self.member_of(organization_id)

    @property
    def sees_unverified(self) -> bool:
        """District admins vet new organizations, so they see all of them (as the operator)."""
        return self.role in (ADMIN, DISTRICT_ADMIN, KEY_READ, KEY_READ_WRITE)

    def sees_organization(self, organization_id: int, verification: str) -> bool:
        return verification == "verified" or self.sees_unverified or self.member_of(organization_id)

    def sees_contacts(self, organization_id: int) -> bool:
        """Contact details are for district people and the organization's own members."""
        return self.role in (
            ADMIN,
            DISTRICT_ADMIN,
            KEY_READ,
            KEY_READ_WRITE,
            SCHOOL_STAFF,
        ) or self.member_of(organization_id)


NOBODY = Principal()
# The command line and in-process tools (demo, benchmarks): the platform operator.
OPERATOR = Principal(role=ADMIN, request_id="cli")


def visibility_of(principal: Principal) -> Visibility:
    """What a caller may see of the organization directory."""
    if principal.sees_unverified:
        return Visibility()
    return Visibility(everything=False, own_organizations=principal.organization_ids)

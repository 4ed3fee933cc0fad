"""`partnermap users …`, `partnermap keys …`, `partnermap districts …`, `partnermap permissions`.

    partnermap users create --email E --role R [--district D] [--school ID …]
                            [--organization ID …] [--password-stdin]
    partnermap users list
    partnermap users disable USER              its tokens and the API keys it made stop at once
    partnermap users enable USER
    partnermap keys create --district D --scope read|read_write [--origin URL …] [--name N]
    partnermap keys revoke KEY_ID
    partnermap keys list [--district D]
    partnermap districts create NAME [--slug S] [--nces-lea-id ID] [--equity E]
    partnermap districts list
    partnermap permissions                     the permission matrix as Markdown

A district (D) is named by id, slug, exact name or NCES id; a user (USER) by id or email.
Passwords are read from standard input (--password-stdin) or prompted for; they never appear on
the command line, where other users of the machine could read them. A key is printed once,
when it is made.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from app.auth.principal import OPERATOR, USER_ROLES
from app.db import Database


def add_commands(commands: Any) -> None:
    users = commands.add_parser("users", help="accounts: create and list users")
    which = users.add_subparsers(dest="users_command", required=True)
    create = which.add_parser("create", help="add a user (the password is read, never an arg)")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=USER_ROLES)
    create.add_argument("--district", help="district admins and school staff: the district")
    create.add_argument("--school", type=int, action="append", default=[], help="school staff")
    create.add_argument(
        "--organization", type=int, action="append", default=[], help="organization members"
    )
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(run=_create_user)
    which.add_parser("list", help="every user with role and grants").set_defaults(run=_list_users)
    for name, active, text in (
        ("disable", False, "disable a user: their tokens and the API keys they made stop at once"),
        ("enable", True, "let a disabled user log in again"),
    ):
        command = which.add_parser(name, help=text)
        command.add_argument("user", help="id or email")
        command.set_defaults(run=_set_active, active=active)

    keys = commands.add_parser("keys", help="district portals' API keys")
    which = keys.add_subparsers(dest="keys_command", required=True)
    create = which.add_parser("create", help="make a key (printed once)")
    create.add_argument("--district", required=True)
    create.add_argument("--scope", required=True, choices=("read", "read_write"))
    create.add_argument(
        "--origin", action="append", default=[], help="browser origin it may be used from"
    )
    create.add_argument("--name", default="portal")
    create.set_defaults(run=_create_key)
    revoke = which.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id", type=int)
    revoke.set_defaults(run=_revoke_key)
    listing = which.add_parser("list", help="keys (never the keys themselves)")
    listing.add_argument("--district")
    listing.set_defaults(run=_list_keys)

    districts = commands.add_parser("districts", help="districts (tenants)")
    which = districts.add_subparsers(dest="districts_command", required=True)
    create = which.add_parser("create", help="add a district")
    create.add_argument("name")
    create.add_argument("--slug")
    create.add_argument("--nces-lea-id")
    create.add_argument(
        "--equity",
        type=float,
        help="equity strength (0..1) of rankings for the district's schools when a request "
        "gives none; default: EQUITY_DEFAULT",
    )
    create.set_defaults(run=_create_district)
    which.add_parser("list", help="every district").set_defaults(run=_list_districts)

    commands.add_parser(
        "permissions", help="print the permission matrix (docs/permissions.md)"
    ).set_defaults(run=_permissions)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def _create_user(args: argparse.Namespace, database: Database) -> int:
    from app.services import accounts, districts

    password = _password(args)
    with database.session() as session:
        district_id = (
            districts.find(session=session, ref=args.district).id if args.district else None
        )
        user = accounts.create_user(
            session=session,
            principal=OPERATOR,
            email=args.email,
            password=password,
            role=args.role,
            district_id=district_id,
            school_ids=args.school,
            organization_ids=args.organization,
        )
        print(f"user {user.id}: {user.email} ({user.role})")
    return 0


def _list_users(args: argparse.Namespace, database: Database) -> int:
    from app.services import accounts

    with database.session() as session:
        for user, schools, orgs in accounts.list_users(session=session):
            grants = []
            if user.district_id:
                grants.append(f"district {user.district_id}")
            if schools:
                grants.append("schools " + ",".join(map(str, sorted(schools))))
            if orgs:
                grants.append("organizations " + ",".join(map(str, sorted(orgs))))
            state = "" if user.is_active else " (inactive)"
            print(f"{user.id}\t{user.email}\t{user.role}\t{'; '.join(grants)}{state}")
    return 0


def _set_active(args: argparse.Namespace, database: Database) -> int:
    from app.services import accounts

    with database.session() as session:
        found = accounts.find_user(session=session, ref=args.user)
        user = accounts.set_active(
            session=session, principal=OPERATOR, user_id=found.id, active=args.active
        ).user
        state = "enabled" if user.is_active else "disabled; its tokens and API keys are revoked"
        print(f"user {user.id}: {user.email} {state}")
    return 0


def _create_key(args: argparse.Namespace, database: Database) -> int:
    from app.services import api_keys, districts

    with database.session() as session:
        district = districts.find(session=session, ref=args.district)
        key, plaintext = api_keys.create(
            session=session,
            principal=OPERATOR,
            district_id=district.id,
            name=args.name,
            scope=args.scope,
            allowed_origins=args.origin,
        )
        print(f"key {key.id} for {district.name} ({key.scope}); shown once, store it now:")
        print(plaintext)
    return 0


def _revoke_key(args: argparse.Namespace, database: Database) -> int:
    from app.services import api_keys

    with database.session() as session:
        key = api_keys.revoke_any(session=session, principal=OPERATOR, key_id=args.key_id)
        print(f"key {key.id} ({key.name}) revoked")
    return 0


def _list_keys(args: argparse.Namespace, database: Database) -> int:
    from app.services import api_keys

    with database.session() as session:
        keys = api_keys.list_any(
            session=session, principal=OPERATOR, district_ref=args.district or None
        )
        for key in keys:
            state = "revoked" if key.revoked_at else "active"
            used = key.last_used_at.isoformat() if key.last_used_at else "never"
            origins = ",".join(key.allowed_origins or []) or "-"
            print(
                f"{key.id}\tpmk_{key.prefix}_…\tdistrict {key.district_id}\t{key.scope}\t"
                f"{state}\tlast used {used}\t{origins}\t{key.name}"
            )
    return 0


def _create_district(args: argparse.Namespace, database: Database) -> int:
    from app.services import districts

    with database.session() as session:
        district = districts.create(
            session=session,
            principal=OPERATOR,
            name=args.name,
            slug=args.slug,
            nces_lea_id=args.nces_lea_id,
            ranking_equity=args.equity,
        )
        print(f"district {district.id}: {district.name} ({district.slug})")
    return 0


def _list_districts(args: argparse.Namespace, database: Database) -> int:
    from app.services import districts

    with database.session() as session:
        for d in districts.list_page(session=session, after_id=None, limit=10_000):
            print(f"{d.id}\t{d.slug}\t{d.nces_lea_id or '-'}\t{d.name}")
    return 0


def _permissions(args: argparse.Namespace, database: Database) -> int:
    from app.auth.policy import render_markdown

    sys.stdout.write(render_markdown())
    return 0

"""The `partnermap` command: one module per command group, each adding its parsers."""

from __future__ import annotations

import argparse
import logging
import sys

from app.cli import accounts, bench, imports, service
from app.db import Database
from app.domain_errors import DomainError
from app.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="partnermap",
        description="PartnerMap service. DATABASE_URL selects the database (unset: SQLite file).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    # Each group's add_commands(subparsers) adds parsers that set `run(args, database) -> int`;
    # the order here is the order `partnermap --help` lists them in.
    for group in (service, bench, imports, accounts):
        group.add_commands(commands)

    args = parser.parse_args(argv)
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s %(message)s")
    database = Database.of(settings)
    try:
        return int(args.run(args, database) or 0)
    except DomainError as exc:
        return _fail(exc)
    finally:
        database.dispose()


def _fail(exc: DomainError) -> int:
    """A refused command (unknown district, taken email …) is one line on stderr and exit 1."""
    fields = "; ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors)
    print(f"error: {exc.detail}" + (f" ({fields})" if fields else ""), file=sys.stderr)
    return 1

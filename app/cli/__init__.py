"""The `partnermap` command: one module per command group, each adding its parsers."""

from __future__ import annotations

import argparse
import logging

from app.cli import accounts, bench, imports, service
from app.db import Database
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
    finally:
        database.dispose()

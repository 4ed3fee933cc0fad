"""The `partnermap` command."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from app.db import Database, redact
from app.settings import get_settings

log = logging.getLogger("partnermap.cli")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="partnermap",
        description="PartnerMap service. DATABASE_URL selects the database (unset: SQLite file).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")

    migrate = commands.add_parser("migrate", help="bring the schema up to date")
    migrate.add_argument("--revision", default="head")
    migrate.add_argument("--downgrade", metavar="REVISION", help="go down to REVISION instead")

    commands.add_parser("demo", help="load the Oakland demo data (safe to run twice)")

    for module in _PLUGINS:
        importlib.import_module(module).add_commands(commands)

    args = parser.parse_args(argv)
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s %(message)s")
    database = Database(settings.database_url)
    try:
        if hasattr(args, "run"):
            return int(args.run(args, database) or 0)
        return _COMMANDS[args.command](args, database)
    finally:
        database.dispose()


def _serve(args: argparse.Namespace, database: Database) -> int:
    import uvicorn

    if args.migrate:
        _migrate(argparse.Namespace(revision="head", downgrade=None), database)
    log.info("serving %s on http://%s:%s", redact(str(database.url)), args.host, args.port)
    uvicorn.run(
        "app.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=get_settings().log_level.lower(),
        # app.middleware.AccessLog logs each request once, with its duration and request id.
        access_log=False,
    )
    return 0


def _migrate(args: argparse.Namespace, database: Database) -> int:
    from app import migrate

    if args.downgrade:
        migrate.downgrade(database, args.downgrade)
    else:
        migrate.upgrade(database, args.revision)
    print(f"schema at {migrate.current(database)} on {redact(str(database.url))}")
    return 0


def _demo(args: argparse.Namespace, database: Database) -> int:
    from app.services import demo

    with database.session() as session:
        report = demo.load(session=session, progress=sys.stderr.isatty())
    for key, value in report.items():
        print(f"{key}: {value}")
    return 0


_COMMANDS = {"serve": _serve, "migrate": _migrate, "demo": _demo}

# Modules that add command groups: each has add_commands(subparsers), and every parser it adds
# sets `run=callable(args, database) -> int` with set_defaults.
_PLUGINS = ["app.bench.cli", "app.imports.cli", "app.auth.cli"]

if __name__ == "__main__":
    sys.exit(main())

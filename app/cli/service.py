"""`partnermap serve`, `partnermap migrate`, `partnermap demo`: run the service and its data."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from app.db import Database, redact
from app.settings import get_settings

log = logging.getLogger("partnermap.cli")


def add_commands(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="bring the schema up to date")
    migrate.add_argument("--revision", default="head")
    migrate.add_argument("--downgrade", metavar="REVISION", help="go down to REVISION instead")
    migrate.set_defaults(run=_migrate)

    demo = commands.add_parser("demo", help="load the Oakland demo data (safe to run twice)")
    demo.set_defaults(run=_demo)


def _serve(args: argparse.Namespace, database: Database) -> int:
    import uvicorn

    if args.migrate:
        _migrate(argparse.Namespace(revision="head", downgrade=None), database)
    _fail_interrupted_imports(database)
    log.info("serving %s on http://%s:%s", redact(str(database.url)), args.host, args.port)
    uvicorn.run(
        "app.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=get_settings().log_level.lower(),
        # app.middleware.AccessLog logs each request once, with its duration and request id.
        access_log=False,
        # X-Forwarded-For is read by app.middleware.TrustedProxies from TRUSTED_PROXIES only;
        # uvicorn's own reading would trust it from any local peer.
        proxy_headers=False,
    )
    return 0


def _fail_interrupted_imports(database: Database) -> None:
    """Jobs a stopped server left queued or running are failed (and retryable) before any
    worker starts, so no live job is touched."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.services import imports

    try:
        with database.session() as session:
            failed = imports.fail_interrupted(session=session)
    except SQLAlchemyError as exc:  # no schema yet, or the database is down: serve anyway
        log.warning(
            "import jobs not checked (%s); if the schema is missing, run `partnermap migrate`",
            type(exc).__name__,
        )
        return
    if failed:
        log.warning("import jobs %s were interrupted by a restart; marked failed", failed)


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

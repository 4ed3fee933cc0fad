"""`partnermap bench …` command group; each benchmark lives in its own module of `bench`."""

from __future__ import annotations

import argparse
import json
import logging
from types import ModuleType
from typing import Any

from app.db import Database
from bench import clients, gaps, holdout, http_compare, imports, matching, pages, quality

# name -> module with add_arguments(parser) and run(args, database) -> dict of figures
BENCHMARKS: dict[str, ModuleType] = {
    "matching": matching,
    "quality": quality,
    "holdout": holdout,
    "gaps": gaps,
    "import": imports,
    "http": http_compare,
    "pages": pages,
    "clients": clients,
}


def add_commands(commands: Any) -> None:
    bench = commands.add_parser("bench", help="run a benchmark and print its figures")
    which = bench.add_subparsers(dest="benchmark", required=True)
    for name, module in BENCHMARKS.items():
        parser = which.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        module.add_arguments(parser)
        parser.set_defaults(run=_runner(module))


def _runner(module: ModuleType):  # type: ignore[no-untyped-def]
    def run(args: argparse.Namespace, database: Database) -> int:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        figures = module.run(args, database)
        print(json.dumps(figures, sort_keys=True))
        return 0

    return run

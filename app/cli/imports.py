"""`partnermap import …` and `partnermap export …`.

    partnermap import hsds PATH [--source S]            HSDS folder (CSV, Ohana) or .json
    partnermap import schools PATH --mapping FILE [--join ALIAS=PATH]
    partnermap import csv PATH [--kind K] [--source S]  PartnerMap template CSV (organizations,
                                                        offerings, schools, partnerships)
    partnermap export hsds PATH [--source S …]          HSDS 3.0 CSV data package

Every import takes --dry-run (check, write nothing), --skip-invalid (import the valid records,
report the rest; default: any error and nothing is written), --encoding and --json (print the
report as JSON). Exit status: 0 imported or checked, 1 refused, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.db import Database
from app.imports.report import ImportReport

CSV_SOURCE = "csv"


def add_commands(commands: Any) -> None:
    imports = commands.add_parser("import", help="bring directories in (HSDS, schools, CSV)")
    which = imports.add_subparsers(dest="import_kind", required=True)

    hsds = which.add_parser("hsds", help="an Open Referral HSDS directory (CSV folder or JSON)")
    hsds.add_argument("path", type=Path, help="folder of CSV files (HSDS 3.0 or Ohana) or .json")
    hsds.add_argument("--source", help="source name records are kept under (default hsds:NAME)")
    _common(hsds)
    hsds.set_defaults(run=_import_hsds)

    schools = which.add_parser("schools", help="a school directory through a column mapping")
    schools.add_argument("path", type=Path, help="the directory CSV (e.g. NCES CCD)")
    schools.add_argument("--mapping", type=Path, required=True, help="mapping file (TOML)")
    schools.add_argument(
        "--join",
        action="append",
        default=[],
        metavar="ALIAS=PATH",
        help="file for a [[join]] of the mapping (default: its `file`, beside PATH)",
    )
    schools.add_argument("--source", help="overrides the mapping's source")
    schools.add_argument(
        "--fuzzy-match",
        action="store_true",
        default=None,
        help="also link rows to existing schools by near-identical name at the same place "
        "(each match is reported; try with --dry-run first)",
    )
    _common(schools)
    schools.set_defaults(run=_import_schools)

    csv_ = which.add_parser(
        "csv", help="organizations, offerings, schools or partnerships in our templates"
    )
    csv_.add_argument("path", type=Path)
    csv_.add_argument(
        "--kind",
        choices=("organizations", "offerings", "schools", "partnerships"),
        help="template of the file (default: told from its columns)",
    )
    csv_.add_argument(
        "--source",
        default=CSV_SOURCE,
        help=f"source name (default '{CSV_SOURCE}'); offerings find their organizations "
        "by organization_external_id within it",
    )
    _common(csv_)
    csv_.set_defaults(run=_import_csv)

    export = commands.add_parser("export", help="give the directory back in a standard")
    formats = export.add_subparsers(dest="export_format", required=True)
    out = formats.add_parser("hsds", help="HSDS 3.0 tabular data package (CSV + datapackage)")
    out.add_argument("path", type=Path, help="folder to write (created if missing)")
    out.add_argument("--source", action="append", help="only these sources (repeatable)")
    out.set_defaults(run=_export_hsds)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid records and report the others (default: all or nothing)",
    )
    parser.add_argument("--encoding", default="utf-8", help="text encoding (default utf-8)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "dry_run": args.dry_run,
        "skip_invalid": args.skip_invalid,
        "encoding": args.encoding,
        "progress": sys.stderr.isatty(),
    }


def _print(report: ImportReport, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print("\n".join(report.lines()))
    return 1 if report.status == "failed" else 0


def _import_hsds(args: argparse.Namespace, database: Database) -> int:
    from app.imports import hsds

    with database.session() as session:
        report = hsds.import_hsds(
            session=session, path=args.path, source=args.source, **_options(args)
        )
    return _print(report, args)


def _import_schools(args: argparse.Namespace, database: Database) -> int:
    from app.imports import schools_csv

    try:
        mapping = schools_csv.load_mapping(args.mapping)
        joins = dict(_alias_path(item) for item in args.join)
    except (schools_csv.MappingProblem, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with database.session() as session:
        report = schools_csv.import_directory(
            session=session,
            path=args.path,
            mapping=mapping,
            join_files=joins,
            source=args.source,
            fuzzy=args.fuzzy_match,
            **_options(args),
        )
    return _print(report, args)


def _alias_path(item: str) -> tuple[str, Path]:
    alias, sep, path = item.partition("=")
    if not sep or not alias or not path:
        raise ValueError(f"--join takes ALIAS=PATH, not '{item}'")
    return alias, Path(path)


def _import_csv(args: argparse.Namespace, database: Database) -> int:
    from app.imports import bulk_csv

    kind = args.kind or bulk_csv.guess_kind(args.path)
    if kind is None:
        print(
            "error: cannot tell the template from the columns; give --kind "
            "organizations|offerings|schools|partnerships",
            file=sys.stderr,
        )
        return 2
    with database.session() as session:
        report = bulk_csv.import_file(
            session=session, path=args.path, kind=kind, source=args.source, **_options(args)
        )
    return _print(report, args)


def _export_hsds(args: argparse.Namespace, database: Database) -> int:
    from app.imports import hsds_export

    with database.session() as session:
        counts = hsds_export.export_hsds(session=session, path=args.path, sources=args.source)
    print(f"HSDS 3.0 data package written to {args.path}")
    for table, count in counts.items():
        print(f"  {table}.csv: {count:,} rows")
    return 0

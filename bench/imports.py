"""Bulk CSV import speed and memory: synthetic offerings into SQLite and PostGIS.

    partnermap bench import [--rows 100000] [--sizes 25000,50000] [--postgis-url URL]

Writes a seeded synthetic organizations CSV (--organizations, default 1,000) and offerings CSVs
of each size into a temporary folder. For each backend (a fresh, migrated SQLite file, and the
PostGIS database of --postgis-url, or DATABASE_URL when that is PostgreSQL) it imports the
organizations and each offerings file into an emptied source, then the largest file again (the
idempotent re-run: nothing should change). Each import runs in its own process, so its peak RSS
is its own; peak RSS that stays level across sizes is what "memory flat as the file grows"
means. Everything goes under the throwaway source `bench-import`, deleted afterwards. Synthetic
rows are for scale only (seeded: categories, grades, schedules, costs and places drawn
uniformly); the demo uses real records. Target: 100,000 offerings in <= 60 s per backend.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.db import Database
from app.imports.records import OFFERING_COLUMNS, ORGANIZATION_COLUMNS
from app.taxonomy import load_taxonomy

SOURCE = "bench-import"
TARGET_S = 60.0
TEXAS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "texas"
TEXAS_MAPPING = "texas_ccd_tapr.toml"  # in app/data/imports/mappings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=100_000, help="offerings in the big file")
    parser.add_argument(
        "--sizes", default="25000,50000", help="smaller files too, for the memory curve"
    )
    parser.add_argument("--organizations", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--postgis-url", help="PostGIS database (default: DATABASE_URL if PG)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--texas",
        type=Path,
        default=TEXAS,
        help="folder of the real Texas files (NCES CCD + TEA TAPR); timed as a school "
        "directory import when present",
    )


def run(args: argparse.Namespace, database: Database) -> dict[str, Any]:
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()} | {args.rows})
    postgis = args.postgis_url or (
        database.url.render_as_string(hide_password=False) if database.is_postgis else None
    )
    figures: dict[str, Any] = {
        "rows": args.rows,
        "sizes": sizes,
        "seed": args.seed,
        "organizations": args.organizations,
        "target_s": TARGET_S,
    }
    with tempfile.TemporaryDirectory(prefix="pm-bench-import-") as tmp:
        folder = Path(tmp)
        orgs = folder / "organizations.csv"
        write_organizations(orgs, args.organizations, args.seed)
        files = {}
        for size in sizes:
            files[size] = folder / f"offerings-{size}.csv"
            write_offerings(files[size], size, args.organizations, args.seed)
            print(
                f"wrote {size:,} synthetic offerings ({files[size].stat().st_size / 2**20:.1f} "
                "MiB)",
                flush=True,
            )
        backends = []
        if not args.skip_sqlite:
            backends.append(("sqlite", f"sqlite:///{folder / 'bench.db'}"))
        if postgis:
            backends.append(("postgis", postgis))
        else:
            print("PostGIS skipped: give --postgis-url postgresql+psycopg://…", flush=True)
        texas = args.texas / "tx-campuses-ccd.csv" if args.texas else None
        for name, url in backends:
            figures[name] = _bench_backend(name, url, orgs, files, args.rows)
            if texas and texas.is_file():
                result = _child(url, texas, "texas")
                _cleanup(Database(url))
                figures[name]["texas_schools"] = result
                print(
                    f"{name}: Texas directory (NCES CCD + TAPR) in {result['seconds']} s — "
                    f"{result['counts']}",
                    flush=True,
                )
    return figures


def _bench_backend(
    name: str, url: str, orgs: Path, files: dict[int, Path], rows: int
) -> dict[str, Any]:
    from app import migrate

    database = Database(url)
    migrate.upgrade(database, "head")
    _cleanup(database)
    out: dict[str, Any] = {}
    try:
        by_size = {}
        for size, path in files.items():
            _cleanup(database)  # every size is a fresh load into an empty source
            out["organizations_s"] = _child(url, orgs, "organizations")["seconds"]
            result = _child(url, path, "offerings")
            by_size[size] = result
            print(
                f"{name}: {size:,} offerings in {result['seconds']} s "
                f"({result['rows_s']:,.0f}/s), peak RSS {result['peak_rss_mb']} MB, "
                f"{result['counts']}",
                flush=True,
            )
        again = _child(url, files[rows], "offerings")
        print(
            f"{name}: re-import of {rows:,} in {again['seconds']} s — {again['counts']}", flush=True
        )
        big = by_size[rows]
        rss = [by_size[s]["peak_rss_mb"] for s in sorted(by_size)]
        out |= {
            "seconds": big["seconds"],
            "rows_s": big["rows_s"],
            "peak_rss_mb": big["peak_rss_mb"],
            "peak_rss_mb_by_size": {str(s): by_size[s]["peak_rss_mb"] for s in sorted(by_size)},
            "rss_growth_mb": round(rss[-1] - rss[0], 1),
            "reimport_s": again["seconds"],
            "reimport_counts": again["counts"],
            "within_target": big["seconds"] <= TARGET_S,
        }
    finally:
        _cleanup(database)
        database.dispose()
    return out


def _cleanup(database: Database) -> None:
    from app.repositories import imports as repo
    from app.repositories.catalog_changes import record_change

    with database.session() as session:
        removed = repo.delete_source(session, SOURCE)
        if any(removed.values()):
            record_change(session)
        session.commit()


def _child(url: str, path: Path, kind: str) -> dict[str, Any]:
    """Run one import in a fresh process and return its time, counts and peak RSS."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.imports", url, str(path), kind],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench child failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(url: str, path: Path, kind: str) -> dict[str, Any]:
    from app.imports import bulk_csv, schools_csv

    database = Database(url)
    started = time.perf_counter()
    with database.session() as session:
        if kind == "texas":  # the real directory; schools another source holds are skipped
            report = schools_csv.import_directory(
                session=session,
                path=path,
                mapping=schools_csv.load_mapping(schools_csv.MAPPINGS / TEXAS_MAPPING),
                source=SOURCE,
                skip_invalid=True,
            )
            kind = "schools"
        else:
            report = bulk_csv.import_file(session=session, path=path, kind=kind, source=SOURCE)
    seconds = time.perf_counter() - started
    database.dispose()
    if report.status != "imported":
        raise RuntimeError("\n".join(report.lines()))
    return {
        "seconds": round(seconds, 2),
        "rows_s": round(report.rows / seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "counts": report.counts[kind].__dict__,
    }


# --- synthetic files ---------------------------------------------------------------------------


def write_organizations(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([c.name for c in ORGANIZATION_COLUMNS])
        names = [c.name for c in ORGANIZATION_COLUMNS]
        for i in range(n):
            row = dict.fromkeys(names, "")
            row |= {
                "external_id": f"org-{i}",
                "name": f"Synthetic organization {i}",
                "type": rng.choice(["nonprofit", "business", "higher_education", "government"]),
                "languages": rng.choice(["en", "en;es", "en;vi", ""]),
                "lat": f"{rng.uniform(29.0, 33.5):.6f}",
                "lon": f"{rng.uniform(-101.0, -95.0):.6f}",
                "service_area": "radius",
                "service_radius_km": str(rng.choice([5, 10, 25, 50])),
            }
            writer.writerow([row[c] for c in names])


def write_offerings(path: Path, n: int, organizations: int, seed: int) -> None:
    """n offerings; the first k of a bigger file equal the k of a smaller one (same seed)."""
    rng = random.Random(seed + 1)
    codes = [c.code for c in load_taxonomy().categories]
    names = [c.name for c in OFFERING_COLUMNS if c.name != "organization_id"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        for i in range(n):
            low = rng.randint(-1, 12)
            cost = rng.choice(["free", "fee", "sliding_scale", ""])
            row = {
                "external_id": f"offering-{i}",
                "organization_external_id": f"org-{rng.randrange(organizations)}",
                "title": f"Synthetic offering {i}",
                "description": "Synthetic record for the import benchmark; "
                + " ".join(
                    rng.choice(
                        [
                            "after",
                            "school",
                            "science",
                            "reading",
                            "mentor",
                            "family",
                            "health",
                            "arts",
                        ]
                    )
                    for _ in range(12)
                ),
                "categories": ";".join(rng.sample(codes, rng.randint(1, 2))),
                "grade_low": str(low),
                "grade_high": str(rng.randint(low, 12)),
                "schedule": ";".join(
                    rng.sample(
                        ["during_school", "after_school", "weekends", "summer"], rng.randint(0, 2)
                    )
                ),
                "delivery": rng.choice(
                    ["at_school", "at_partner_site", "virtual", "at_school;virtual"]
                ),
                "languages": rng.choice(["en", "en;es", ""]),
                "cost": cost,
                "cost_amount": f"{rng.randint(50, 5000)}" if cost == "fee" else "",
                "cost_note": "",
                "capacity_schools": str(rng.randint(1, 40)),
                "capacity_students": str(rng.randint(10, 2000)),
                "populations": rng.choice(["", "title_i", "english_learners;low_income"]),
                "active_from": "",
                "active_until": "",
            }
            writer.writerow([row[c] for c in names])


if __name__ == "__main__":  # the child process of _child
    print(json.dumps(_measure(sys.argv[1], Path(sys.argv[2]), sys.argv[3])))

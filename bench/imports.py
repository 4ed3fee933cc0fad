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

With the real Texas files it also imports a 100,000-row school directory (--directory-rows)
in the NCES CCD layout joined to a TAPR-layout file through the shipped Texas mapping with a
computed equity field (frl_pct = 100 * economically disadvantaged / all students): rows are
seeded copies of the real campuses with new ids and coordinates moved up to ~2 km, so every
row is a new school that links to nothing. Each of --directory-rounds rounds imports it into
an empty source and then again (all unchanged), each in its own process; wall time, CPU time
(user + system) and peak RSS are printed per round with the median and the spread.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import statistics
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
        "--directory-rows", type=int, default=100_000, help="rows of the school directory (0: skip)"
    )
    parser.add_argument("--directory-rounds", type=int, default=3)
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
        directory = None
        if texas and texas.is_file() and args.directory_rows:
            directory = write_directory(folder, args.texas, args.directory_rows, args.seed)
            print(f"wrote a {args.directory_rows:,}-row school directory", flush=True)
        for name, url in backends:
            figures[name] = _bench_backend(name, url, orgs, files, args.rows)
            if texas and texas.is_file():
                result = _child(url, texas, "texas")
                _cleanup(Database(url))
                figures[name]["texas_schools"] = result
                print(
                    f"{name}: Texas directory (NCES CCD + TAPR) in {result['seconds']} s, CPU "
                    f"{result['cpu_s']} s, write lock {result['write_lock_ms']} ms — "
                    f"{result['counts']}",
                    flush=True,
                )
            if directory is not None:
                figures[name]["directory"] = _bench_directory(
                    name, url, directory, args.directory_rounds
                )
    return figures


def _bench_directory(name: str, url: str, directory: Path, rounds: int) -> dict[str, Any]:
    """Rounds of (fresh import, re-import) of the synthetic directory, with median and spread."""
    database = Database(url)
    runs: dict[str, list[dict[str, Any]]] = {"fresh": [], "again": []}
    try:
        for n in range(rounds):
            _cleanup(database)
            for label in ("fresh", "again"):
                result = _child(url, directory, "directory")
                runs[label].append(result)
                print(
                    f"{name}: directory {label} round {n + 1}: wall {result['seconds']} s, "
                    f"CPU {result['cpu_s']} s, peak RSS {result['peak_rss_mb']} MB, write lock "
                    f"{result['write_lock_ms']} ms — {result['counts']}",
                    flush=True,
                )
    finally:
        _cleanup(database)
        database.dispose()
    out: dict[str, Any] = {}
    for label, results in runs.items():
        summary = {
            key: {
                "median": statistics.median(r[key] for r in results),
                "min": min(r[key] for r in results),
                "max": max(r[key] for r in results),
            }
            for key in ("seconds", "cpu_s", "peak_rss_mb")
        }
        out[label] = summary | {"counts": results[-1]["counts"], "rounds": len(results)}
        print(
            f"{name}: directory {label}: wall {_spread(summary['seconds'])} s, CPU "
            f"{_spread(summary['cpu_s'])} s, peak RSS {_spread(summary['peak_rss_mb'])} MB",
            flush=True,
        )
    out["within_target"] = out["fresh"]["seconds"]["median"] <= TARGET_S
    return out


def _spread(s: dict[str, float]) -> str:
    return f"{s['median']} (min {s['min']}, max {s['max']})"


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
                f"({result['rows_s']:,.0f}/s), CPU {result['cpu_s']} s, peak RSS "
                f"{result['peak_rss_mb']} MB, write lock {result['write_lock_ms']} ms, "
                f"{result['counts']}",
                flush=True,
            )
        again = _child(url, files[rows], "offerings")
        print(
            f"{name}: re-import of {rows:,} in {again['seconds']} s, CPU {again['cpu_s']} s, "
            f"write lock {again['write_lock_ms']} ms — {again['counts']}",
            flush=True,
        )
        big = by_size[rows]
        rss = [by_size[s]["peak_rss_mb"] for s in sorted(by_size)]
        out |= {
            "seconds": big["seconds"],
            "cpu_s": big["cpu_s"],
            "write_lock_ms": big["write_lock_ms"],
            "reimport_cpu_s": again["cpu_s"],
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
    holds = _lock_holds(database)
    started = time.perf_counter()
    with database.session() as session:
        if kind == "directory":  # the synthetic directory, its TAPR-layout file beside it
            report = schools_csv.import_directory(
                session=session,
                path=path,
                mapping=directory_mapping(),
                join_files={"tapr": path.with_name("directory-tapr.csv")},
                source=SOURCE,
            )
            kind = "schools"
        elif kind == "texas":  # the real directory; schools another source holds are skipped
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
    usage = resource.getrusage(resource.RUSAGE_SELF)
    database.dispose()
    if report.status != "imported":
        raise RuntimeError("\n".join(report.lines()))
    return {
        "seconds": round(seconds, 2),
        "rows_s": round(report.rows / seconds, 1),
        # CPU of the whole child (start-up and imports included), beside the import's wall time
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        # SQLite: the longest the import held the write lock (None on PostGIS)
        "write_lock_ms": round(max(holds) * 1000) if holds else None,
        "counts": report.counts[kind].__dict__,
    }


def _lock_holds(database: Database) -> list[float]:
    """On SQLite, the seconds from each transaction's first write (or BEGIN IMMEDIATE) to its
    commit or rollback: how long other writers were locked out. Measured outside the import
    code, so every version of it is measured the same way."""
    from sqlalchemy import event

    holds: list[float] = []
    if database.is_postgis:
        return holds
    since: list[float] = []
    writes = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE")

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if not since and sql.lstrip().upper().startswith(writes):
            since.append(time.perf_counter())

    def end(_conn: Any) -> None:
        if since:
            holds.append(time.perf_counter() - since.pop())

    event.listen(database.engine, "before_cursor_execute", statement)
    event.listen(database.engine, "commit", end)
    event.listen(database.engine, "rollback", end)
    return holds


# --- synthetic files ---------------------------------------------------------------------------


def directory_mapping() -> Any:
    """The shipped Texas mapping with equity computed from TAPR's counts (as docs/imports.md
    shows), and links by NCES id only (the synthetic state ids are new too)."""
    from app.imports import schools_csv

    text = (schools_csv.MAPPINGS / TEXAS_MAPPING).read_text(encoding="utf-8")
    text = text.replace(
        'frl_pct = "tapr.CPETECOP"',
        'frl_pct = { compute = "100 * tapr.CPETECOC / tapr.CPETALLC", round = 1 }',
    ).replace('name = "Texas:', 'link = { by = ["nces_id"] }\nname = "Texas:', 1)
    return schools_csv.parse_mapping(text, name="bench-directory")


def write_directory(folder: Path, texas: Path, rows: int, seed: int) -> Path:
    """`rows` seeded copies of the real Texas campuses that the mapping imports (open, with a
    TAPR record), with new NCES and state ids and coordinates moved by up to 0.02 degrees, and
    the TAPR-layout file their state ids join to."""
    rng = random.Random(seed + 2)
    with open(texas / "tapr_2021-2022_campus_accountability.csv", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        tapr_columns = list(reader.fieldnames or [])
        tapr = {r["CAMPUS"].strip(): r for r in reader}
    with open(texas / "tx-campuses-ccd.csv", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        ccd_columns = list(reader.fieldnames or [])
        templates = [
            r
            for r in reader
            if r["STATUS"] != "2"
            and r["SEASCH"].lstrip("0") in tapr
            and float(r["LATCOD"] or 0) != 0
        ]
    path = folder / "directory.csv"
    with (
        open(path, "w", newline="", encoding="utf-8") as out,
        open(folder / "directory-tapr.csv", "w", newline="", encoding="utf-8") as joined,
    ):
        directory, report = csv.writer(out), csv.writer(joined)
        directory.writerow(ccd_columns)
        report.writerow(tapr_columns)
        for i in range(rows):
            row = dict(rng.choice(templates))
            source = tapr[row["SEASCH"].lstrip("0")]
            row["NCESSCH"] = f"99{i:010d}"
            row["SEASCH"] = f"9{i:08d}"
            row["LATCOD"] = f"{float(row['LATCOD']) + rng.uniform(-0.02, 0.02):.6f}"
            row["LONCOD"] = f"{float(row['LONCOD']) + rng.uniform(-0.02, 0.02):.6f}"
            directory.writerow([row[c] for c in ccd_columns])
            report.writerow([{**source, "CAMPUS": row["SEASCH"]}[c] for c in tapr_columns])
    return path


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

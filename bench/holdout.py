"""Held-out ranking quality on OUSD's real 2011 partnerships (not a speed benchmark).

    partnermap bench holdout [--seeds 5] [--holdout 0.2]

Per seed, the schools with partner records are split 80/20. A scratch SQLite database is built
from the training rows only, through the code paths a district uses: migrations, the demo
loader on a copy of the records holding only training rows (schools, organizations located
from training schools, offerings) and their 2011 school x partner services as completed
partnerships, written by the partnerships import's write path (history). Each held-out
school's needs are filed through the API from the services it really received (categories,
priority by count); `GET /v1/schools/{id}/matches` is read (offerings -> organizations, first
occurrence, top 10) on the live app ("as served") and on a second app started on the same
database ("after rebuild"). Relevant = the organizations
that really served the school and exist in training. nDCG@10, recall@10 and MRR are printed
per seed next to baselines computed on the identical split and schools:
- schools_served: organizations by how many training schools they served;
- category_x_served: need-weighted category overlap x schools served;
- category_x_served_proximity: the same, normalised, plus exp(-km / 5) to the organization.

Also per seed: how many held-out schools' top 10 organizations change when equity goes from 0
to 0.3 and to 1 (live app), and a cold-start run: the same split rebuilt with the partnerships
of a seeded 20% of the training organizations withheld (new partners, no history), reporting
their share of top-10 slots next to their share of organizations, and nDCG@10 on that database.
Then the leave-one-district-out style check on synthetic districts (bench.holdout_synthetic).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import logging
import math
import random
import shutil
import statistics
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app import migrate
from app.db import Database
from app.demo import oakland
from app.main import create_app
from app.models import Organization, School
from app.services import demo
from app.services.accounts import tool_token
from app.settings import Settings
from bench import holdout_synthetic
from geo.distance import haversine_km

if TYPE_CHECKING:  # imported where used: the CLI loads this module, TestClient warns on import
    from fastapi.testclient import TestClient

K = 10
PAGE = 100  # offerings read per school: enough to hold 10 distinct organizations
PROXIMITY_KM = 5.0
EQUITIES = (0.0, 0.3, 1.0)
COLD_SHARE = 0.2  # training organizations whose history the cold-start run withholds
BASELINES = ("schools_served", "category_x_served", "category_x_served_proximity")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=int, default=5, help="number of seeded splits")
    parser.add_argument("--holdout", type=float, default=0.2, help="share of schools held out")


def run(args: argparse.Namespace, database: Database) -> dict[str, Any]:
    logging.getLogger("partnermap").setLevel(logging.WARNING)
    full = _Records.read(oakland.DATA_DIR)
    per_seed = [_split_figures(full, seed, args.holdout) for seed in range(args.seeds)]
    methods = list(per_seed[0]["methods"])
    print(f"{'seed':>4} {'schools':>7}  " + "  ".join(f"{m[:22]:>22}" for m in methods))
    for row in per_seed:
        cells = "  ".join(f"{row['methods'][m]['ndcg10']:>22.3f}" for m in methods)
        print(f"{row['seed']:>4} {row['schools']:>7}  {cells}")
    mean = {
        m: {
            metric: round(statistics.mean(r["methods"][m][metric] for r in per_seed), 3)
            for metric in ("ndcg10", "recall10", "mrr")
        }
        for m in methods
    }
    print(f"{'mean':>4} {'':>7}  " + "  ".join(f"{mean[m]['ndcg10']:>22.3f}" for m in methods))
    for row in per_seed:
        eq, cold = row["equity_top10_changed"], row["cold_start"]
        print(
            f"seed {row['seed']}: top-10s changed by equity 0->0.3: {eq['0.3']}/{row['schools']},"
            f" 0->1: {eq['1.0']}/{row['schools']}; cold start: no-history partners hold"
            f" {cold['top10_share']:.3f} of top-10 slots ({cold['top10_share_with_history']:.3f}"
            f" with their history; {cold['org_share']:.3f} of organizations),"
            f" nDCG@10 {cold['ndcg10']:.3f}"
        )
    synthetic = holdout_synthetic.run()
    return {
        "synthetic_lodo": synthetic,
        "k": K,
        "seeds": per_seed,
        "ndcg10_mean": mean["live"]["ndcg10"],
        "ndcg10_live": mean["live"]["ndcg10"],
        "ndcg10_rebuilt": mean["rebuilt"]["ndcg10"],
        "recall10_mean": mean["live"]["recall10"],
        "mrr_mean": mean["live"]["mrr"],
        "baselines": {name: {f"{m}_mean": v for m, v in mean[name].items()} for name in BASELINES},
        "equity_top10_changed": {
            e: sum(r["equity_top10_changed"][e] for r in per_seed) for e in ("0.3", "1.0")
        },
        "schools_total": sum(r["schools"] for r in per_seed),
        "cold_start": {
            key: round(statistics.mean(r["cold_start"][key] for r in per_seed), 3)
            for key in ("top10_share", "top10_share_with_history", "org_share", "ndcg10")
        },
        "beats_every_baseline_every_seed": all(
            r["methods"]["live"]["ndcg10"] > r["methods"][b]["ndcg10"]
            for r in per_seed
            for b in BASELINES
        ),
    }


class _Records:
    """The partner records as rows of (raw csv row, school ids, organization key, categories)."""

    def __init__(self, header: list[str], raw: list[dict[str, str]], parsed: list[Any]) -> None:
        self.header, self.raw, self.parsed = header, raw, parsed

    @classmethod
    def read(cls, data_dir: Path) -> _Records:
        report: dict[str, int] = {}
        schools, names = oakland._load_schools(data_dir, report)
        service_map = oakland.load_service_type_map(data_dir / "service_type_map.csv")
        parsed, _, _ = oakland._load_partner_rows(data_dir, schools, names, service_map, report)
        path = data_dir / "community_partners_2011.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            raw = list(reader)
            header = list(reader.fieldnames or [])
        if len(raw) != len(parsed):
            raise ValueError("partner rows and parsed rows differ in number")
        return cls(header, raw, parsed)

    def placeable_schools(self) -> list[str]:
        return sorted({s for row in self.parsed if row.organization for s in row.school_ids})


def _split_figures(full: _Records, seed: int, holdout: float) -> dict[str, Any]:
    schools = full.placeable_schools()
    random.Random(seed).shuffle(schools)
    held = set(schools[: round(holdout * len(schools))])
    with tempfile.TemporaryDirectory() as scratch:
        train_dir = Path(scratch) / "oakland"
        _training_copy(full, held, train_dir)
        training = oakland.load_oakland(train_dir)
        database = Database(f"sqlite:///{Path(scratch) / 'holdout.db'}")
        try:
            figures = {"seed": seed, **_evaluate(database, full, training, held)}
        finally:
            database.dispose()
        # Cold start: the same split, the history of a seeded share of organizations withheld.
        orgs = sorted(o.external_id for o in training.organizations)
        random.Random(seed).shuffle(orgs)
        cold = set(orgs[: round(COLD_SHARE * len(orgs))])
        kept = tuple(p for p in training.partnerships if p.organization_external_id not in cold)
        database = Database(f"sqlite:///{Path(scratch) / 'cold.db'}")
        try:
            figures["cold_start"] = _cold_start(
                database,
                full,
                dataclasses.replace(training, partnerships=kept),
                held,
                cold,
                figures.pop("ranked_live"),
            )
        finally:
            database.dispose()
        return figures


def _training_copy(full: _Records, held: set[str], target: Path) -> None:
    """The data directory with every partner row that touches a held-out school removed."""
    shutil.copytree(oakland.DATA_DIR, target)
    with (target / "community_partners_2011.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=full.header)
        writer.writeheader()
        for raw, row in zip(full.raw, full.parsed, strict=True):
            if not held.intersection(row.school_ids):
                writer.writerow(raw)


def _settings(database: Database) -> Settings:
    return Settings(
        database_url=database.url.render_as_string(hide_password=False),
        rate_limit_per_minute_ip=0,
        rate_limit_per_minute_key=0,
        log_level="WARNING",
    )


def _cold_start(
    database: Database,
    full: _Records,
    training: oakland.DemoData,
    held: set[str],
    cold: set[str],
    with_history: list[list[str]],
) -> dict[str, float]:
    """Top-10 exposure and nDCG@10 with the cold organizations' history withheld."""
    migrate.upgrade(database)
    settings = _settings(database)
    with database.session() as session:
        token = tool_token(session=session, email="holdout@partnermap.invalid", ttl=_HOUR)
    with _client(settings, database) as live:
        live.headers.update({"Authorization": f"Bearer {token}"})
        with database.session() as session:
            demo.load(session=session, data=training)
        ids, orgs = _school_ids(database), _organizations(database)
        questions = _held_out_questions(full, held, ids, orgs)
        _file_needs(live, questions)
        ranked = [_top_organizations(live, school_id) for school_id, _, _ in questions]
    names = {o.external_id: oakland.normalise(o.name) for o in training.organizations}
    new = {orgs[names[ext]] for ext in cold}
    slots = [o for top in ranked for o in top]
    known = [o for top in with_history for o in top]  # names
    new_names = {names[ext] for ext in cold}
    return {
        "top10_share": round(sum(o in new for o in slots) / max(len(slots), 1), 4),
        "top10_share_with_history": round(
            sum(o in new_names for o in known) / max(len(known), 1), 4
        ),
        "org_share": round(len(new) / len(orgs), 4),
        "ndcg10": _metrics(ranked, [rel for _, _, rel in questions])["ndcg10"],
    }


def _client(settings: Settings, database: Database) -> TestClient:
    """The app in process on this database (imported here: TestClient warns on import)."""
    from fastapi.testclient import TestClient

    return TestClient(create_app(settings, database=database))


def _file_needs(
    client: TestClient, questions: list[tuple[int, list[dict[str, Any]], set[int]]]
) -> None:
    for school_id, needs, _ in questions:
        response = client.post(
            f"/v1/schools/{school_id}/needs-assessments",
            json={"assessed_on": "2011-11-01", "is_example": True, "needs": needs},
        )
        response.raise_for_status()


def _evaluate(
    database: Database, full: _Records, training: oakland.DemoData, held: set[str]
) -> dict[str, Any]:
    migrate.upgrade(database)
    settings = _settings(database)
    with database.session() as session:
        token = tool_token(session=session, email="holdout@partnermap.invalid", ttl=_HOUR)
    headers = {"Authorization": f"Bearer {token}"}
    # The live app starts on the empty database and takes every registration while running.
    with _client(settings, database) as live:
        live.headers.update(headers)
        with database.session() as session:
            demo.load(session=session, data=training)
        ids = _school_ids(database)
        orgs = _organizations(database)
        questions = _held_out_questions(full, held, ids, orgs)
        _file_needs(live, questions)
        ranked_live = [_top_organizations(live, school_id) for school_id, _, _ in questions]
        by_equity = {
            e: [_top_organizations(live, school_id, e) for school_id, _, _ in questions]
            for e in EQUITIES
        }
    with _client(settings, database) as rebuilt:
        rebuilt.headers.update(headers)
        ranked_rebuilt = [_top_organizations(rebuilt, school_id) for school_id, _, _ in questions]
    school_at = {s.external_id: (s.lat, s.lon) for s in training.schools}
    inverse = {v: k for k, v in ids.items()}
    by_id = {v: k for k, v in orgs.items()}
    rankings: dict[str, list[list[int]]] = {"live": ranked_live, "rebuilt": ranked_rebuilt}
    for name, rule in _baselines(training, orgs).items():
        rankings[name] = [
            rule(needs, school_at[inverse[school_id]]) for school_id, needs, _ in questions
        ]
    relevant = [rel for _, _, rel in questions]
    return {
        "schools": len(questions),
        "methods": {name: _metrics(r, relevant) for name, r in rankings.items()},
        # the cold-start run compares its exposure with these (by name: ids differ per database)
        "ranked_live": [[by_id[o] for o in top] for top in ranked_live],
        "equity_top10_changed": {
            str(e): sum(a != b for a, b in zip(by_equity[0.0], by_equity[e], strict=True))
            for e in EQUITIES[1:]
        },
    }


_HOUR = dt.timedelta(hours=1)


def _school_ids(database: Database) -> dict[str, int]:
    with database.session() as session:
        return dict(session.execute(select(School.external_id, School.id)).all())


def _organizations(database: Database) -> dict[str, int]:
    """Organization id by normalised name (the records' organization key)."""
    with database.session() as session:
        rows = session.execute(select(Organization.name, Organization.id)).all()
    return {oakland.normalise(name): org_id for name, org_id in rows}


def _held_out_questions(
    full: _Records, held: set[str], ids: dict[str, int], orgs: dict[str, int]
) -> list[tuple[int, list[dict[str, Any]], set[int]]]:
    """(school id, needs from the services it received, organizations that served it)."""
    sought: dict[str, Counter[str]] = defaultdict(Counter)
    served: dict[str, set[int]] = defaultdict(set)
    for row in full.parsed:
        for school in held.intersection(row.school_ids):
            sought[school].update(row.categories)
            if row.organization in orgs:
                served[school].add(orgs[row.organization])
    questions = []
    for school in sorted(held):
        if not served[school] or not sought[school]:
            continue  # not placeable: none of its partners exists in training
        top = sorted(sought[school].items(), key=lambda kv: (-kv[1], kv[0]))[: oakland.MAX_NEEDS]
        levels = sorted({n for _, n in top}, reverse=True)
        needs = [
            {"category": code, "priority": min(levels.index(n) + 1, oakland.MAX_PRIORITY)}
            for code, n in top
        ]
        questions.append((ids[school], needs, served[school]))
    return questions


def _top_organizations(
    client: TestClient, school_id: int, equity: float | None = None
) -> list[int]:
    params: dict[str, Any] = {"limit": PAGE}
    if equity is not None:
        params["equity"] = equity
    response = client.get(f"/v1/schools/{school_id}/matches", params=params)
    response.raise_for_status()
    ranked = [item["offering"]["organization_id"] for item in response.json()["items"]]
    return list(dict.fromkeys(ranked))[:K]


Rule = Callable[[list[dict[str, Any]], tuple[float, float]], list[int]]


def _baselines(training: oakland.DemoData, orgs: dict[str, int]) -> dict[str, Rule]:
    """The simple rules the model must beat, from the same training rows."""
    by_ext = {o.external_id: o for o in training.organizations}
    org_id = {ext: orgs[oakland.normalise(o.name)] for ext, o in by_ext.items()}
    served = {org_id[ext]: len(o.served_school_ids) for ext, o in by_ext.items()}
    place = {org_id[ext]: (o.lat, o.lon) for ext, o in by_ext.items()}
    categories: dict[int, set[str]] = defaultdict(set)
    for offering in training.offerings:
        categories[org_id[offering.organization_external_id]].update(offering.categories)
    most = max(served.values())

    def overlap(needs: list[dict[str, Any]], org: int) -> float:
        return sum(1 / n["priority"] for n in needs if n["category"] in categories[org])

    def top(score: Callable[[int], float]) -> list[int]:
        return sorted(served, key=lambda o: (-score(o), o))[:K]

    def proximity(org: int, at: tuple[float, float]) -> float:
        return math.exp(-float(haversine_km(*at, *place[org])) / PROXIMITY_KM)

    return {
        "schools_served": lambda needs, at: top(lambda o: served[o]),
        "category_x_served": lambda needs, at: top(lambda o: overlap(needs, o) * served[o]),
        "category_x_served_proximity": lambda needs, at: top(
            lambda o: overlap(needs, o) * served[o] / most + proximity(o, at)
        ),
    }


def _metrics(rankings: Sequence[list[int]], relevant: Sequence[set[int]]) -> dict[str, float]:
    ndcg, recall, mrr = [], [], []
    for ranked, rel in zip(rankings, relevant, strict=True):
        gains = [1.0 / math.log2(i + 2) for i, o in enumerate(ranked[:K]) if o in rel]
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(K, len(rel))))
        ndcg.append(sum(gains) / ideal)
        recall.append(len(rel.intersection(ranked[:K])) / len(rel))
        first = next((i for i, o in enumerate(ranked[:K]) if o in rel), None)
        mrr.append(0.0 if first is None else 1.0 / (first + 1))
    return {
        "ndcg10": round(statistics.mean(ndcg), 4),
        "recall10": round(statistics.mean(recall), 4),
        "mrr": round(statistics.mean(mrr), 4),
    }

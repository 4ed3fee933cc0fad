"""Ranking quality on the real Oakland demo data (not a speed benchmark).

    partnermap bench quality [--use-database]

Loads the demo into a scratch SQLite file (or uses DATABASE_URL with --use-database, which
must already hold the demo) and reports:
- top_need_hit@k: share of schools whose top k partners include one that meets the school's
  priority-1 need (same category or a related one) within reach;
- real_partner_recall@k: share of schools whose top k include an organization that really
  served that school in OUSD's 2011 records (the example needs were composed from those same
  records, so this measures whether ranking recovers real partnerships from needs + place);
- high_need_share: in each organization's top-5 reverse ranking, the share of slots held by
  high-need schools (need index >= 0.75) versus their share of schools, at several equity
  strengths — equity should raise it without pushing out fit.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app import migrate
from app.auth.principal import OPERATOR
from app.db import Database
from app.demo.oakland import load_oakland
from app.models import Offering, Organization, School
from app.repositories import schools as school_repo
from app.services import demo
from app.services import matches as service
from app.services.catalog_index import CatalogIndex
from app.settings import get_settings
from matching import Filters, rank_offerings
from matching.index import query_radius_km

HIGH_NEED = 0.75


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--use-database",
        action="store_true",
        help="evaluate DATABASE_URL (holding the demo) instead of a scratch file",
    )
    parser.add_argument("-k", type=int, default=5)


def run(args: argparse.Namespace, database: Database) -> dict[str, Any]:
    if args.use_database:
        return _evaluate(database, args.k)
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{Path(scratch) / 'quality.db'}")
        migrate.upgrade(db)
        with db.session() as session:
            demo.load(session=session)
        try:
            return _evaluate(db, args.k)
        finally:
            db.dispose()


def _evaluate(database: Database, k: int) -> dict[str, Any]:
    data = load_oakland()
    served = {o.external_id: set(o.served_school_ids) for o in data.organizations}
    config = get_settings().ranking
    figures: dict[str, Any] = {"k": k, "model_version": config.version}
    ranking_index = CatalogIndex()
    with database.session() as session:
        index = ranking_index.current(session)
        org_ext = dict(session.execute(select(Organization.id, Organization.external_id)).all())
        offering_org = dict(session.execute(select(Offering.id, Offering.organization_id)).all())
        schools = list(session.scalars(select(School).order_by(School.id)))
        latest = school_repo.latest_assessments(session, [s.id for s in schools])
        hits, recalls = [], []
        for school in schools:
            assessment = latest.get(school.id)
            if assessment is None:
                continue
            needs = [service.as_need(n) for n in assessment.needs]
            ranked = rank_offerings(
                index,
                service.school_query(school, None),
                needs,
                k=k,
                equity=config.equity,
                filters=Filters(),
            )
            reach_km = query_radius_km(config, school.locale)
            top = {n.category for n in needs if n.priority == 1}
            hits.append(
                any(
                    any(m.category in top for m in r.needs_met)
                    and (r.distance_km <= reach_km or "virtual" in r.reason)
                    for r in ranked
                )
            )
            orgs = {org_ext.get(offering_org.get(r.offering_id)) for r in ranked}
            recalls.append(any(school.external_id in served.get(o or "", ()) for o in orgs))
        figures["schools_evaluated"] = len(hits)
        figures[f"top_need_hit@{k}"] = round(statistics.mean(hits), 3)
        figures[f"real_partner_recall@{k}"] = round(statistics.mean(recalls), 3)
        figures["high_need_share"] = _equity_shares(session, ranking_index, schools, latest)
    print(
        f"{figures['schools_evaluated']} schools: top-need hit@{k} "
        f"{figures[f'top_need_hit@{k}']}, real-partner recall@{k} "
        f"{figures[f'real_partner_recall@{k}']}"
    )
    for row in figures["high_need_share"]["by_equity"]:
        print(
            f"  equity {row['equity']}: high-need share of top-5 slots {row['share']} "
            f"(base rate {figures['high_need_share']['base_rate']})"
        )
    return figures


def _equity_shares(
    session: Any, ranking_index: CatalogIndex, schools: list[School], latest: dict
) -> dict[str, Any]:
    with_needs = [s for s in schools if s.id in latest and s.need_index is not None]
    base = sum(s.need_index >= HIGH_NEED for s in with_needs) / max(1, len(with_needs))
    need_of = {s.id: s.need_index for s in with_needs}
    org_ids = list(
        session.scalars(
            select(Organization.id).where(Organization.id.in_(select(Offering.organization_id)))
        )
    )
    rows = []
    for equity in (0.0, 0.3, 0.6, 1.0):
        slots = high = 0
        for org_id in org_ids:
            ranked = service.schools_for_organization(
                session=session,
                ranking_index=ranking_index,
                principal=OPERATOR,
                settings=get_settings(),
                organization_id=org_id,
                offset=0,
                limit=5,
                equity=equity,
                district=None,
                max_distance_km=None,
            )
            for r, _ in ranked.results:
                if r.school_id in need_of:
                    slots += 1
                    high += need_of[r.school_id] >= HIGH_NEED
        rows.append({"equity": equity, "share": round(high / max(1, slots), 3), "slots": slots})
    return {"threshold": HIGH_NEED, "base_rate": round(base, 3), "by_equity": rows}

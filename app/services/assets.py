"""Use cases of the needs-gap analysis: coverage of a school's needs, and gaps and deserts over
an area (the asset map itself is app.services.asset_map).

Coverage is computed over every assessed school in the database (geo.coverage shares an
offering's capacity among all the schools it counts for), so a school's answer is the same
whichever district, box or page it is asked for in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy import Row
from sqlalchemy.orm import Session

import geo
from app.auth.principal import Principal
from app.domain_errors import NotFound
from app.repositories import assets as repo
from app.repositories import offerings as offering_repo
from app.repositories import serving
from app.schemas.assets import (
    AreaOut,
    CategoryGaps,
    DesertOut,
    GapRow,
    GapsOut,
    GapSummary,
    NeedCoverage,
    PartnershipMet,
    ReachingOffering,
    SchoolBrief,
    SchoolCoverageOut,
    SchoolGaps,
    StatusCounts,
    Thresholds,
)
from app.services import schools as school_service
from app.services.catalog_index import CatalogIndex
from app.services.matches import as_need
from app.taxonomy import addresses, branch, load_taxonomy, per_distinct, within
from geo import (
    BBox,
    CoverageConfig,
    DesertConfig,
    padded_box,
)
from matching import (
    OfferingIndex,
    RankingConfig,
    Reaching,
    SchoolTable,
    fit_and_reach,
    populations_from_indicators,
)
from matching.pairs import ISSUES, VIA
from matching.vocab import DELIVERIES

COVERAGE = CoverageConfig()
DESERTS = DesertConfig()
IN_PERSON = frozenset(DELIVERIES) - {"virtual"}


def thresholds() -> Thresholds:
    return Thresholds(
        min_fit=COVERAGE.min_fit,
        met=COVERAGE.met,
        thin=COVERAGE.thin,
        reach_scales=COVERAGE.reach_scales,
        high_need=DESERTS.high_need,
        desert_far_scales=DESERTS.far_scales,
        estimated_schools=COVERAGE.estimated_schools,
    )


# --- coverage over every assessed school -------------------------------------------------------


@dataclass(frozen=True)
class Universe:
    """Every assessed school (id order) with its latest needs, flattened alongside."""

    schools: list[Row[Any]]
    table: SchoolTable
    needs: list[Row[Any]]  # aligned with the flattened needs of `table`
    need_school: np.ndarray  # school row of each need


@dataclass(frozen=True)
class Analysis:
    universe: Universe
    reach: Reaching
    cover: geo.Coverage  # its pair arrays align with reach.usable
    partnered: dict[int, PartnershipMet]  # need row -> the active partnership that meets it


def _universe(session: Session) -> Universe:
    schools, needs = repo.assessed_schools(session)
    by_assessment: dict[int, list[Row[Any]]] = {}
    for need in needs:
        by_assessment.setdefault(need.assessment_id, []).append(need)
    groups = [by_assessment.get(s.assessment_id, []) for s in schools]
    table = SchoolTable(
        ids=np.array([s.id for s in schools], dtype=np.int64),
        lat=np.array([s.lat for s in schools], dtype=np.float64),
        lon=np.array([s.lon for s in schools], dtype=np.float64),
        locale=[s.locale for s in schools],
        grade_low=np.array([s.grade_low for s in schools], dtype=np.int64),
        grade_high=np.array([s.grade_high for s in schools], dtype=np.int64),
        need_index=np.array([_nan(s.need_index) for s in schools], dtype=np.float64),
        languages=[frozenset(s.languages) for s in schools],
        populations=[
            populations_from_indicators(
                frl_pct=s.frl_pct,
                title_i=s.title_i,
                el_pct=s.el_pct,
                swd_pct=s.swd_pct,
                locale=s.locale,
            )
            for s in schools
        ],
        needs=[[as_need(n) for n in group] for group in groups],
    )
    lengths = np.array([len(g) for g in groups], dtype=np.intp)
    return Universe(
        schools=list(schools),
        table=table,
        needs=list(itertools.chain.from_iterable(groups)),
        need_school=np.repeat(np.arange(len(schools)), lengths),
    )


def _fingerprint(universe: Universe) -> str:
    """What coverage depends on besides the catalog: every assessed school's row and needs."""
    t = universe.table
    digest = hashlib.blake2b(digest_size=16)
    for column in (t.ids, t.lat, t.lon, t.grade_low, t.grade_high, t.need_index):
        digest.update(np.ascontiguousarray(column).tobytes())
    digest.update(
        repr(
            (
                t.locale,
                [sorted(x) for x in t.languages],
                [sorted(x) for x in t.populations],
                t.needs,
            )
        ).encode()
    )
    return digest.hexdigest()


def _assessed(session: Session, ranking_index: CatalogIndex) -> tuple[Universe, Hashable]:
    """Every assessed school with its needs, and what identifies them: the schools' serving
    version (any write to schools, assessments, needs or districts changes it), so the
    universe is read and the key computed once per version, not per request; a fingerprint of
    the rows when the version row is missing."""
    version = serving.versions(session).get("schools")
    if version is None:
        universe = _universe(session)
        return universe, _fingerprint(universe)
    key = ("schools", version)
    return ranking_index.derived(session, ("universe", key), lambda _: _universe(session)), key


def _analyse(
    session: Session, ranking_index: CatalogIndex, universe: Universe, key: Hashable
) -> Analysis:
    """Coverage of every assessed school's needs, computed once per catalog version, set of
    assessments and day (shares depend on all of them), then answered from the worker's memory."""
    key = ("coverage", key, dt.date.today())
    reach, cover = ranking_index.derived(
        session, key, lambda index: _coverage(session, index, universe)
    )
    # Partnerships are read per request (they are not catalog changes); the cached arrays stay
    # untouched.
    partnered = _partnered(session, universe)
    if partnered:
        status, estimated = cover.status.copy(), cover.need_estimated.copy()
        status[list(partnered)] = geo.MET
        estimated[list(partnered)] = False  # met by the partnership, not an estimate
        cover = replace(cover, status=status, need_estimated=estimated)
    return Analysis(universe, reach, cover, partnered)


def _coverage(
    session: Session, index: OfferingIndex, universe: Universe
) -> tuple[Reaching, geo.Coverage]:
    table = universe.table
    covered = repo.polygon_cover(session, table.ids.tolist(), table.lat, table.lon)
    reach = fit_and_reach(index, table, covered=covered, coverage=COVERAGE)
    estimates = _history_estimates(session, reach.offerings)
    return reach, reach.coverage(config=COVERAGE, estimated_schools_left=estimates)


def _history_estimates(session: Session, off: Any) -> np.ndarray | None:
    """Schools per year for offerings declaring no school capacity, from partnerships: the
    most schools partnerships naming the offering served in one school year, else its
    organization's most, shared among the organization's offerings without a capacity. NaN
    where there is no history (the coverage model's default estimate applies)."""
    by_org, by_offering = repo.schools_served_per_year(session)
    if not by_org:
        return None
    unknown = np.isnan(np.asarray(off.schools_left, dtype=np.float64))
    orgs = np.asarray(off.organization_ids, dtype=np.int64)
    sharing_orgs, sharing = np.unique(orgs[unknown], return_counts=True)
    per_org = _lookup(orgs, by_org) / _lookup(
        orgs, dict(zip(sharing_orgs.tolist(), sharing.tolist(), strict=True))
    )
    own = _lookup(np.asarray(off.ids, dtype=np.int64), by_offering)
    return np.where(unknown, np.where(np.isnan(own), per_org, own), np.nan)


def _lookup(keys: np.ndarray, table: dict[int, int]) -> np.ndarray:
    """table[key] for each key, NaN where absent (vectorised)."""
    if not table:
        return np.full(len(keys), np.nan)
    known = np.fromiter(table.keys(), dtype=np.int64, count=len(table))
    values = np.fromiter(table.values(), dtype=np.float64, count=len(table))
    order = np.argsort(known)
    known, values = known[order], values[order]
    pos = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    return np.where(known[pos] == keys, values[pos], np.nan)


def _partnered(session: Session, universe: Universe) -> dict[int, PartnershipMet]:
    """Needs met by an active partnership of their school (see taxonomy.addresses)."""
    by_school: dict[int, list[Row[Any]]] = {}
    for p in repo.active_partnerships(session):
        by_school.setdefault(p.school_id, []).append(p)
    if not by_school:
        return {}
    rows = np.flatnonzero(np.isin(universe.table.ids[universe.need_school], list(by_school)))
    out = {}
    for r in rows.tolist():
        need = universe.needs[r]
        for p in by_school[int(universe.table.ids[universe.need_school[r]])]:
            if addresses(p.need_categories, need.category):
                out[r] = PartnershipMet(
                    partnership_id=p.id,
                    organization_id=p.organization_id,
                    organization_name=p.organization_name,
                )
                break
    return out


def school_coverage(
    *,
    session: Session,
    ranking_index: CatalogIndex,
    principal: Principal,
    ranking: RankingConfig,
    school_id: int,
    per_need: int,
) -> SchoolCoverageOut:
    """One school's current needs, each with its status and the offerings that reach it."""
    school = school_service.readable(session=session, principal=principal, school_id=school_id)
    universe, key = _assessed(session, ranking_index)
    position = np.searchsorted(universe.table.ids, school_id)
    if position >= len(universe.schools) or universe.table.ids[position] != school_id:
        raise NotFound(
            f"School {school_id} has no needs assessment to measure coverage against; file "
            f"one with POST /v1/schools/{school_id}/needs-assessments."
        )
    analysis = _analyse(session, ranking_index, universe, key)
    reach, cover = analysis.reach, analysis.cover
    share = np.zeros(len(reach.fit))
    share[reach.usable] = cover.share
    mine = np.flatnonzero(reach.need_school == position)
    pairs = np.flatnonzero(np.isin(reach.pair_need, mine))
    off = reach.offerings
    details = offering_repo.briefs(session, off.ids[reach.pair_offering[pairs]].tolist())
    reached = cover.schools_reached
    taxonomy = load_taxonomy()
    needs_out = []
    for row in mine.tolist():
        need = universe.needs[row]
        rows = pairs[reach.pair_need[pairs] == row]
        contribution = reach.fit[rows] * share[rows]
        order = np.lexsort((off.ids[reach.pair_offering[rows]], -reach.fit[rows], -contribution))
        listed = []
        for r in rows[order][:per_need].tolist():
            o = int(reach.pair_offering[r])
            detail = details.get(int(off.ids[o]))
            if detail is None:  # removed since the index was read
                continue
            listed.append(
                ReachingOffering(
                    offering_id=detail.id,
                    title=detail.title,
                    organization_id=detail.organization_id,
                    organization_name=detail.organization_name,
                    categories=detail.categories,
                    fit=round(float(reach.fit[r]), 4),
                    share=round(float(share[r]), 4),
                    contribution=round(float(reach.fit[r] * share[r]), 4),
                    distance_km=round(float(reach.distance_km[r]), 3),
                    via=VIA[int(reach.via[r])],  # type: ignore[arg-type]
                    capacity_schools=detail.capacity_schools,
                    capacity_students=detail.capacity_students,
                    capacity_estimated=bool(cover.estimated[o]),
                    schools_counting_on_it=int(reached[o]),
                    issue=ISSUES[int(reach.issue[r])] or None,  # type: ignore[arg-type]
                )
            )
        needs_out.append(
            NeedCoverage(
                need_id=need.id,
                category=need.category,
                category_name=taxonomy.name(need.category),
                priority=need.priority,
                students_affected=need.students_affected,
                status=geo.STATUSES[int(cover.status[row])],  # type: ignore[arg-type]
                effective_coverage=round(float(cover.effective[row]), 4),
                offerings=int(cover.offerings[row]),
                best_fit=round(float(cover.best_fit[row]), 4),
                capacity_estimated=bool(cover.need_estimated[row]),
                met_by_partnership=analysis.partnered.get(row),
                reaching=listed,
            )
        )
    record = universe.schools[position]
    statuses = cover.status[mine]
    return SchoolCoverageOut(
        school=_brief(school),
        needs_assessment_id=record.assessment_id,
        assessed_on=record.assessed_on,
        model_version=ranking.version,
        thresholds=thresholds(),
        summary=_counts(statuses),
        needs=needs_out,
    )


def offering_places(
    *, session: Session, offering_ids: Sequence[int], near: tuple[float, float]
) -> dict[int, tuple]:
    """(lat, lon) each offering's reach is measured from: its organization's location nearest
    the point `near` (the school), as the gap analysis measures it."""
    details = offering_repo.briefs(session, offering_ids)
    places = repo.locations_of(session, sorted({d.organization_id for d in details.values()}))
    nearest = {}
    for org, sites in places.items():
        km = geo.haversine_km(near[0], near[1], [p[0] for p in sites], [p[1] for p in sites])
        nearest[org] = sites[int(np.argmin(km))]
    return {
        i: nearest[d.organization_id] for i, d in details.items() if d.organization_id in nearest
    }


def _brief(school: Any) -> SchoolBrief:
    return SchoolBrief(
        id=school.id,
        name=school.name,
        district=school.district,
        lat=school.lat,
        lon=school.lon,
        locale=school.locale,
        need_index=school.need_index,
        enrollment=school.enrollment,
    )


def _counts(statuses: np.ndarray) -> StatusCounts:
    counts = np.bincount(statuses, minlength=3)
    return StatusCounts(
        needs=len(statuses), met=int(counts[2]), thin=int(counts[1]), unmet=int(counts[0])
    )


# --- gaps ----------------------------------------------------------------------------------


def gaps(
    *,
    session: Session,
    ranking_index: CatalogIndex,
    principal: Principal,
    ranking: RankingConfig,
    district: str | None,
    bbox: BBox | None,
    categories: Sequence[str],
    statuses: Sequence[str],
    level: int,
    offset: int,
    limit: int,
) -> GapsOut:
    """Coverage of the area's school needs in gap order, deserts and a summary by category.
    They list schools' needs, so a district's callers get their own district's schools only."""
    own = None if principal.is_admin else principal.district_id
    area = repo.schools_in_area(session, district=district, bbox=bbox, district_id=own)
    if district is not None and not area:
        raise NotFound(f"No district with schools has the id, slug or name '{district}'.")
    universe, key = _assessed(session, ranking_index)
    focus = np.flatnonzero(np.isin(universe.table.ids, [s.id for s in area]))
    analysis = _analyse(session, ranking_index, universe, key)
    cover = analysis.cover
    taxonomy = load_taxonomy()

    needs = universe.needs
    in_focus = np.isin(universe.need_school, focus)
    wanted = np.array([within(n.category, categories) for n in needs], dtype=bool)
    rows = np.flatnonzero(in_focus & wanted) if len(needs) else np.zeros(0, dtype=np.intp)
    schools = universe.schools
    order = geo.gap_order(
        need_index=[_nan(schools[universe.need_school[r]].need_index) for r in rows],
        students=[_nan(needs[r].students_affected) for r in rows],
        status=cover.status[rows],
        priority=[needs[r].priority for r in rows],
        school_id=universe.table.ids[universe.need_school[rows]],
        position=rows,
    )
    ranked = rows[order]
    status_codes = [geo.STATUSES.index(s) for s in statuses]
    listed = ranked[np.isin(cover.status[ranked], status_codes)]
    page = listed[offset : offset + limit]
    items = [
        _gap_row(offset + i + 1, schools[universe.need_school[r]], needs[r], analysis, r, taxonomy)
        for i, r in enumerate(page.tolist())
    ]

    branches = sorted({branch(needs[r].category) for r in rows})
    branch_of = {b: i for i, b in enumerate(branches)}
    summary = geo.summarize(
        category=[branch_of[branch(needs[r].category)] for r in rows],
        status=cover.status[rows],
        school=universe.need_school[rows],
        students=[_nan(needs[r].students_affected) for r in rows],
        n_categories=len(branches),
    )
    desert_codes = list(categories) or branches
    found = _deserts(session, ranking, area, desert_codes, level)
    desert_count: dict[str, int] = {}
    for d in found:
        desert_count[d.category] = desert_count.get(d.category, 0) + 1
    by_category = [
        CategoryGaps(
            category=b,
            name=taxonomy.name(b),
            needs=int(summary.needs[i]),
            met=int(summary.met[i]),
            thin=int(summary.thin[i]),
            unmet=int(summary.unmet[i]),
            schools_with_gaps=int(summary.schools_with_gaps[i]),
            students_in_gaps=int(summary.students_in_gaps[i]),
            desert_cells=desert_count.get(b, 0),
        )
        for i, b in enumerate(branches)
    ]
    counts = np.bincount(cover.status[rows], minlength=3)
    gap_rows = rows[cover.status[rows] <= geo.THIN]
    return GapsOut(
        area=AreaOut(district=district, bbox=bbox.to_list() if bbox else None),
        model_version=ranking.version,
        thresholds=thresholds(),
        grid_level=level,
        summary=GapSummary(
            schools=len(area),
            assessed_schools=len(focus),
            needs=len(rows),
            met=int(counts[2]),
            thin=int(counts[1]),
            unmet=int(counts[0]),
            students_in_gaps=int(sum(needs[r].students_affected or 0 for r in gap_rows)),
            desert_cells=len(found),
        ),
        by_category=by_category,
        deserts=found,
        schools=_school_gaps(area, universe, cover, rows),
        items=items,
        next_cursor=str(offset + limit) if offset + limit < len(listed) else None,
        limit=limit,
    )


def _gap_row(
    rank: int, school: Row[Any], need: Row[Any], analysis: Analysis, r: int, taxonomy: Any
) -> GapRow:
    cover = analysis.cover
    return GapRow(
        rank=rank,
        school_id=school.id,
        school_name=school.name,
        district=school.district,
        lat=school.lat,
        lon=school.lon,
        need_index=school.need_index,
        enrollment=school.enrollment,
        need_id=need.id,
        category=need.category,
        category_name=taxonomy.name(need.category),
        priority=need.priority,
        students_affected=need.students_affected,
        status=geo.STATUSES[int(cover.status[r])],  # type: ignore[arg-type]
        effective_coverage=round(float(cover.effective[r]), 4),
        offerings=int(cover.offerings[r]),
        best_fit=round(float(cover.best_fit[r]), 4),
        capacity_estimated=bool(cover.need_estimated[r]),
        met_by_partnership=analysis.partnered.get(r),
    )


def _school_gaps(
    area: list[Row[Any]], universe: Universe, cover: geo.Coverage, rows: np.ndarray
) -> list[SchoolGaps]:
    """Each school of the area with counts over its (category-filtered) current needs."""
    school_rows = universe.need_school[rows]
    counts = np.zeros((len(universe.schools), 3), dtype=np.int64)
    np.add.at(counts, (school_rows, cover.status[rows]), 1)
    position = {int(i): p for p, i in enumerate(universe.table.ids.tolist())}
    out = []
    for s in area:
        p = position.get(s.id)
        c = counts[p] if p is not None else np.zeros(3, dtype=np.int64)
        out.append(
            SchoolGaps(
                school_id=s.id,
                school_name=s.name,
                lat=s.lat,
                lon=s.lon,
                need_index=s.need_index,
                enrollment=s.enrollment,
                assessed=p is not None,
                needs=int(c.sum()),
                met=int(c[2]),
                thin=int(c[1]),
                unmet=int(c[0]),
            )
        )
    return out


def _deserts(
    session: Session,
    ranking: RankingConfig,
    area: list[Row[Any]],
    codes: Sequence[str],
    level: int,
) -> list[DesertOut]:
    """Deserts of these categories among the area's schools (see geo.gaps)."""
    config = DesertConfig(high_need=DESERTS.high_need, far_scales=DESERTS.far_scales, level=level)
    high = [s for s in area if s.need_index is not None and s.need_index >= config.high_need]
    if not high or not codes:
        return []
    scale = np.array([ranking.scale_km(s.locale) for s in high], dtype=np.float64)
    box = padded_box([s.lat for s in high], [s.lon for s in high], float(scale.max()))
    assets = [a for a in repo.assets_in_box(session, box, codes) if _in_person(a.delivery)]
    # Category codes are few: map each once to the deserts' categories it falls within.
    hits = {code: _hits(code, codes) for code in _codes()}
    per_asset = per_distinct(
        [a.categories for a in assets],
        lambda cats: sorted({i for code in cats for i in hits.get(code) or _hits(code, codes)}),
    )
    lengths = [len(p) for p in per_asset]
    found = geo.deserts(
        lat=[s.lat for s in high],
        lon=[s.lon for s in high],
        need_index=[s.need_index for s in high],
        scale_km=scale,
        asset_lat=np.repeat([a.lat for a in assets], lengths),
        asset_lon=np.repeat([a.lon for a in assets], lengths),
        asset_category=list(itertools.chain.from_iterable(per_asset)),
        n_categories=len(codes),
        config=config,
    )
    taxonomy = load_taxonomy()
    out = []
    for d in found:
        members = [high[i] for i in d.schools.tolist()]
        nearest = float(d.nearest_km.min())
        out.append(
            DesertOut(
                cell=geo.cell_id(level, d.x, d.y),
                category=codes[d.category],
                category_name=taxonomy.name(codes[d.category]),
                bbox=[round(v, 7) for v in geo.cell_bounds([d.x], [d.y], level)[0].tolist()],
                school_ids=[s.id for s in members],
                high_need_schools=len(members),
                enrollment=sum(s.enrollment or 0 for s in members),
                max_need_index=max(s.need_index for s in members),
                nearest_asset_km=round(nearest, 3) if math.isfinite(nearest) else None,
            )
        )
    return out


def _codes() -> list[str]:
    return [c.code for c in load_taxonomy().categories]


def _hits(code: str, codes: Sequence[str]) -> list[int]:
    """Positions of the codes that `code` falls within."""
    return [i for i, c in enumerate(codes) if within(code, [c])]


def _in_person(delivery: Sequence[str]) -> bool:
    """Unspecified delivery counts as in person (the usual case for K-12 partners)."""
    return not delivery or bool(IN_PERSON.intersection(delivery))


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)

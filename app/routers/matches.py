"""HTTP for rankings: partners for a school (filed or ad-hoc needs), schools for a partner."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, get_args
from urllib.parse import parse_qsl

import anyio
import anyio.lowlevel
import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import UnboundExecutionError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.deps import (
    PrincipalDep,
    RankingIndexDep,
    ResultCacheDep,
    ServingCacheDep,
    SessionDep,
    SessionOpener,
    SettingsDep,
    get_app_settings,
    get_ranking_index,
    get_result_cache,
    get_serving_cache,
    get_session,
    given,
    guard,
    principal_of,
)
from app.repositories.offerings import OfferingBrief
from app.routers.params import NO_NUL, RankingOfferingsDep
from app.schemas.matches import (
    GROUPING_DOC,
    Contribution,
    Grouping,
    MatchFilters,
    MatchRequest,
    NeedMet,
    OfferingMatches,
    SchoolMatch,
    SchoolMatches,
)
from app.services import matches as service
from app.services.catalog_index import CatalogIndex
from app.services.matches import OfferingRanking
from app.services.result_cache import ResultCache
from app.services.serving_cache import ServingCache
from app.settings import Settings
from matching import RankedOffering, RankedSchool

router = APIRouter(tags=["matches"])
RANK_CURSOR = r"^[0-9]{1,3}$"

Limit = Annotated[int, Query(ge=1, le=100, description="Results per page")]
RankCursor = Annotated[
    str | None,
    Query(pattern=RANK_CURSOR, description="`next_cursor` of the previous page (a rank offset)"),
]
GroupParam = Annotated[Grouping, Query(description=GROUPING_DOC)]
EquityParam = Annotated[
    float | None,
    Query(ge=0, le=1, description="Equity strength, 0 = pure fit; default: the district's"),
]


def _offset(cursor: str | None) -> int:
    return int(cursor) if cursor else 0


def _cursor(offset: int | None) -> str | None:
    return None if offset is None else str(offset)


def _contributions(result: RankedOffering | RankedSchool) -> list[Contribution]:
    return [
        Contribution(component=c.component, points=c.points, detail=c.detail)
        for c in result.contributions
    ]


def _needs_met(result: RankedOffering | RankedSchool) -> list[NeedMet]:
    return [
        NeedMet(
            category=n.category,
            name=n.name,
            priority=n.priority,
            credit=n.credit,
            via=n.via,
            primary=n.primary,
        )
        for n in result.needs_met
    ]


# The answer is serialised once, here, from plain data in the response model's field order and
# types (no model instances, no second validation): the same bytes FastAPI's response_model
# would send (tests/api/test_http_path.py checks them against it), and response_model stays
# for the OpenAPI schema. A ranking's results hold plain Python values already, and its
# contributions and needs met are serialised from their own fields (a direct_init dataclass
# keeps them, in order, in its __dict__: the schema's Contribution and NeedMet, field for
# field), so nothing is copied or converted again per result. orjson writes these plain values
# as pydantic_core.to_json does (the same float and string forms), in about 40 % of its time:
# a ranking's answer took ~250 µs with to_json and ~95 µs with orjson on a loaded machine.


# The offering part of a result, by offering id, with the brief it was made from: the index
# gives the same brief object while the offering is unchanged (CatalogIndex.shown).
_OFFERING_JSON: dict[int, tuple[OfferingBrief, dict[str, Any]]] = {}
MAX_OFFERINGS_HELD = 10_000


def _offering_json(o: OfferingBrief) -> dict[str, Any]:
    held = _OFFERING_JSON.get(o.id)
    if held is not None and held[0] is o:
        return held[1]
    shown = {
        "id": int(o.id),
        "title": str(o.title),
        "organization_id": int(o.organization_id),
        "organization_name": str(o.organization_name),
        "verified": bool(o.verified),
        "categories": [str(c) for c in o.categories],
        "cost": None if o.cost is None else str(o.cost),
        "delivery": [str(d) for d in o.delivery],
    }
    if len(_OFFERING_JSON) >= MAX_OFFERINGS_HELD:
        _OFFERING_JSON.clear()
    _OFFERING_JSON[o.id] = (o, shown)
    return shown


def _offering_matches_json(ranking: OfferingRanking, limit: int) -> bytes:
    titles = ranking.titles
    items = [
        {
            "rank": r.rank,
            "score": r.score,
            "offering": _offering_json(o),
            "distance_km": r.distance_km,
            "reason": r.reason,
            "contributions": [c.__dict__ for c in r.contributions],
            "needs_met": [n.__dict__ for n in r.needs_met],
            "warnings": r.warnings,
            "other_offerings": [
                {
                    "id": other.offering_id,
                    "title": titles[other.offering_id],
                    "rank": other.rank,
                    "score": other.score,
                    "reason": other.reason,
                }
                for other in r.others
                if other.offering_id in titles
            ],
        }
        for r, o in ranking.results
    ]
    return orjson.dumps(
        {
            "group": ranking.group,
            "items": items,
            "next_cursor": _cursor(ranking.next_offset),
            "limit": int(limit),
            "equity": float(ranking.equity),
            "model_version": str(ranking.model_version),
            "needs_assessment_id": (
                None if ranking.needs_assessment_id is None else int(ranking.needs_assessment_id)
            ),
        },
        # NaN and infinities are written null, as the models' default (ser_json_inf_nan)
        # writes them; numpy scalars as pydantic writes a float's (a value is a Python one
        # wherever the ranking's lists hold it; this keeps any other from failing).
        option=orjson.OPT_SERIALIZE_NUMPY,
    )


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


class Rankings:
    """This worker's rankings of a school's matches: on the event loop, one at a time.

    answer() runs a ranking on the event loop when it needs nothing from the database
    (within the freshness bound the worker holds the index, the school's needs and the
    serving versions: the common case), else in the thread pool with the request's session.
    On the loop, work() gets a session bound to no database, whose first statement raises
    before anything is read or kept, and the index held (or no attempt), so the loop waits on
    neither the database nor a thread catching up; whatever needs a read is answered again in
    the pool.

    A ranking that arrives while another is in the pool waits for that one to end, and the one
    in the pool holds its connection before it goes there: rankings waiting at the gate may
    hold the pool's connections (their principals were read through their sessions), and a
    ranking they wait for waiting on theirs would stall them all until the pool's timeout,
    as 503s (seen once in six rounds at 16 clients before the connection came first). The one in
    the pool is nearly always reading what both need (the change log past the freshness
    bound, the serving versions, a school's needs), so the waiting one then usually ranks on
    the loop, with no read and no hop. Beside it in the pool it would read again, contend for
    the GIL and hold the loop's next arrivals in the pool after it: at 16 clients, each
    freshness bound's expiry then cost about a third more CPU per request (BENCHMARKS.md,
    "One ranking in the pool at a time")."""

    def __init__(self) -> None:
        # Set when the ranking in the pool ends; per event loop (a new loop, as in tests,
        # never waits on another's).
        self._in_pool: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    async def answer(
        self,
        ranking_index: CatalogIndex,
        open_session: SessionOpener,
        work: Callable[[Session], bytes],
    ) -> bytes:
        loop = asyncio.get_running_loop()
        session: Session | None = None
        while True:
            while self._in_pool is not None and self._in_pool[0] is loop:
                await self._in_pool[1].wait()
            with ranking_index.held_if_fresh() as fresh:
                if fresh:
                    try:
                        return work(Session())
                    except UnboundExecutionError:
                        pass
            if session is None:
                session = await open_session()
            if session.in_transaction():
                break
            # Its connection before it goes to the pool, then a look at the gate again: the
            # rankings waiting there may hold every connection of the pool (those whose
            # principals were read), so the one they wait for must never wait for theirs.
            await anyio.to_thread.run_sync(session.connection)
        ended = asyncio.Event()
        self._in_pool = (loop, ended)
        try:
            return await anyio.to_thread.run_sync(work, session)
        finally:
            if self._in_pool is not None and self._in_pool[1] is ended:
                self._in_pool = None
            ended.set()


@dataclass(frozen=True)
class Reach:
    """How far a ranked offering may be, and whether full ones are dropped."""

    max_distance_km: float | None
    exclude_full: bool


# Its own dependency so these two stay after the offering filters in the published order
# (FastAPI lists a route's own parameters before its dependencies').
async def reach_params(
    max_distance_km: Annotated[float | None, Query(gt=0, le=1000)] = None,
    exclude_full: bool = False,
) -> Reach:
    return Reach(max_distance_km=max_distance_km, exclude_full=exclude_full)


async def ranking_filters(
    offerings: RankingOfferingsDep, reach: Annotated[Reach, Depends(reach_params)]
) -> MatchFilters:
    """A school ranking's hard filters: the offering filters, then how far and whether full."""
    return MatchFilters.model_construct(
        categories=list(offerings.categories),
        grade_low=offerings.grade,
        grade_high=offerings.grade,
        schedule=list(offerings.schedule),
        delivery=list(offerings.delivery),
        languages=list(offerings.languages),
        free_only=offerings.free,
        verified_only=offerings.verified_only,
        max_distance_km=reach.max_distance_km,
        exclude_full=reach.exclude_full,
    )


async def school_matches(
    request: Request,
    school_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    serving_cache: ServingCacheDep,
    results: ResultCacheDep,
    filters: Annotated[MatchFilters, Depends(ranking_filters)],
    limit: Limit = 20,
    cursor: RankCursor = None,
    equity: EquityParam = None,
    group: GroupParam = "offering",
) -> Response:
    """Ranks every offering against the school's latest needs assessment. Each result
    explains itself: the points each component adds (they sum to `score`), the needs it meets
    and a one-line reason. Filters given here are hard; everything else is scored softly.
    `group=organization` gives one item per organization (its best offering, the others
    nested); the default, `group=offering`, one per offering. The response's `group` says
    which the caller got."""
    return await _answer_school_matches(
        request,
        given(session),
        school_id=school_id,
        ranking_index=ranking_index,
        settings=settings,
        principal=principal,
        serving_cache=serving_cache,
        results=results,
        filters=filters,
        limit=limit,
        cursor=cursor,
        equity=equity,
        group=group,
    )


async def _answer_school_matches(
    request: Request,
    open_session: SessionOpener,
    *,
    school_id: int,
    ranking_index: CatalogIndex,
    settings: Settings,
    principal: Principal,
    serving_cache: ServingCache | None,
    results: ResultCache | None,
    filters: MatchFilters,
    limit: int,
    cursor: str | None,
    equity: float | None,
    group: Grouping,
) -> Response:
    """school_matches' answer, its session opened only if a step reads the database."""

    def answer(session: Session) -> bytes:
        return service.for_school(
            session=session,
            ranking_index=ranking_index,
            principal=principal,
            settings=settings,
            school_id=school_id,
            offset=_offset(cursor),
            limit=limit,
            equity=equity,
            filters=filters,
            group=group,
            cache=serving_cache,
            results=results,
            render=lambda ranking: _offering_matches_json(ranking, limit),
        )

    return _json(await request.app.state.rankings.answer(ranking_index, open_session, answer))


# The plain request's parameters, each read as FastAPI would read it (anything else: FastAPI).
_PLAIN_QUERY = frozenset({"limit", "cursor", "group"})
_PLAIN_CURSOR = re.compile(r"[0-9]{1,3}")
_GROUPS: frozenset[str] = frozenset(get_args(Grouping))
_MAX_ID = 2**31 - 1
_ranking_offerings = RankingOfferingsDep.__metadata__[0].dependency


def _plain_int(text: str, high: int) -> int | None:
    """`text` as an int in 1..high when it is plain digits, else None (FastAPI judges it)."""
    if not (text.isascii() and text.isdigit()) or text[0] == "0" or len(text) > 10:
        return None
    value = int(text)
    return value if value <= high else None


def _plain_school_matches(scope: dict) -> dict[str, Any] | None:
    """The route's arguments when the request is the plain case (a school id, and at most
    `limit`, `cursor` and `group`, once each, with values whose reading is not in doubt); None
    for anything else, which FastAPI's own handler reads, validates and explains."""
    school_id = _plain_int(scope["path_params"]["school_id"], _MAX_ID)
    if school_id is None:
        return None
    given: dict[str, str] = {}
    if scope["query_string"]:
        for name, value in parse_qsl(scope["query_string"].decode("latin-1"), True):
            if name not in _PLAIN_QUERY or name in given:
                return None
            given[name] = value
    limit, cursor, group = 20, given.get("cursor"), given.get("group", "offering")
    if "limit" in given:
        parsed = _plain_int(given["limit"], 100)
        if parsed is None:
            return None
        limit = parsed
    if cursor is not None and not _PLAIN_CURSOR.fullmatch(cursor):
        return None
    if group not in _GROUPS:
        return None
    return {"school_id": school_id, "limit": limit, "cursor": cursor, "group": group}


_session_of = asynccontextmanager(get_session)


@asynccontextmanager
async def _request_session(request: Request) -> AsyncIterator[Session]:
    """The request's session as FastAPI enters a dependency with yield: its ending (rollback,
    close) shielded from cancellation, then the cancellation delivered."""
    with anyio.CancelScope() as cleanup:
        async with _session_of(request) as session:
            try:
                yield session
            finally:
                cleanup.shield = True
    await anyio.lowlevel.checkpoint_if_cancelled()


class SessionOnDemand:
    """The plain request's session, made the first time a step needs it (a principal the
    serving cache does not hold, a ranking that reads) and then ended as FastAPI ends a
    dependency's, after the answer is sent. Most plain requests read nothing, so they make
    no session (BENCHMARKS.md, "Ninth session": the saving is within the measurements'
    noise, a few per cent of a request at most)."""

    def __init__(self, request: Request, stack: AsyncExitStack) -> None:
        self._request = request
        self._stack = stack
        self._session: Session | None = None

    async def __call__(self) -> Session:
        if self._session is None:
            self._session = await self._stack.enter_async_context(_request_session(self._request))
        return self._session


class SchoolMatchesRoute(APIRoute):
    """The route with a fast path for its plain request (a school id, at most `limit`, `cursor`
    and `group`: nearly every call). FastAPI solves a dozen dependencies and fourteen
    parameters per request, a fifth of the whole request's CPU (ranking included); the plain
    case needs none of that judging, so it takes the same dependencies by hand, in FastAPI's
    order (the principal; the permission door; the rest), with the session made only if a
    step reads (SessionOnDemand), and gives the same answer. Every other request, and any app
    with dependency overrides, goes through FastAPI's handler: the published parameters, their
    validation and its problem+json errors are FastAPI's, unchanged."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handled_by_fastapi = super().get_route_handler()

        async def handler(request: Request) -> Response:
            arguments = _plain_school_matches(request.scope)
            # FastAPI's exit stack for the request's dependencies (an internal of FastAPI's:
            # without it, as in a FastAPI that names it otherwise, FastAPI answers).
            stack = request.scope.get("fastapi_inner_astack")
            if arguments is None or request.app.dependency_overrides or stack is None:
                return await handled_by_fastapi(request)
            open_session = SessionOnDemand(request, stack)
            principal = await principal_of(request, open_session)
            await guard(request, principal)
            filters = await ranking_filters(await _ranking_offerings(), await reach_params())
            return await _answer_school_matches(
                request,
                open_session,
                ranking_index=await get_ranking_index(request),
                settings=await get_app_settings(request),
                principal=principal,
                serving_cache=await get_serving_cache(request),
                results=await get_result_cache(request),
                filters=filters,
                equity=None,
                **arguments,
            )

        return handler


router.add_api_route(
    "/v1/schools/{school_id}/matches",
    school_matches,
    methods=["GET"],
    response_model=OfferingMatches,
    summary="Partners ranked for a school's latest needs",
    route_class_override=SchoolMatchesRoute,
)


@router.post(
    "/v1/matches",
    response_model=OfferingMatches,
    summary="Partners ranked for needs sent in the request",
    responses={404: {"description": "`school_id` names no school"}},
)
def ad_hoc_matches(
    body: MatchRequest,
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> Response:
    """For portals and principals without a filed assessment: needs plus a school id or a
    location. The filters in the body are hard; everything else is scored softly. Only the
    needs sent are ranked (a school id lends its place and indicators, never its filed
    needs), and callers who do not see unverified organizations get verified ones only."""
    ranking = service.ad_hoc(
        session=session,
        ranking_index=ranking_index,
        principal=principal,
        settings=settings,
        request=body,
    )
    return _json(_offering_matches_json(ranking, body.limit))


@router.get(
    "/v1/organizations/{organization_id}/school-matches",
    response_model=SchoolMatches,
    tags=["organizations"],
    summary="Schools that need this organization most",
)
def organization_school_matches(
    organization_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    limit: Limit = 20,
    cursor: RankCursor = None,
    equity: EquityParam = None,
    district: Annotated[str | None, Query(max_length=300, pattern=NO_NUL)] = None,
    max_distance_km: Annotated[float | None, Query(gt=0, le=1000)] = None,
) -> SchoolMatches:
    """Schools whose latest needs this organization's offerings meet best; with similar fit,
    higher-need schools rank first (`equity` sets how strongly)."""
    ranking = service.schools_for_organization(
        session=session,
        ranking_index=ranking_index,
        principal=principal,
        settings=settings,
        organization_id=organization_id,
        offset=_offset(cursor),
        limit=limit,
        equity=equity,
        district=district,
        max_distance_km=max_distance_km,
    )
    items = [
        SchoolMatch(
            rank=r.rank,
            score=r.score,
            school_id=r.school_id,
            school_name=name,
            offering_id=r.offering_id,
            need_index=r.need_index,
            distance_km=r.distance_km,
            reason=r.reason,
            contributions=_contributions(r),
            needs_met=_needs_met(r),
            warnings=list(r.warnings),
        )
        for r, name in ranking.results
    ]
    return SchoolMatches(
        items=items,
        next_cursor=_cursor(ranking.next_offset),
        limit=limit,
        equity=ranking.equity,
        model_version=ranking.model_version,
    )

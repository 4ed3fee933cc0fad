"""HTTP for OGC API - Features (Part 1 Core, GeoJSON) under /ogc, for GIS clients: QGIS,
ArcGIS and GDAL's OAPIF driver read the landing page, the conformance classes, the collections
and their items. Errors stay problem+json; a bad `bbox`, `limit` or `cursor` is a 400."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.encoders import jsonable_encoder

import geo
from app.deps import PrincipalDep, RankingIndexDep, SessionDep, SettingsDep
from app.domain_errors import InvalidParameter
from app.routers.assets import GeoJSONResponse
from app.routers.params import GEOJSON
from app.services import ogc as service
from geo import BBox

router = APIRouter(prefix="/ogc", tags=["ogc api - features"])

JSON = "application/json"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
DEFAULT_LIMIT, MAX_LIMIT = 10, 1000
CURSOR = re.compile(r"^[0-9]{1,12}(:[0-9]{1,12})?$")

BBoxText = Annotated[
    str | None,
    Query(
        description="`minLon,minLat,maxLon,maxLat` in CRS84 (six numbers: heights are "
        "ignored); minLon > maxLon crosses the antimeridian. Anything else is a 400.",
        examples=["-122.35,37.70,-122.10,37.89"],
    ),
]
LimitText = Annotated[
    str | None,
    Query(
        description=f"Features per page, 1 to {MAX_LIMIT} (larger asks get {MAX_LIMIT}); "
        f"default {DEFAULT_LIMIT}.",
        examples=["100"],
    ),
]
CursorText = Annotated[
    str | None, Query(description="Where the page starts; follow the `next` link rather.")
]
CollectionId = Annotated[str, Path(description="A collection's `id` (GET /ogc/collections)")]
FeatureId = Annotated[str, Path(description="A feature's `id`")]
ITEMS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {"schema": {"type": "object"}}}},
    400: {"description": "Invalid `bbox`, `limit` or `cursor`; `errors` names it"},
}


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _link(href: str, rel: str, type: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type}
    return link if title is None else {**link, "title": title}


def _crs_headers() -> dict[str, str]:
    return {"Content-Crs": f"<{CRS84}>"}


@router.get("", summary="Landing page")
def landing_page(request: Request) -> dict[str, Any]:
    """What the service offers, as links: the API definition, conformance and collections."""
    root = _root(request)
    return {
        "title": "PartnerMap",
        "description": "Community partners, schools, and (for districts) needs gaps, as OGC "
        "API - Features collections.",
        "links": [
            _link(f"{root}/ogc", "self", JSON, "This document"),
            _link(f"{root}/openapi.json", "service-desc", OPENAPI_30, "The API definition"),
            _link(f"{root}/docs", "service-doc", "text/html", "The API documentation"),
            _link(f"{root}/ogc/conformance", "conformance", JSON, "Conformance classes"),
            _link(f"{root}/ogc/collections", "data", JSON, "Collections"),
        ],
    }


@router.get("/conformance", summary="Conformance classes")
def conformance() -> dict[str, Any]:
    """The OGC API - Features requirement classes this service implements."""
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="Collections")
def list_collections(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """The collections this caller may read, each with its extent and links."""
    root = _root(request)
    return {
        "links": [_link(f"{root}/ogc/collections", "self", JSON, "This document")],
        "collections": [
            _collection(
                root, c, service.extent(session=session, principal=principal, collection_id=c.id)
            )
            for c in service.collections(principal=principal)
        ],
    }


def _collection(root: str, c: service.Collection, box: BBox) -> dict[str, Any]:
    url = f"{root}/ogc/collections/{c.id}"
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {
            "spatial": {"bbox": [box.to_list()], "crs": CRS84},
            "temporal": {"interval": [[None, None]], "trs": GREGORIAN},
        },
        "links": [
            _link(url, "self", JSON, "This collection"),
            _link(f"{url}/items", "items", GEOJSON, "Its features"),
        ],
    }


def _describe(
    request: Request, session: SessionDep, principal: PrincipalDep, collection_id: str
) -> dict[str, Any]:
    found = service.collection(principal=principal, collection_id=collection_id)
    box = service.extent(session=session, principal=principal, collection_id=found.id)
    return _collection(_root(request), found, box)


def _items(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    analysis: service.Analysis,
    collection_id: str,
    bbox: str | None,
    limit: str | None,
    cursor: str | None,
) -> GeoJSONResponse:
    size = _limit(limit)
    page = service.items(
        session=session,
        principal=principal,
        collection_id=collection_id,
        bbox=_bbox(bbox),
        limit=size,
        cursor=_cursor(cursor),
        analysis=analysis,
    )
    root, url = _root(request), request.url
    links = [
        _link(str(url), "self", GEOJSON, "This page"),
        _link(f"{root}/ogc/collections/{collection_id}", "collection", JSON, "The collection"),
    ]
    for rel, at in (("next", page.next_cursor), ("prev", page.prev_cursor)):
        if at is not None:
            links.append(_link(str(url.include_query_params(cursor=at, limit=size)), rel, GEOJSON))
    body = geo.feature_collection(
        page.features,
        links=links,
        numberMatched=page.number_matched,
        numberReturned=len(page.features),
        timeStamp=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
    return GeoJSONResponse(jsonable_encoder(body), headers=_crs_headers())


def _item(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    analysis: service.Analysis,
    collection_id: str,
    feature_id: str,
) -> GeoJSONResponse:
    feature = service.item(
        session=session,
        principal=principal,
        collection_id=collection_id,
        feature_id=feature_id,
        analysis=analysis,
    )
    url = f"{_root(request)}/ogc/collections/{collection_id}"
    feature["links"] = [
        _link(f"{url}/items/{quote(str(feature['id']), safe=':')}", "self", GEOJSON),
        _link(url, "collection", JSON, "The collection"),
    ]
    return GeoJSONResponse(jsonable_encoder(feature), headers=_crs_headers())


def _bbox(text: str | None) -> BBox | None:
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) == 6:  # minLon,minLat,minHeight,maxLon,maxLat,maxHeight
        parts = [parts[0], parts[1], parts[3], parts[4]]
    try:
        return geo.parse_bbox(",".join(parts))
    except geo.GeometryError as exc:
        raise InvalidParameter(["query", "bbox"], exc.reason) from exc


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise InvalidParameter(["query", "limit"], "limit must be a whole number, 1 or more.")
    return min(int(text), MAX_LIMIT)


def analysis(ranking_index: RankingIndexDep, settings: SettingsDep) -> service.Analysis:
    return service.Analysis(ranking_index=ranking_index, ranking=settings.ranking)


AnalysisDep = Annotated[service.Analysis, Depends(analysis)]


def _cursor(text: str | None) -> str | None:
    if text is not None and not CURSOR.match(text):
        raise InvalidParameter(["query", "cursor"], "Not a cursor: follow the `next` link.")
    return text


def _private_routes(collection_id: str) -> None:
    """The gap analysis collections get routes of their own, so the permission matrix (and
    the OpenAPI document) can say that only district readers may call them."""
    url = f"/collections/{collection_id}"

    def describe(request: Request, session: SessionDep, principal: PrincipalDep):
        return _describe(request, session, principal, collection_id)

    def items(
        request: Request,
        session: SessionDep,
        principal: PrincipalDep,
        analysis: AnalysisDep,
        bbox: BBoxText = None,
        limit: LimitText = None,
        cursor: CursorText = None,
    ):
        return _items(request, session, principal, analysis, collection_id, bbox, limit, cursor)

    def item(
        request: Request,
        session: SessionDep,
        principal: PrincipalDep,
        analysis: AnalysisDep,
        feature_id: FeatureId,
    ):
        return _item(request, session, principal, analysis, collection_id, feature_id)

    title = collection_id.capitalize()
    router.add_api_route(url, describe, summary=f"{title}: the collection")
    router.add_api_route(
        f"{url}/items",
        items,
        response_class=GeoJSONResponse,
        responses=ITEMS_RESPONSES,
        summary=f"{title}: features",
    )
    router.add_api_route(
        f"{url}/items/{{feature_id}}",
        item,
        response_class=GeoJSONResponse,
        summary=f"{title}: one feature",
    )


# Registered before the generic routes below, which would otherwise answer for them.
for _private in service.PRIVATE:
    _private_routes(_private)


@router.get("/collections/{collection_id}", summary="A collection")
def describe_collection(
    request: Request, session: SessionDep, principal: PrincipalDep, collection_id: CollectionId
) -> dict[str, Any]:
    """The collection's extent (CRS84) and links."""
    return _describe(request, session, principal, collection_id)


@router.get(
    "/collections/{collection_id}/items",
    response_class=GeoJSONResponse,
    responses=ITEMS_RESPONSES,
    summary="A collection's features",
)
def collection_items(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    analysis: AnalysisDep,
    collection_id: CollectionId,
    bbox: BBoxText = None,
    limit: LimitText = None,
    cursor: CursorText = None,
):
    """A GeoJSON FeatureCollection page in a fixed order, with `numberMatched`,
    `numberReturned`, `timeStamp` and a `next` link while more features follow."""
    return _items(request, session, principal, analysis, collection_id, bbox, limit, cursor)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    response_class=GeoJSONResponse,
    summary="One feature",
)
def collection_item(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    analysis: AnalysisDep,
    collection_id: CollectionId,
    feature_id: FeatureId,
):
    """One feature by id; one the caller may not see is a 404."""
    return _item(request, session, principal, analysis, collection_id, feature_id)

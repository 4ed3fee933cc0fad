"""A nonprofit's pages: sign up, register the organization, add and edit offerings, see the
verification state and the schools where its offerings are most needed."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from app.auth.principal import NOBODY
from app.deps import RankingIndexDep, SessionDep, SettingsDep
from app.pages.forms import FormInvalid, checked, number, posted, text, validated, words
from app.pages.search import SearchForm, place_of
from app.pages.session import CsrfCheckedDep, SignedInDep, admit
from app.pages.templating import redirect, render
from app.schemas.accounts import UserCreate
from app.schemas.offerings import OfferingCreate, OfferingUpdate
from app.schemas.organizations import OrganizationCreate
from app.services import accounts, matches, offerings, organizations
from app.taxonomy import load_taxonomy
from matching.vocab import COST_KINDS, DELIVERIES, SCHEDULES

router = APIRouter(include_in_schema=False)
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ORGANIZATION_TYPES = (
    "nonprofit",
    "business",
    "higher_education",
    "faith_based",
    "government",
    "community_group",
)


@router.get("/sign-up", response_class=HTMLResponse)
def sign_up_page(request: Request) -> HTMLResponse:
    return render(request, "sign_up.html", {"errors": {}, "email": ""})


@router.post("/sign-up", dependencies=[CsrfCheckedDep])
async def sign_up(request: Request, session: SessionDep) -> Response:
    """A new organization member (as POST /v1/users makes), sent on to sign in. The answer is
    the same whether or not the email had an account already, so the page does not tell who
    has one (an existing account is left as it is)."""
    form = await request.form()
    email, password = text(form, "email") or "", str(form.get("password") or "")

    def sign_up() -> None:
        user = validated(UserCreate, {"email": email, "password": password})
        accounts.sign_up(
            session=session, principal=NOBODY, email=user.email, password=user.password
        )

    return posted(
        sign_up,
        done=lambda _: redirect("/sign-in?next=" + quote("/my/organizations/new", safe="")),
        again=lambda errors, status: render(
            request, "sign_up.html", {"errors": errors, "email": email}, status
        ),
    )


@router.get("/my/organizations", response_class=HTMLResponse)
def my_organizations(request: Request, session: SessionDep, principal: SignedInDep) -> Response:
    """The organizations the signed-in member belongs to, with their verification state."""
    mine = [
        organizations.editable(session=session, principal=principal, organization_id=o)
        for o in sorted(principal.organization_ids)
    ]
    return render(request, "my_organizations.html", {"organizations": mine})


@router.get("/my/organizations/new", response_class=HTMLResponse)
def new_organization(request: Request, principal: SignedInDep) -> HTMLResponse:
    return _organization_form(request, {}, {})


def _organization_form(request: Request, values: dict, errors: dict, status: int = 200):  # type: ignore[no-untyped-def]
    return render(
        request,
        "organization_form.html",
        {
            "values": values,
            "errors": errors,
            "types": ORGANIZATION_TYPES,
            "area_invalid": any(field.startswith("service_area") for field in errors),
        },
        status_code=status,
    )


@router.post("/my/organizations/new", dependencies=[CsrfCheckedDep])
async def register_organization(
    request: Request, session: SessionDep, principal: SignedInDep
) -> Response:
    """Register the organization (unverified until a district verifies it); who may is the
    API's rule for POST /v1/organizations (organization members and the operator)."""
    admit(principal, "POST", "/v1/organizations")
    form = await request.form()

    def register() -> Any:
        data = validated(OrganizationCreate, _organization(form))
        return organizations.create(session=session, principal=principal, data=data)

    return posted(
        register,
        done=lambda org: redirect(f"/my/organizations/{org.id}"),
        again=lambda errors, status: _organization_form(request, dict(form), errors, status),
    )


def _organization(form: FormData) -> dict[str, Any]:
    where = SearchForm.model_construct(
        place=text(form, "postal_code"), lat=number(form, "lat"), lon=number(form, "lon")
    )
    point, _ = place_of(where)
    if point is None:
        raise FormInvalid({"postal_code": "Give a 5-digit US ZIP code or click the map."})
    return {
        "name": text(form, "name"),
        "type": text(form, "type"),
        "description": text(form, "description"),
        "website": text(form, "website"),
        "email": text(form, "email"),
        "phone": text(form, "phone"),
        "languages": words(form, "languages"),
        "locations": [
            {
                "address": text(form, "address"),
                "city": text(form, "city"),
                "state": text(form, "state"),
                "postal_code": text(form, "postal_code"),
                "lat": point.lat,
                "lon": point.lon,
                "precision": "exact" if number(form, "lat") is not None else "approximate",
            }
        ],
        "service_area": _service_area(form),
    }


def _service_area(form: FormData) -> dict[str, Any]:
    """A radius, or an area drawn on the map (or pasted as GeoJSON: the no-script fallback);
    the choice says which when both are filled in."""
    radius = number(form, "radius_km")
    drawn = text(form, "service_area_geojson")
    kind = text(form, "area_kind") or ("polygon" if drawn else "radius")
    if kind == "polygon":
        if drawn is None:
            raise FormInvalid({"service_area_geojson": "Draw the area on the map or paste it."})
        return {"kind": "polygon", "geometry": _geometry(drawn)}
    return {"kind": "radius", "radius_km": radius} if radius is not None else {"kind": "none"}


def _geometry(drawn: str) -> Any:
    """A GeoJSON Polygon or MultiPolygon, also when wrapped in a Feature (as tools export)."""
    try:
        value = json.loads(drawn)
    except ValueError:
        raise FormInvalid({"service_area_geojson": "This is not GeoJSON (JSON text)."}) from None
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        features = value.get("features") or []
        value = features[0] if len(features) == 1 else value
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise FormInvalid({"service_area_geojson": "Give one GeoJSON Polygon or MultiPolygon."})
    return value


@router.get("/my/organizations/{organization_id}", response_class=HTMLResponse)
def my_organization(
    request: Request,
    organization_id: RecordId,
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: SignedInDep,
) -> HTMLResponse:
    """Verification state, offerings, and the schools that need them most."""
    org = organizations.editable(
        session=session, principal=principal, organization_id=organization_id
    )
    needed: list[Any] = []
    if org.offerings and org.verification == "verified":
        needed = matches.schools_for_organization(
            session=session,
            ranking_index=ranking_index,
            principal=principal,
            settings=settings,
            organization_id=organization_id,
            offset=0,
            limit=10,
            equity=None,
            district=None,
            max_distance_km=None,
        ).results
    return render(request, "my_organization.html", {"organization": org, "needed": needed})


@router.get("/my/organizations/{organization_id}/offerings/new", response_class=HTMLResponse)
def new_offering(
    request: Request, organization_id: RecordId, session: SessionDep, principal: SignedInDep
) -> HTMLResponse:
    org = organizations.editable(
        session=session, principal=principal, organization_id=organization_id
    )
    return _offering_form(request, org, None, {"grade_low": "0", "grade_high": "12"}, {})


def _offering_form(request, org, offering, values, errors, status=200):  # type: ignore[no-untyped-def]
    taxonomy = load_taxonomy()
    return render(
        request,
        "offering_form.html",
        {
            "organization": org,
            "offering": offering,
            "values": values,
            "errors": errors,
            "branches": [c for c in taxonomy.categories if c.parent is None],
            "categories": taxonomy.categories,
            "schedules": SCHEDULES,
            "deliveries": DELIVERIES,
            "costs": COST_KINDS,
            "opened": {c.split(".")[0] for c in values.get("categories") or []},
        },
        status_code=status,
    )


def _offering(form: FormData) -> dict[str, Any]:
    return {
        "title": text(form, "title"),
        "description": text(form, "description"),
        "categories": checked(form, "categories"),
        "grade_low": number(form, "grade_low"),
        "grade_high": number(form, "grade_high"),
        "schedule": checked(form, "schedule"),
        "delivery": checked(form, "delivery"),
        "languages": words(form, "languages"),
        "cost": text(form, "cost"),
        "cost_amount": number(form, "cost_amount"),
        "capacity_schools": number(form, "capacity_schools"),
        "capacity_students": number(form, "capacity_students"),
    }


def _values(form: FormData) -> dict[str, Any]:
    """What was typed, to fill the form in again (checkbox groups as lists)."""
    return {k: form.getlist(k) if k in _GROUPS else form.get(k) for k in form}


_GROUPS = {"categories", "schedule", "delivery"}


@router.post("/my/organizations/{organization_id}/offerings/new", dependencies=[CsrfCheckedDep])
async def add_offering(
    request: Request, organization_id: RecordId, session: SessionDep, principal: SignedInDep
) -> Response:
    admit(principal, "POST", f"/v1/organizations/{organization_id}/offerings")
    org = organizations.editable(
        session=session, principal=principal, organization_id=organization_id
    )
    form = await request.form()

    def add() -> None:
        data = validated(OfferingCreate, _offering(form))
        offerings.create(
            session=session, principal=principal, organization_id=organization_id, data=data
        )

    return posted(
        add,
        done=lambda _: redirect(f"/my/organizations/{organization_id}"),
        again=lambda errors, status: _offering_form(
            request, org, None, _values(form), errors, status
        ),
    )


@router.get("/my/offerings/{offering_id}", response_class=HTMLResponse)
def edit_offering_page(
    request: Request, offering_id: RecordId, session: SessionDep, principal: SignedInDep
) -> HTMLResponse:
    offering = offerings.visible(session=session, principal=principal, offering_id=offering_id)
    org = organizations.editable(
        session=session, principal=principal, organization_id=offering.organization_id
    )
    values = {
        "title": offering.title,
        "description": offering.description or "",
        "categories": offering.categories,
        "grade_low": str(offering.grade_low),
        "grade_high": str(offering.grade_high),
        "schedule": offering.schedule,
        "delivery": offering.delivery,
        "languages": ", ".join(offering.languages),
        "cost": offering.cost or "",
        "cost_amount": "" if offering.cost_amount is None else str(offering.cost_amount),
        "capacity_schools": offering.capacity_schools or "",
        "capacity_students": offering.capacity_students or "",
    }
    return _offering_form(request, org, offering, values, {})


@router.post("/my/offerings/{offering_id}", dependencies=[CsrfCheckedDep])
async def edit_offering(
    request: Request, offering_id: RecordId, session: SessionDep, principal: SignedInDep
) -> Response:
    admit(principal, "PATCH", f"/v1/offerings/{offering_id}")
    offering = offerings.visible(session=session, principal=principal, offering_id=offering_id)
    org = organizations.editable(
        session=session, principal=principal, organization_id=offering.organization_id
    )
    form = await request.form()

    def update() -> None:
        data = validated(OfferingUpdate, _offering(form))
        offerings.update(session=session, principal=principal, offering_id=offering_id, data=data)

    return posted(
        update,
        done=lambda _: redirect(f"/my/organizations/{org.id}"),
        again=lambda errors, status: _offering_form(
            request, org, offering, _values(form), errors, status
        ),
    )

"""District admin's pages: the verification queue, the gaps map and table (CSV, GeoJSON), the
portal API keys and CSV imports with their progress and row-level report. Each page asks the
permission matrix about the API operation it performs, then calls the same service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from app import representations as shown
from app.auth.principal import Principal
from app.deps import DatabaseDep, RankingIndexDep, SessionDep, SettingsDep
from app.domain_errors import DomainError, NotFound
from app.filters import Area, OrganizationFilters
from app.pages.forms import FormInvalid, domain_errors, posted, validated
from app.pages.session import CsrfCheckedDep, SignedInDep, admit
from app.pages.templating import redirect, render
from app.representations import GAP_COLUMNS, job_out
from app.schemas.assets import GapsOut
from app.schemas.districts import ApiKeyCreate, ApiKeyOut
from app.services import api_keys, districts, imports, organizations, uploads
from app.services import assets as gap_service

router = APIRouter(include_in_schema=False)
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DistrictChoice = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
QUEUE = 200
GAPS_SHOWN = 200  # rows of the page's table; the CSV holds up to GAPS_EXPORTED
GAPS_EXPORTED = 5000
DESERT_LEVEL = 13
PICKER = 500
UPLOAD_KINDS = ("schools", "partnerships", "organizations", "offerings")
UNFINISHED = ("queued", "running")


# --- verification queue --------------------------------------------------------------------


@router.get("/admin/verification", response_class=HTMLResponse)
def verification_queue(request: Request, session: SessionDep, principal: SignedInDep) -> Response:
    """Organizations waiting for a decision, oldest first as the API lists them."""
    admit(principal, "POST", "/v1/organizations/1/verification")
    waiting = organizations.list_page(
        session=session,
        principal=principal,
        filters=OrganizationFilters(verification=("unverified",)),
        area=Area(),
        cursor=None,
        limit=QUEUE,
    )
    return render(
        request, "verification_queue.html", {"waiting": [o for o, _ in waiting], "errors": {}}
    )


@router.post("/admin/organizations/{organization_id}/verification", dependencies=[CsrfCheckedDep])
def decide(
    request: Request,
    organization_id: RecordId,
    session: SessionDep,
    principal: SignedInDep,
    state: Annotated[str, Form(pattern="^(verified|rejected)$")],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Verify (listed publicly from now on) or reject (the reason is shown to its members)."""
    admit(principal, "POST", f"/v1/organizations/{organization_id}/verification")

    def decide() -> None:
        organizations.decide_verification(
            session=session,
            principal=principal,
            organization_id=organization_id,
            state=state,
            reason=reason.strip() or None,
        )

    return posted(
        decide,
        done=lambda _: redirect("/admin/verification"),
        again=lambda errors, status: render(
            request, "verification_queue.html", {"waiting": [], "errors": errors}, status
        ),
    )


# --- which district --------------------------------------------------------------------------


def _district(principal: Principal, chosen: int | None) -> int | None:
    """A district admin's own district; the operator's choice (None: not chosen yet)."""
    if principal.is_admin:
        return chosen
    return principal.district_id


def _picker(request: Request, session: SessionDep, template: str, title: str) -> HTMLResponse:
    """The operator picks the district the page is about."""
    choices = districts.list_page(session=session, after_id=None, limit=PICKER)
    return render(
        request, "district_picker.html", {"districts": choices, "target": template, "title": title}
    )


# --- gaps ------------------------------------------------------------------------------------


def _gaps(
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: Principal,
    district_id: int,
    limit: int,
) -> GapsOut | None:
    """The API's gap analysis of the district (None: it has no schools yet)."""
    try:
        return gap_service.gaps(
            session=session,
            ranking_index=ranking_index,
            principal=principal,
            ranking=settings.ranking,
            district=str(district_id),
            bbox=None,
            categories=[],
            statuses=["unmet", "thin"],
            level=DESERT_LEVEL,
            offset=0,
            limit=limit,
        )
    except NotFound:
        return None


def _chosen_gaps(
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: Principal,
    district: int | None,
    limit: int,
) -> tuple[int, GapsOut | None]:
    """The downloads' district (chosen, or the admin's own) and its gaps; 404 until chosen."""
    admit(principal, "GET", "/v1/gaps")
    district_id = _district(principal, district)
    if district_id is None:
        raise NotFound("Choose a district.")
    return district_id, _gaps(session, ranking_index, settings, principal, district_id, limit)


@router.get("/admin/gaps", response_class=HTMLResponse)
def gaps_page(
    request: Request,
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: SignedInDep,
    district: DistrictChoice = None,
) -> Response:
    """The district's unmet and thin needs in gap order, its deserts, a summary by category,
    and a map of both (drawn by admin.js from the GeoJSON below)."""
    admit(principal, "GET", "/v1/gaps")
    district_id = _district(principal, district)
    if district_id is None:
        return _picker(request, session, "/admin/gaps", "Gaps")
    report = _gaps(session, ranking_index, settings, principal, district_id, GAPS_SHOWN)
    query = f"?district={district_id}" if principal.is_admin else ""
    return render(
        request, "admin_gaps.html", {"report": report, "query": query, "shown": GAPS_SHOWN}
    )


@router.get("/admin/gaps.csv")
def gaps_csv(
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: SignedInDep,
    district: DistrictChoice = None,
) -> Response:
    """The table as the API's CSV (every listed need, up to GAPS_EXPORTED), as a download."""
    district_id, report = _chosen_gaps(
        session, ranking_index, settings, principal, district, GAPS_EXPORTED
    )
    rows = [item.model_dump() for item in report.items] if report else []
    response = shown.csv_table(rows, GAP_COLUMNS, None)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="partnermap-gaps-district-{district_id}.csv"'
    )
    return response


@router.get("/admin/gaps.geojson")
def gaps_geojson(
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: SignedInDep,
    district: DistrictChoice = None,
) -> Response:
    """The map's data: the API's GeoJSON of the district's schools and deserts."""
    _, report = _chosen_gaps(session, ranking_index, settings, principal, district, GAPS_SHOWN)
    if report is None:
        raise NotFound("The district has no schools yet.")
    return shown.gaps_geojson(report)


# --- API keys --------------------------------------------------------------------------------


def _keys_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    district_id: int,
    *,
    created: tuple[ApiKeyOut, str] | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    keys = api_keys.list_for(session=session, principal=principal, district_id=district_id)
    return render(
        request,
        "admin_keys.html",
        {
            "district": districts.get(session=session, district_id=district_id),
            "keys": [ApiKeyOut.model_validate(k) for k in keys],
            "created": created,
            "errors": errors or {},
            "form": form or {"name": "", "scope": "read", "origins": ""},
        },
        status_code=status_code,
    )


@router.get("/admin/keys", response_class=HTMLResponse)
def keys_page(
    request: Request, session: SessionDep, principal: SignedInDep, district: DistrictChoice = None
) -> Response:
    """The district's portal keys (never the keys themselves) and a form to make one."""
    district_id = _district(principal, district)
    admit(principal, "GET", f"/v1/districts/{district_id or 1}/api-keys")
    if district_id is None:
        return _picker(request, session, "/admin/keys", "API keys")
    return _keys_page(request, session, principal, district_id)


@router.post("/admin/districts/{district_id}/keys", dependencies=[CsrfCheckedDep])
async def create_key(
    request: Request, district_id: RecordId, session: SessionDep, principal: SignedInDep
) -> Response:
    """Make a key; its secret is on this answer only (no redirect: it is never shown again)."""
    admit(principal, "POST", f"/v1/districts/{district_id}/api-keys")
    districts.get(session=session, district_id=district_id)  # no such district: the 404 page
    form = await request.form()
    entered = {k: str(form.get(k) or "") for k in ("name", "scope", "origins")}
    origins = [o.strip() for o in entered["origins"].replace(",", "\n").splitlines() if o.strip()]

    def create() -> tuple[ApiKeyOut, str]:
        data = validated(
            ApiKeyCreate,
            {
                "name": entered["name"].strip(),
                "scope": entered["scope"],
                "allowed_origins": origins,
            },
        )
        key, plaintext = api_keys.create(
            session=session,
            principal=principal,
            district_id=district_id,
            name=data.name,
            scope=data.scope,
            allowed_origins=data.allowed_origins,
        )
        return ApiKeyOut.model_validate(key), plaintext

    return posted(
        create,
        done=lambda created: _keys_page(
            request, session, principal, district_id, created=created, status_code=201
        ),
        again=lambda errors, status: _keys_page(
            request,
            session,
            principal,
            district_id,
            errors=errors,
            form=entered,
            status_code=status,
        ),
    )


@router.post("/admin/districts/{district_id}/keys/{key_id}/revoke", dependencies=[CsrfCheckedDep])
def revoke_key(
    district_id: RecordId, key_id: RecordId, session: SessionDep, principal: SignedInDep
) -> Response:
    """Revoke at once (every worker refuses it from now on)."""
    admit(principal, "DELETE", f"/v1/districts/{district_id}/api-keys/{key_id}")
    api_keys.revoke(session=session, principal=principal, district_id=district_id, key_id=key_id)
    return redirect("/admin/keys" + (f"?district={district_id}" if principal.is_admin else ""))


# --- imports ---------------------------------------------------------------------------------


def _kinds(principal: Principal) -> list[str]:
    """The templates this principal may upload (the service's rule, asked kind by kind)."""
    allowed = []
    for kind in UPLOAD_KINDS:
        try:
            imports.check_allowed(principal=principal, kind=kind)
        except DomainError:
            continue
        allowed.append(kind)
    return allowed


@router.get("/admin/imports", response_class=HTMLResponse)
def imports_page(request: Request, principal: SignedInDep) -> Response:
    """Upload a CSV in one of PartnerMap's templates, imported as a job."""
    admit(principal, "POST", "/v1/imports")
    return render(request, "admin_imports.html", {"kinds": _kinds(principal), "errors": {}})


@router.post("/admin/imports", dependencies=[CsrfCheckedDep])
async def upload(
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    principal: SignedInDep,
) -> Response:
    """Queue the upload as an import job, run it after the answer, and show its progress."""
    admit(principal, "POST", "/v1/imports")
    form = await request.form()
    file = form.get("file")
    kind, source = str(form.get("kind") or ""), str(form.get("source") or "").strip()

    def queue() -> int:
        if kind not in UPLOAD_KINDS:
            raise FormInvalid({"kind": "Choose which template the file follows."})
        if not source or len(source) > 64:
            raise FormInvalid({"source": "Name the system the records come from (≤ 64)."})
        if isinstance(file, str) or file is None or not file.filename:
            raise FormInvalid({"file": "Choose a CSV file."})
        imports.check_allowed(principal=principal, kind=kind)
        uploads.check_csv(filename=file.filename, content_type=file.content_type)
        saved = uploads.save(file.file, data_dir=settings.data_dir)
        uploads.refuse_json(saved)
        try:
            job = imports.create(
                session=session,
                principal=principal,
                kind=kind,
                source=source,
                filename=file.filename[:255].replace("\x00", ""),
                dry_run=form.get("dry_run") == "on",
                skip_invalid=form.get("skip_invalid") == "on",
            )
        except BaseException:
            saved.unlink(missing_ok=True)
            raise
        path = saved.replace(imports.upload_path(data_dir=settings.data_dir, job_id=job.id))
        background.add_task(imports.run, database=database, job_id=job.id, path=path)
        return job.id

    return posted(
        queue,
        done=lambda job_id: redirect(f"/admin/imports/{job_id}"),
        again=lambda errors, status: render(
            request, "admin_imports.html", {"kinds": _kinds(principal), "errors": errors}, status
        ),
        refused=lambda error: domain_errors(error) | {"file": error.detail},
    )


@router.get("/admin/imports/{job_id}", response_class=HTMLResponse)
def import_job(
    request: Request, job_id: RecordId, session: SessionDep, principal: SignedInDep
) -> Response:
    """A job's progress and row-level report; admin.js reloads it until the job has ended."""
    admit(principal, "GET", f"/v1/imports/{job_id}")
    job = job_out(imports.readable(session=session, principal=principal, job_id=job_id))
    return render(
        request, "admin_import_job.html", {"job": job, "running": job.status in UNFINISHED}
    )

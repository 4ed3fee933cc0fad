"""School staff's pages: my school — needs (editor and history), ranked partners with their
explanations, and how well each need is covered, by whom."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from app.deps import RankingIndexDep, SessionDep, SettingsDep
from app.domain_errors import DomainError, NotFound
from app.pages.forms import FormInvalid, posted
from app.pages.session import CsrfCheckedDep, SignedInDep, admit
from app.pages.templating import redirect, render
from app.schemas.matches import MatchFilters
from app.schemas.schools import NeedsAssessmentCreate
from app.services import assets, matches, schools
from app.taxonomy import load_taxonomy

router = APIRouter(include_in_schema=False)
SchoolId = Annotated[int, Path(ge=1, le=2**31 - 1)]
BLANK_ROWS = 3
PARTNERS_SHOWN = 10


@router.get("/my/school", response_class=HTMLResponse)
def my_school(request: Request, principal: SignedInDep) -> Response:
    """Straight to the signed-in staff member's school (a list when they have several)."""
    ids = sorted(principal.school_ids)
    if len(ids) == 1:
        return redirect(f"/schools/{ids[0]}")
    return render(request, "my_schools.html", {"school_ids": ids})


@router.get("/schools/{school_id}", response_class=HTMLResponse)
def school_page(
    request: Request,
    school_id: SchoolId,
    session: SessionDep,
    ranking_index: RankingIndexDep,
    settings: SettingsDep,
    principal: SignedInDep,
) -> HTMLResponse:
    """The school's latest needs, its assessment history, partners ranked for those needs and
    each need's coverage (met, thin, unmet), as the JSON API computes them."""
    school = schools.readable(session=session, principal=principal, school_id=school_id)
    history = schools.assessments_page(
        session=session, principal=principal, school_id=school_id, cursor=None, limit=20
    )
    ranked: list[Any] = []
    coverage = None
    if history:
        ranked = matches.for_school(
            session=session,
            ranking_index=ranking_index,
            principal=principal,
            settings=settings,
            school_id=school_id,
            offset=0,
            limit=PARTNERS_SHOWN,
            equity=None,
            filters=MatchFilters(),
        ).results
        try:
            coverage = assets.school_coverage(
                session=session,
                ranking_index=ranking_index,
                principal=principal,
                ranking=settings.ranking,
                school_id=school_id,
                per_need=3,
            )
        except NotFound:
            coverage = None  # the latest assessment lists no need the taxonomy still knows
    return render(
        request,
        "school.html",
        {
            "school": school,
            "history": history,
            "latest": history[0] if history else None,
            "ranked": ranked,
            "coverage": coverage,
        },
    )


@router.get("/schools/{school_id}/needs", response_class=HTMLResponse)
def needs_editor(
    request: Request, school_id: SchoolId, session: SessionDep, principal: SignedInDep
) -> HTMLResponse:
    """The needs assessment editor, filled in with the latest assessment."""
    school = schools.readable(session=session, principal=principal, school_id=school_id)
    history = schools.assessments_page(
        session=session, principal=principal, school_id=school_id, cursor=None, limit=1
    )
    rows = [
        {"category": n.category, "priority": n.priority, "notes": n.notes or ""}
        for n in (history[0].needs if history else [])
    ]
    return _editor(request, school, rows, {}, 200)


def _editor(request: Request, school: Any, rows: list[dict], errors: dict, status: int):  # type: ignore[no-untyped-def]
    taxonomy = load_taxonomy()
    rows = rows + [{"category": "", "priority": 3, "notes": ""}] * BLANK_ROWS
    return render(
        request,
        "needs_editor.html",
        {
            "school": school,
            "rows": rows,
            "errors": errors,
            "categories": [c for c in taxonomy.categories if c.parent],
            "today": dt.date.today().isoformat(),
        },
        status_code=status,
    )


@router.post("/schools/{school_id}/needs", dependencies=[CsrfCheckedDep])
async def file_needs(
    request: Request, school_id: SchoolId, session: SessionDep, principal: SignedInDep
) -> Response:
    """File the edited needs as a new dated assessment (earlier ones stay as history)."""
    admit(principal, "POST", f"/v1/schools/{school_id}/needs-assessments")
    form = await request.form()
    categories = form.getlist("category")
    priorities = form.getlist("priority")
    notes = form.getlist("notes")
    rows = [
        {"category": c, "priority": p, "notes": n}
        for c, p, n in zip(categories, priorities, notes, strict=False)
        if isinstance(c, str) and c.strip()
    ]
    school = schools.readable(session=session, principal=principal, school_id=school_id)

    def file() -> None:
        try:
            data = NeedsAssessmentCreate.model_validate(
                {
                    "assessed_on": form.get("assessed_on") or dt.date.today().isoformat(),
                    "notes": form.get("assessment_notes") or None,
                    "needs": [
                        {
                            "category": r["category"],
                            "priority": int(r["priority"]) if str(r["priority"]).isdigit() else 0,
                            "notes": r["notes"] or None,
                        }
                        for r in rows
                    ],
                }
            )
        except ValidationError as error:
            raise FormInvalid({_field(e["loc"]): e["msg"] for e in error.errors()}) from None
        schools.add_assessment(session=session, principal=principal, school_id=school_id, data=data)

    return posted(
        file,
        done=lambda _: redirect(f"/schools/{school_id}"),
        again=lambda messages, status: _editor(request, school, rows, messages, status),
        refused=_refusal,
    )


def _refusal(error: DomainError) -> dict[str, str]:
    """A service's refusal as the editor's messages, rows named as the page shows them."""
    return {_field(e["loc"]): e["msg"] for e in error.errors} or {"form": error.detail}


def _field(loc: Any) -> str:
    """A page's name for an error's location: `needs.2.priority` -> `row 3: priority`."""
    parts = [p for p in loc if p != "body"]
    if len(parts) >= 3 and parts[0] == "needs" and isinstance(parts[1], int):
        return f"row {parts[1] + 1}: {parts[2]}"
    return ".".join(str(p) for p in parts) or "form"

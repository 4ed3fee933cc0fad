"""District admin's pages: the verification queue (more of the district's tools: see the
README's Pages section for what is still API-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import SessionDep
from app.domain_errors import DomainError
from app.filters import Area, OrganizationFilters
from app.pages.forms import domain_errors
from app.pages.session import CsrfCheckedDep, SignedInDep, admit
from app.pages.templating import redirect, render
from app.services import organizations

router = APIRouter(include_in_schema=False)
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
QUEUE = 200


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
    try:
        organizations.decide_verification(
            session=session,
            principal=principal,
            organization_id=organization_id,
            state=state,
            reason=reason.strip() or None,
        )
    except DomainError as error:
        return render(
            request,
            "verification_queue.html",
            {"waiting": [], "errors": domain_errors(error)},
            status_code=422,
        )
    return redirect("/admin/verification")

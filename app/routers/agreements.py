"""HTTP for /v1/agreements: one MOU or DSA, its signatures and its PDF."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Path, Response, UploadFile

from app.deps import PrincipalDep, SessionDep
from app.representations import agreement_out
from app.schemas.agreements import AgreementOut, SignatureCreate
from app.services import agreements as service

router = APIRouter(prefix="/v1/agreements", tags=["agreements"])
AgreementId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Agreement id")]
# Multipart framing around the document; the service holds the document itself to the limit.
MULTIPART_SLACK = 64 * 1024
UPLOAD_ALLOWANCES = {
    r"^/v1/agreements/[^/]+/document$": service.DOCUMENT_MAX_BYTES + MULTIPART_SLACK
}
PDF = "application/pdf"


@router.get("/{agreement_id}", response_model=AgreementOut, summary="Get an agreement")
def get_agreement(agreement_id: AgreementId, session: SessionDep, principal: PrincipalDep):
    agreement = service.readable(session=session, principal=principal, agreement_id=agreement_id)
    return agreement_out(agreement)


@router.post(
    "/{agreement_id}/signatures",
    status_code=201,
    response_model=AgreementOut,
    summary="Sign an agreement for one party",
)
def sign_agreement(
    agreement_id: AgreementId, data: SignatureCreate, session: SessionDep, principal: PrincipalDep
):
    """One signature per party (school, organization); a second is a 409."""
    agreement = service.sign(
        session=session, principal=principal, agreement_id=agreement_id, data=data
    )
    return agreement_out(agreement)


@router.post(
    "/{agreement_id}/document",
    response_model=AgreementOut,
    summary="Attach the agreement's PDF",
    responses={413: {"description": "The document is over 10 MB"}},
)
def attach_document(
    agreement_id: AgreementId,
    session: SessionDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="The agreement as a PDF, up to 10 MB.")],
):
    """Stored in the database with its SHA-256 (`document_sha256`); replaces an earlier
    document until the first signature, then it is fixed."""
    content = file.file.read(service.DOCUMENT_MAX_BYTES + 1)
    agreement = service.attach(
        session=session,
        principal=principal,
        agreement_id=agreement_id,
        name=(file.filename or "agreement.pdf").replace("\x00", ""),
        content=content,
    )
    return agreement_out(agreement)


@router.get(
    "/{agreement_id}/document",
    summary="Download the agreement's PDF",
    response_class=Response,
    responses={200: {"content": {PDF: {}}, "description": "The PDF as uploaded"}},
)
def download_document(agreement_id: AgreementId, session: SessionDep, principal: PrincipalDep):
    agreement = service.document(session=session, principal=principal, agreement_id=agreement_id)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", agreement.document_name or "agreement.pdf")
    return Response(
        content=agreement.document,
        media_type=PDF,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "ETag": f'"{agreement.document_sha256}"',
        },
    )

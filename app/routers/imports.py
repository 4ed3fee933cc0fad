"""HTTP for /v1/imports: CSV uploads for portals, imported as a job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Form, Response, UploadFile, status
from fastapi import Path as PathParam

from app.deps import DatabaseDep, PrincipalDep, SessionDep, SettingsDep
from app.representations import job_out
from app.schemas.imports import FormBool, ImportJobOut, ImportKind
from app.services import imports as service
from app.services import uploads

router = APIRouter(prefix="/v1/imports", tags=["imports"])
JobId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="Import job id")]

# A source name starts with a visible character and holds no NUL.
SOURCE_PATTERN = r"^[^\x00\s][^\x00]*$"


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportJobOut,
    summary="Upload a CSV of organizations, offerings, schools or partnerships",
    description=(
        "Multipart upload of one CSV file in PartnerMap's template for `kind` (the templates "
        "are in app/data/imports/templates; offerings name their organization by "
        "`organization_external_id` within the same `source`, or by `organization_id`; "
        "partnerships name their school, organization and service as README's import section "
        "says, and a district's upload reaches its own schools only). "
        "Records are upserted on (`source`, `external_id`), so uploading the same file again "
        "changes nothing. The answer is 202 with the job (`Location: /v1/imports/{id}`); the "
        "file is imported right after the response, in the same server process, in one "
        "transaction: any error and nothing is written, unless `skip_invalid`. `dry_run` "
        "checks everything and writes nothing. Poll GET /v1/imports/{id} for the counts and "
        "each row's problems. Bodies over the server's limit (MAX_BODY_BYTES, 1 MiB by "
        "default) are refused with 413; larger files go through `partnermap import csv`. "
        "A school directory in its own layout (NCES, a state file) comes with its `mapping` "
        "file (docs/imports.md)."
    ),
    openapi_extra={
        "requestBody": {
            "content": {"multipart/form-data": {"encoding": {"file": {"contentType": "text/csv"}}}}
        }
    },
    responses={
        413: {"description": "The upload is over the body size limit"},
        415: {"description": "The file is not CSV (e.g. an Excel workbook)"},
    },
)
def create_import(
    background: BackgroundTasks,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    response: Response,
    file: Annotated[UploadFile, File(description="The CSV file (UTF-8).")],
    kind: Annotated[ImportKind, Form(description="Which template the file follows.")],
    source: Annotated[
        str,
        Form(
            min_length=1,
            max_length=64,
            pattern=SOURCE_PATTERN,
            description="Name of the system the records come from (e.g. your portal's "
            "name); records are upserted on (source, external_id), so keep it the same "
            "across uploads.",
            examples=["district-portal"],
        ),
    ],
    dry_run: Annotated[FormBool, Form(description="Check only; write nothing.")] = False,
    skip_invalid: Annotated[
        FormBool, Form(description="Import the valid records and report the others.")
    ] = False,
    mapping: Annotated[
        UploadFile | None,
        File(
            description="kind=schools only: a mapping file (TOML, docs/imports.md) saying how "
            "the columns of a school directory in its own layout become schools. Without it "
            "the file follows the schools template."
        ),
    ] = None,
) -> ImportJobOut:
    service.check_allowed(principal=principal, kind=kind)
    _check_csv(file)
    checked = service.mapping_for_upload(
        kind=kind, data=mapping.file.read() if mapping is not None else None
    )
    filename = (file.filename or "")[:255] or None
    saved = _save(file, settings.data_dir)
    _not_json(saved)
    try:
        job = service.create(
            session=session,
            principal=principal,
            kind=kind,
            source=source.strip(),
            filename=filename.replace("\x00", "") if filename else None,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
    except BaseException:
        saved.unlink(missing_ok=True)
        raise
    path = saved.replace(service.upload_path(data_dir=settings.data_dir, job_id=job.id))
    if checked is not None:  # kept beside the upload, so a retried job reads it again
        service.mapping_path(path).write_bytes(checked)
    background.add_task(service.run, database=database, job_id=job.id, path=path)
    response.headers["Location"] = f"/v1/imports/{job.id}"
    return job_out(job)


@router.get("/{job_id}", response_model=ImportJobOut, summary="An import job and its report")
def get_import(job_id: JobId, session: SessionDep, principal: PrincipalDep) -> ImportJobOut:
    return job_out(service.readable(session=session, principal=principal, job_id=job_id))


@router.post(
    "/{job_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportJobOut,
    summary="Run a failed import job again",
    description=(
        "A job interrupted by a restart, or stopped by an unavailable database, keeps its "
        "upload; this queues it again (202, poll GET /v1/imports/{id}). 409 when the job did "
        "not fail or its upload is gone (upload the file again)."
    ),
    responses={409: {"description": "The job did not fail, or its upload is gone"}},
)
def retry_import(
    job_id: JobId,
    background: BackgroundTasks,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    response: Response,
) -> ImportJobOut:
    job = service.retry(
        session=session, principal=principal, job_id=job_id, data_dir=settings.data_dir
    )
    path = service.upload_path(data_dir=settings.data_dir, job_id=job.id)
    background.add_task(service.run, database=database, job_id=job.id, path=path)
    response.headers["Location"] = f"/v1/imports/{job.id}"
    return job_out(job)


def _check_csv(file: UploadFile) -> None:
    uploads.check_csv(filename=file.filename, content_type=file.content_type)


def _not_json(path: Path) -> None:
    uploads.refuse_json(path)


def _save(file: UploadFile, data_dir: Path) -> Path:
    return uploads.save(file.file, data_dir=data_dir)

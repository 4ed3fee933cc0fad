"""Import jobs for API uploads: a row in import_jobs records what was asked, and the report once
the file has been imported. The upload is saved to a temporary file and imported after the
response, in the same process (FastAPI background task), one transaction per job like the CLI.
A job whose process stops before it finishes stays `queued` or `running`; upload it again."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db import Database
from app.domain_errors import Forbidden, InvalidInput, NotFound
from app.imports import bulk_csv, schools_csv
from app.models import District, ImportJob
from app.services import audit

log = logging.getLogger("partnermap.imports")


def create(
    *,
    session: Session,
    principal: Principal,
    kind: str,
    source: str,
    filename: str | None,
    dry_run: bool,
    skip_invalid: bool,
) -> ImportJob:
    """Record a queued job."""
    check_allowed(principal=principal, kind=kind)
    job = ImportJob(
        kind=kind,
        source=source,
        filename=filename,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        status="queued",
        created_by_user_id=principal.user_id,
        created_by_key_id=principal.key_id,
        district_id=None if principal.is_admin else principal.district_id,
    )
    session.add(job)
    session.flush()
    audit.record(
        session,
        principal,
        action="import",
        resource_type="import_job",
        resource_id=job.id,
        district_id=job.district_id,
        fields=["kind", "source", "dry_run", "skip_invalid"],
    )
    session.commit()
    return job


def check_allowed(*, principal: Principal, kind: str) -> None:
    """Districts upload their own schools and partnerships; the shared directory of
    organizations and offerings is loaded by the operator."""
    if not principal.is_admin and kind not in ("schools", "partnerships"):
        raise Forbidden(
            "Districts import schools and partnerships (kind=schools, kind=partnerships); "
            "the operator imports the rest."
        )


def get(*, session: Session, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFound(f"Import job {job_id} does not exist.")
    return job


def readable(*, session: Session, principal: Principal, job_id: int) -> ImportJob:
    """A district's own jobs (another's look missing); the operator's are all."""
    job = get(session=session, job_id=job_id)
    if not principal.is_admin and job.district_id != principal.district_id:
        raise NotFound(f"Import job {job_id} does not exist.")
    return job


def mapping_for_upload(*, kind: str, data: bytes | None) -> schools_csv.Mapping | None:
    """A mapping uploaded with a school directory, checked before the job is queued. Files it
    would join are not uploaded with it, so a mapping with [[join]] goes through the CLI."""
    if data is None:
        return None
    loc = ("body", "mapping")
    if kind != "schools":
        raise InvalidInput(loc, "a mapping is for school directories (kind=schools)")
    try:
        mapping = schools_csv.parse_mapping(data.decode("utf-8"), name="upload")
    except UnicodeDecodeError:
        raise InvalidInput(loc, "the mapping is not UTF-8 text") from None
    except schools_csv.MappingProblem as exc:
        raise InvalidInput(loc, str(exc)) from None
    if mapping.joins:
        raise InvalidInput(
            loc, "a mapping with [[join]] needs its joined files: use `partnermap import schools`"
        )
    return mapping


def run(
    *,
    database: Database,
    job_id: int,
    path: Path,
    mapping: schools_csv.Mapping | None = None,
) -> None:
    """Import the uploaded file of a job (through `mapping` when one came with it) and store
    the report; the file is removed after."""
    try:
        with database.session() as session:
            job = get(session=session, job_id=job_id)
            job.status, job.started_at = "running", dt.datetime.now(dt.UTC)
            session.commit()
            kind, source = job.kind, job.source
            dry_run, skip_invalid = job.dry_run, job.skip_invalid
            district = session.get(District, job.district_id) if job.district_id else None
            district_name = district.name if district else None
        with database.session() as session:
            if mapping is not None:
                report = schools_csv.import_directory(
                    session=session,
                    path=path,
                    mapping=mapping,
                    source=source,
                    dry_run=dry_run,
                    skip_invalid=skip_invalid,
                    district=district_name,
                )
            else:
                report = bulk_csv.import_file(
                    session=session,
                    path=path,
                    kind=kind,
                    source=source,
                    dry_run=dry_run,
                    skip_invalid=skip_invalid,
                    district=district_name,
                )
        status = {"imported": "imported", "dry_run": "checked"}.get(report.status, "failed")
        body = report.to_dict()
    except Exception:  # a bug must still leave the job finished, and logged
        log.exception("import job %s crashed", job_id)
        status, body = (
            "failed",
            {
                "detail": "The import stopped on an unexpected error; it "
                "has been logged. Nothing was written."
            },
        )
    finally:
        path.unlink(missing_ok=True)
    with database.session() as session:
        job = get(session=session, job_id=job_id)
        job.status, job.report = status, body
        job.finished_at = dt.datetime.now(dt.UTC)
        session.commit()

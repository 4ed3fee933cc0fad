"""Import jobs for API uploads: a row in import_jobs records what was asked, and the report once
the file has been imported. The upload is kept in DATA_DIR/imports and imported after the
response, in the same process (FastAPI background task), one transaction per job like the CLI.
A job whose process stopped before it finished is marked failed when the service starts
again (`partnermap serve`); its upload stays, so POST /v1/imports/{id}/retry runs it again."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db import Database
from app.domain_errors import Conflict, Forbidden, NotFound
from app.imports import bulk_csv
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


INTERRUPTED = "interrupted by a restart; retry with POST /v1/imports/{id}/retry"
UNAVAILABLE = "the database was unavailable; retry with POST /v1/imports/{id}/retry"


def upload_path(*, data_dir: Path, job_id: int) -> Path:
    """Where a job's upload waits until the job ends (a restart does not remove it)."""
    return data_dir / "imports" / f"job-{job_id}.csv"


def fail_interrupted(*, session: Session) -> list[int]:
    """Mark failed, with the reason and the way out, the jobs a stopped process left queued or
    running. Run once at start-up, before any worker takes jobs."""
    jobs = session.scalars(select(ImportJob).where(ImportJob.status.in_(("queued", "running"))))
    failed = []
    for job in jobs:
        job.status, job.finished_at = "failed", dt.datetime.now(dt.UTC)
        job.report = {"detail": INTERRUPTED.format(id=job.id)}
        failed.append(job.id)
    session.commit()
    return failed


def retry(*, session: Session, principal: Principal, job_id: int, data_dir: Path) -> ImportJob:
    """Queue a failed job again with its kept upload; a 409 when it did not fail or the upload
    is gone (the import finished, so upload the file again)."""
    job = readable(session=session, principal=principal, job_id=job_id)
    if job.status != "failed":
        raise Conflict(f"Import job {job_id} is {job.status}; only a failed job can be retried.")
    if not upload_path(data_dir=data_dir, job_id=job_id).exists():
        raise Conflict(f"The upload of import job {job_id} is gone; upload the file again.")
    job.status, job.report, job.started_at, job.finished_at = "queued", None, None, None
    audit.record(
        session,
        principal,
        action="import",
        resource_type="import_job",
        resource_id=job.id,
        district_id=job.district_id,
        fields=["status"],
    )
    session.commit()
    return job


def run(*, database: Database, job_id: int, path: Path) -> None:
    """Import the uploaded file of a job and store the report. The file is removed after,
    unless the database failed (the job can then be retried)."""
    keep = False
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
    except OperationalError:
        log.warning("import job %s: the database is unavailable", job_id)
        status, body, keep = "failed", {"detail": UNAVAILABLE.format(id=job_id)}, True
    except Exception:  # a bug must still leave the job finished, and logged
        log.exception("import job %s crashed", job_id)
        status, body = (
            "failed",
            {
                "detail": "The import stopped on an unexpected error; it "
                "has been logged. Nothing was written."
            },
        )
    if not keep:
        path.unlink(missing_ok=True)
    with database.session() as session:
        job = get(session=session, job_id=job_id)
        job.status, job.report = status, body
        job.finished_at = dt.datetime.now(dt.UTC)
        session.commit()

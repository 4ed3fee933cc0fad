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
from app.domain_errors import Conflict, Forbidden, InvalidInput, NotFound
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


def mapping_for_upload(*, kind: str, data: bytes | None) -> bytes | None:
    """A mapping uploaded with a school directory, checked before the job is queued (the job
    reads it again from beside its upload). Files it would join are not uploaded with it, so a
    mapping with [[join]] goes through the CLI."""
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
    return data


def mapping_path(upload: Path) -> Path:
    """Where the mapping uploaded with a job waits beside its upload."""
    return upload.with_suffix(".mapping.toml")


def _mapping_of(upload: Path) -> schools_csv.Mapping | None:
    kept = mapping_path(upload)
    if not kept.exists():
        return None
    return schools_csv.parse_mapping(kept.read_text(encoding="utf-8"), name="upload")


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
    """Import the uploaded file of a job (through the mapping uploaded with it, if any) and
    store the report. The files are removed after, unless the database failed (the job can
    then be retried)."""
    keep = False
    try:
        mapping = _mapping_of(path)
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
        mapping_path(path).unlink(missing_ok=True)
    with database.session() as session:
        job = get(session=session, job_id=job_id)
        job.status, job.report = status, body
        job.finished_at = dt.datetime.now(dt.UTC)
        session.commit()

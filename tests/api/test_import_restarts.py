"""Import jobs survive a restart: the upload waits in DATA_DIR/imports, a job a stopped process
left running is failed with the reason at start-up, and POST /v1/imports/{id}/retry runs it."""

from __future__ import annotations

from app.cli import main
from app.models import ImportJob, Organization
from app.services import imports as service
from tests.api.test_imports import upload
from tests.imports.helpers import ORGANIZATIONS, count


def _interrupted(db, settings) -> int:  # type: ignore[no-untyped-def]
    """A job as a crash leaves it: running, its upload kept."""
    with db.session() as session:
        job = ImportJob(kind="organizations", source="portal", dry_run=False, skip_invalid=False)
        job.status = "running"
        session.add(job)
        session.commit()
        job_id = job.id
    path = service.upload_path(data_dir=settings.data_dir, job_id=job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ORGANIZATIONS)
    return job_id


def test_an_upload_waits_in_the_data_dir_and_is_removed_when_the_job_ends(client, settings):
    response = upload(client, ORGANIZATIONS)
    assert response.status_code == 202
    assert client.get(response.headers["location"]).json()["status"] == "imported"
    assert list((settings.data_dir / "imports").iterdir()) == []


def test_a_job_left_running_is_failed_at_start_up_with_the_way_out(client, db, settings):
    job_id = _interrupted(db, settings)
    with db.session() as session:
        assert service.fail_interrupted(session=session) == [job_id]
    job = client.get(f"/v1/imports/{job_id}").json()
    assert job["status"] == "failed"
    assert job["detail"] == f"interrupted by a restart; retry with POST /v1/imports/{job_id}/retry"


def test_serve_fails_interrupted_jobs_before_workers_start(db, settings, monkeypatch):
    job_id = _interrupted(db, settings)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    import uvicorn

    from app.settings import get_settings

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)  # the server itself is not run
    get_settings.cache_clear()
    try:
        assert main(["serve"]) == 0
    finally:
        get_settings.cache_clear()
    with db.session() as session:
        assert session.get(ImportJob, job_id).status == "failed"  # type: ignore[union-attr]


def test_a_failed_job_is_retried_with_its_kept_upload(client, db, settings):
    job_id = _interrupted(db, settings)
    with db.session() as session:
        service.fail_interrupted(session=session)
    response = client.post(f"/v1/imports/{job_id}/retry")
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/imports/{job_id}"
    assert client.get(f"/v1/imports/{job_id}").json()["status"] == "imported"
    assert count(db, Organization, source="portal") == 2
    assert not service.upload_path(data_dir=settings.data_dir, job_id=job_id).exists()


def test_a_job_that_did_not_fail_or_lost_its_upload_is_a_409(client, db, settings):
    done = upload(client, ORGANIZATIONS).json()["id"]
    assert client.post(f"/v1/imports/{done}/retry").status_code == 409
    job_id = _interrupted(db, settings)
    with db.session() as session:
        service.fail_interrupted(session=session)
    service.upload_path(data_dir=settings.data_dir, job_id=job_id).unlink()
    response = client.post(f"/v1/imports/{job_id}/retry")
    assert response.status_code == 409
    assert "upload the file again" in response.json()["detail"]

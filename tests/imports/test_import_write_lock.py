"""A running import does not lock API writers out: the file is read and checked before the first
write, so another connection can write while it is read. On SQLite (one writer at a time) an
import that wrote as it read held the write lock for its whole transaction — 37 s for a big file,
longer than the busy timeout — and API writes in that time failed."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.auth.principal import OPERATOR
from app.db import Database, Timeouts
from app.imports import bulk_csv, schools_csv
from app.imports.geocode import Place
from app.models import District, School
from app.services import districts, import_writes, school_links
from tests.conftest import empty_tables

ROWS = bulk_csv.BATCH_SIZE * 2 + 10  # more than one batch is read before the writer comes


class WriterMeanwhile:
    """A geocoder that, asked for the place of row `at`, first has another connection write a
    district — refused at once (busy timeout 0) if the import holds the write lock."""

    def __init__(self, database: Database, at: int) -> None:
        self.url = database.url.render_as_string(hide_password=False)
        self.at, self.calls, self.outcome = at, 0, "not asked"

    def locate(self, **_: object) -> Place:
        self.calls += 1
        if self.calls == self.at:
            other = Database(self.url, timeouts=Timeouts(sqlite_busy_ms=0, lock_ms=1000))
            try:
                with other.session() as session:
                    districts.create(session=session, principal=OPERATOR, name="Meanwhile")
                self.outcome = "written"
            except Exception as exc:  # the outcome is what the test asserts
                self.outcome = f"refused: {exc}"
            finally:
                other.dispose()
        return Place(lat=37.8, lon=-122.2, precision="approximate", note="test")


def _schools(path: Path) -> Path:
    lines = ["external_id,name,grade_low,grade_high,postal_code"]
    lines += [f"s{i},School {i},K,5,94607" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _stored(db: Database) -> tuple[int, list[str]]:
    with db.session() as session:
        schools = len(session.scalars(select(School.id)).all())
        names = list(session.scalars(select(District.name)))
    return schools, names


def test_an_api_writer_is_not_locked_out_while_a_bulk_import_reads_its_file(db, tmp_path):
    writer = WriterMeanwhile(db, at=ROWS - 5)
    with db.session() as session:
        report = bulk_csv.import_file(
            session=session,
            path=_schools(tmp_path / "s.csv"),
            kind="schools",
            source="t",
            geocoder=writer,
        )
    assert report.status == "imported", report.lines()
    assert writer.outcome == "written"
    assert _stored(db) == (ROWS, ["Meanwhile"])


def test_an_api_writer_is_not_locked_out_while_a_directory_import_reads_its_file(db, tmp_path):
    mapping = schools_csv.parse_mapping(
        "\n".join(
            [
                'source = "dir"',
                "[fields]",
                'external_id = "external_id"',
                'name = "name"',
                'grade_low = "grade_low"',
                'grade_high = "grade_high"',
                'postal_code = "postal_code"',
            ]
        ),
        name="test",
    )
    writer = WriterMeanwhile(db, at=ROWS - 5)
    with db.session() as session:
        report = schools_csv.import_directory(
            session=session, path=_schools(tmp_path / "d.csv"), mapping=mapping, geocoder=writer
        )
    assert report.status == "imported", report.lines()
    assert writer.outcome == "written"
    assert _stored(db) == (ROWS, ["Meanwhile"])


def test_a_failing_import_still_writes_nothing_when_staged(db, tmp_path):
    path = _schools(tmp_path / "s.csv")
    path.write_text(path.read_text() + "bad,Bad school,Z,5,94607\n")
    with db.session() as session:
        report = bulk_csv.import_file(
            session=session, path=path, kind="schools", source="t", geocoder=WriterMeanwhile(db, 0)
        )
    assert report.status == "failed"
    assert _stored(db) == (0, [])


# --- the write phase: planned ahead on SQLite, applied in one short locked transaction ---------


def _other_writer(db: Database, sql: str, **params: object) -> str:
    """Another connection's write, refused at once (busy timeout 0) if the lock is held."""
    other = Database(
        db.url.render_as_string(hide_password=False), timeouts=Timeouts(sqlite_busy_ms=0)
    )
    try:
        with other.engine.begin() as conn:
            conn.execute(text(sql), params)
        return "written"
    except Exception as exc:  # the outcome is what the test asserts
        return f"refused: {exc}"
    finally:
        other.dispose()


def _during_batch(monkeypatch, n: int, action) -> list[str]:  # type: ignore[no-untyped-def]
    """Run `action` when the import starts working out its `n`-th batch of schools (the
    first thing each batch does is find the schools its records mean)."""
    outcomes: list[str] = []
    calls = [0]
    real = school_links.resolve

    def resolve(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == n:
            outcomes.append(action())
        return real(*args, **kwargs)

    monkeypatch.setattr(school_links, "resolve", resolve)
    return outcomes


def _located(path: Path) -> Path:
    lines = ["external_id,name,grade_low,grade_high,lat,lon"]
    lines += [f"s{i},School {i},K,5,37.8,-122.2" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_api_writer_is_not_locked_out_while_an_import_compares_its_batches(
    db, tmp_path, monkeypatch, backend
):
    """The write phase's reading, matching and diffing (the third batch here) happens before
    the import's first write: a writer then is not refused. Before, the first batch's rows were
    written as soon as they were worked out, and the lock was held through the rest."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database")
    outcomes = _during_batch(
        monkeypatch,
        3,
        lambda: _other_writer(
            db, "INSERT INTO districts (name, slug) VALUES ('Meanwhile', 'meanwhile')"
        ),
    )
    with db.session() as session:
        report = bulk_csv.import_file(
            session=session, path=_located(tmp_path / "s.csv"), kind="schools", source="t"
        )
    assert report.status == "imported", report.lines()
    assert outcomes == ["written"]
    assert _stored(db) == (ROWS, ["Meanwhile"])
    assert report.write_lock_ms is not None and report.write_lock_ms < 5_000


def test_a_row_changed_by_a_person_while_the_import_was_planned_keeps_the_edit(
    db, tmp_path, monkeypatch, backend
):
    """A plan is checked against the rows it changes: a school a person edited after the
    import read it (first batch) but before it wrote (the edit lands while the third batch is
    worked out) is not overwritten with the stale plan; the file is written again, batch by
    batch, and the precedence rule keeps the person's name. Counted once, not twice."""
    if backend != "sqlite":
        pytest.skip("planning ahead is SQLite's; PostgreSQL writes as it plans")
    path = _located(tmp_path / "s.csv")
    with db.session() as session:
        bulk_csv.import_file(session=session, path=path, kind="schools", source="t")
    path.write_text(path.read_text().replace("School ", "Renamed school "))
    outcomes = _during_batch(
        monkeypatch,
        3,
        lambda: _other_writer(
            db,
            "UPDATE schools SET name = 'Edited by a person', field_sources = :sources "
            "WHERE external_id = 's0'",
            sources=json.dumps({"name": ["person", None]}),
        ),
    )
    with db.session() as session:
        report = bulk_csv.import_file(session=session, path=path, kind="schools", source="t")
    assert outcomes == ["written"]
    assert report.status == "imported", report.lines()
    assert report.counts["schools"].__dict__ == {
        "added": 0,
        "updated": ROWS - 1,
        "unchanged": 1,
        "skipped": 0,
    }
    assert report.notes.get("fields kept (precedence)") == 1
    with db.session() as session:
        names = {
            ext: name for ext, name in session.execute(select(School.external_id, School.name))
        }
    assert names["s0"] == "Edited by a person"
    assert names["s1"] == "Renamed school 1"


def test_a_row_another_writer_adds_first_is_updated_not_duplicated(
    db, tmp_path, monkeypatch, backend
):
    """A new row the plan inserts that another writer added meanwhile (same source and
    external id) is refused by the unique key at apply time; the file is then written batch by
    batch and updates that row, with nothing half written and no error."""
    if backend != "sqlite":
        pytest.skip("planning ahead is SQLite's; PostgreSQL writes as it plans")
    outcomes = _during_batch(
        monkeypatch,
        3,
        lambda: _other_writer(
            db,
            "INSERT INTO schools (source, external_id, name, grade_low, grade_high, lat, lon, "
            "location_precision, languages) VALUES ('t', 's0', 'First', 'K', '5', 37.8, -122.2,"
            " 'exact', '')",
        ),
    )
    with db.session() as session:
        report = bulk_csv.import_file(
            session=session, path=_located(tmp_path / "s.csv"), kind="schools", source="t"
        )
    assert outcomes == ["written"]
    assert report.status == "imported", report.lines()
    assert report.counts["schools"].added == ROWS - 1
    assert report.counts["schools"].updated == 1
    with db.session() as session:
        rows = session.execute(select(School.name).where(School.external_id == "s0")).all()
    assert [r.name for r in rows] == ["School 0"]


def test_an_import_interrupted_while_writing_leaves_nothing(db, tmp_path, monkeypatch):
    """Visibility: an import's rows become visible all at once, at its one commit. One that
    stops half-way through writing its plans (a crash, here an exception after the first
    batch's rows) leaves none of them."""
    real, calls = import_writes.apply, [0]

    def apply(session, plan):  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == 2:
            raise RuntimeError("the process stops")
        return real(session, plan)

    monkeypatch.setattr(import_writes, "apply", apply)
    with pytest.raises(RuntimeError), db.session() as session:
        bulk_csv.import_file(
            session=session, path=_located(tmp_path / "s.csv"), kind="schools", source="t"
        )
    assert calls[0] == 2
    assert _stored(db) == (0, [])


def test_an_import_bumps_the_serving_stamp_once_and_keeps_the_triggers(db, tmp_path, backend):
    """Workers' caches of schools follow the serving stamp (migration 0011). On SQLite an import
    pauses the per-row stamp triggers while it writes (each would run once per row) and bumps
    the stamp itself: after it, the stamp has changed and the triggers are all there, so the
    next write by anyone bumps it again."""

    def stamp() -> int | None:  # None: emptied by the test set-up
        with db.engine.connect() as conn:
            return conn.execute(
                text("SELECT version FROM serving_versions WHERE name = 'schools'")
            ).scalar()

    def triggers() -> list[tuple[str, str]]:
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
            return sorted((name, sql) for name, sql in rows)

    before = triggers() if backend == "sqlite" else []
    first = stamp()
    with db.session() as session:
        report = bulk_csv.import_file(
            session=session, path=_located(tmp_path / "s.csv"), kind="schools", source="t"
        )
    assert report.status == "imported", report.lines()
    second = stamp()
    assert second is not None and second != first
    if backend == "sqlite":
        assert len(before) > 10 and triggers() == before
    assert _other_writer(db, "UPDATE schools SET name = 'x' WHERE external_id = 's1'") == "written"
    assert stamp() != second


def test_planned_ahead_or_written_batch_by_batch_a_file_stores_the_same_rows(
    db, tmp_path, monkeypatch
):
    """The two ways of writing a file (on SQLite: plans applied through the driver's own
    parameters; and batch by batch through SQLAlchemy) store the same rows, defaults and
    converted values (lists, JSON field sources, need index) included."""
    path = tmp_path / "s.csv"
    path.write_text(
        "external_id,name,grade_low,grade_high,lat,lon,languages,frl_pct,nces_id\n"
        "a,School A,PK,5,37.8,-122.2,en;es,55.5,060000000001\n"
        "b,School B,6,8,37.7,-122.1,,,\n"
    )

    def rows() -> list[dict[str, object]]:
        with db.engine.connect() as conn:
            found = conn.execute(text("SELECT * FROM schools ORDER BY external_id")).mappings()
            return [
                {k: v for k, v in r.items() if k not in ("id", "created_at", "updated_at")}
                for r in found
            ]

    with db.session() as session:
        assert (
            bulk_csv.import_file(session=session, path=path, kind="schools", source="t").status
            == "imported"
        )
    ahead = rows()
    empty_tables(db)
    real = import_writes.write_staged
    monkeypatch.setattr(
        import_writes, "write_staged", lambda *a, **k: real(*a, **{**k, "ahead": False})
    )
    with db.session() as session:
        assert (
            bulk_csv.import_file(session=session, path=path, kind="schools", source="t").status
            == "imported"
        )
    assert len(ahead) == 2 and rows() == ahead


def test_the_collector_setting_is_put_back_after_an_import(db, tmp_path):
    before = gc.get_threshold()
    with db.session() as session:
        bulk_csv.import_file(
            session=session, path=_located(tmp_path / "s.csv"), kind="schools", source="t"
        )
    assert gc.get_threshold() == before

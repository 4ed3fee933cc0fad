"""A running import does not lock API writers out: the file is read and checked before the first
write, so another connection can write while it is read. On SQLite (one writer at a time) an
import that wrote as it read held the write lock for its whole transaction — 37 s for a big file,
longer than the busy timeout — and API writes in that time failed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.auth.principal import OPERATOR
from app.db import Database, Timeouts
from app.imports import bulk_csv, schools_csv
from app.imports.geocode import Place
from app.models import District, School
from app.services import districts

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

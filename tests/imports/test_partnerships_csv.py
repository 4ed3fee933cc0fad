"""The partnerships template: past partnerships through the same import machinery as the
other CSVs (dry run, all-or-nothing, idempotent re-import, row-level report), by file and by
upload."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auth.principal import DISTRICT_ADMIN
from app.cli import main
from app.imports import bulk_csv
from app.models import District, Offering, Organization, Partnership, School
from tests.conftest import user_token
from tests.imports.helpers import count, write


@pytest.fixture
def places(db):  # type: ignore[no-untyped-def]
    """Two schools of district A (one with an NCES id), one of district B, an organization
    with one offering, and a second organization."""
    with db.session() as s:
        a, b = District(name="District A", slug="a"), District(name="District B", slug="b")
        s.add_all([a, b])
        s.flush()
        schools = [
            School(name="Alpha Middle", nces_id="060000000001", district="District A"),
            School(name="Delta Elementary", district="District A"),
            School(name="Beta High", district="District B"),
        ]
        for school, district in zip(schools, (a, a, b), strict=True):
            school.district_id = district.id
            school.lat, school.lon, school.grade_low, school.grade_high = 37.8, -122.2, 0, 12
            school.languages = []
        mentors = Organization(name="Science Mentors", type="nonprofit", languages=[])
        readers = Organization(name="Readers Club", type="community_group", languages=[])
        s.add_all([*schools, mentors, readers])
        s.flush()
        s.add(
            Offering(
                organization_id=mentors.id,
                title="After-school robotics",
                categories=["stem"],
                grade_low=6,
                grade_high=8,
                schedule=[],
                delivery=[],
                languages=[],
                populations=[],
            )
        )
        s.commit()
        return {
            "district_a": a.id,
            "alpha": schools[0].id,
            "delta": schools[1].id,
            "beta": schools[2].id,
            "mentors": mentors.id,
            "readers": readers.id,
        }


def history(places: dict[str, int]) -> str:
    """Rows in the template's own column order, naming schools each way the import takes."""
    header = bulk_csv.template_path("partnerships").read_text(encoding="utf-8")
    out = io.StringIO()
    out.write(header)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(
        [
            # external_id, school, organization, service, category, start, end, outcome, reason, n
            [
                "",
                "Alpha Middle",
                "science mentors",
                "After-school robotics",
                "stem;stem.engineering",
                "2023-08-15",
                "2024-06-14",
                "completed",
                "",
                "40",
            ],
            [
                "r-2",
                "060000000001",
                str(places["readers"]),
                "",
                "literacy",
                "2024-08-15",
                "2025-06-13",
                "ended",
                "Volunteers moved away",
                "",
            ],
            ["r-3", str(places["delta"]), "Readers Club", "", "literacy", "2025-08-15",
             "2026-06-12", "active", "", ""],
        ]
    )  # fmt: skip
    return out.getvalue()


def run(db, path: Path, **options):  # type: ignore[no-untyped-def]
    with db.session() as session:
        return bulk_csv.import_file(
            session=session, path=path, kind="partnerships", source="register", **options
        )


def _stored(db) -> list[tuple]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        rows = s.scalars(select(Partnership).order_by(Partnership.id)).all()
        return [
            (
                p.school_id,
                p.organization_id,
                [o.title for o in p.offerings],
                p.need_categories,
                p.term_start,
                p.term_end,
                p.status,
                p.status_reason,
                p.students_served,
                p.proposed_by,
                p.source_ref,
                p.updated_at,
            )
            for p in rows
        ]


def test_the_template_round_trips_into_partnerships_with_every_field(db, places, tmp_path):
    report = run(db, write(tmp_path / "p.csv", history(places)))
    assert report.status == "imported", report.lines()
    assert report.counts["partnerships"].added == 3
    stored = [row[:11] for row in _stored(db)]
    assert stored == [
        (
            places["alpha"],
            places["mentors"],
            ["After-school robotics"],
            ["stem", "stem.engineering"],
            dt.date(2023, 8, 15),
            dt.date(2024, 6, 14),
            "completed",
            None,
            40,
            "import",
            "alpha middle|science mentors|after-school robotics|2023-08-15",
        ),
        (
            places["alpha"],
            places["readers"],
            [],
            ["literacy"],
            dt.date(2024, 8, 15),
            dt.date(2025, 6, 13),
            "ended",
            "Volunteers moved away",
            None,
            "import",
            "r-2",
        ),
        (
            places["delta"],
            places["readers"],
            [],
            ["literacy"],
            dt.date(2025, 8, 15),
            dt.date(2026, 6, 12),
            "active",
            None,
            None,
            "import",
            "r-3",
        ),
    ]
    assert bulk_csv.guess_kind(tmp_path / "p.csv") == "partnerships"


def test_a_dry_run_checks_everything_and_writes_nothing(db, places, tmp_path):
    report = run(db, write(tmp_path / "p.csv", history(places)), dry_run=True)
    assert (report.status, report.counts["partnerships"].added) == ("dry_run", 3)
    assert count(db, Partnership) == 0


def test_importing_the_same_file_again_changes_nothing(db, places, tmp_path):
    path = write(tmp_path / "p.csv", history(places))
    run(db, path)
    before = _stored(db)
    again = run(db, path)
    assert again.status == "imported"
    counts = again.counts["partnerships"]
    assert (counts.added, counts.updated, counts.unchanged) == (0, 0, 3)
    assert _stored(db) == before  # updated_at included


def test_a_changed_row_updates_its_partnership_in_place(db, places, tmp_path):
    run(db, write(tmp_path / "p.csv", history(places)))
    changed = history(places).replace("2026-06-12,active,", "2026-06-12,completed,")
    report = run(db, write(tmp_path / "q.csv", changed))
    counts = report.counts["partnerships"]
    assert (counts.added, counts.updated, counts.unchanged) == (0, 1, 2)
    assert [row[6] for row in _stored(db)] == ["completed", "ended", "completed"]


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("Alpha Middle,science", "Gamma Middle,science", "school"),
        ("science mentors", "science tutors", "organization"),
        ("After-school robotics", "Chess club", "service"),
        ("stem;stem.engineering", "stem;robots", "category"),
        ("2024-06-14,completed", "2022-06-14,completed", "term_end"),
        ("Volunteers moved away", "", "reason"),
        ("2024-06-14,completed", "2024-06-14,paused", "outcome"),
    ],
)
def test_a_bad_row_refuses_the_file_and_names_its_row_and_field(
    db, places, tmp_path, old, new, field
):
    text = history(places)
    assert old in text
    report = run(db, write(tmp_path / "p.csv", text.replace(old, new, 1)))
    assert report.status == "failed"
    assert [(i.row, i.field) for i in report.issues] == [(3 if field == "reason" else 2, field)]
    assert count(db, Partnership) == 0


def test_a_school_name_held_by_two_schools_must_be_given_by_id(db, places, tmp_path):
    with db.session() as s:
        twin = School(name="Alpha Middle", lat=37.7, lon=-122.1, grade_low=6, grade_high=8)
        twin.languages = []
        s.add(twin)
        s.commit()
    report = run(db, write(tmp_path / "p.csv", history(places)))
    assert report.status == "failed"
    assert "2 schools are named 'Alpha Middle'" in report.issues[0].problem


def test_a_district_uploads_partnerships_of_its_own_schools_only(anon, db, places):
    _, token = user_token(db, "da@a.test", DISTRICT_ADMIN, district_id=places["district_a"])
    headers = {"Authorization": f"Bearer {token}"}

    def upload(text: str) -> dict:
        response = anon.post(
            "/v1/imports",
            headers=headers,
            data={"kind": "partnerships", "source": "register"},
            files={"file": ("p.csv", text.encode(), "text/csv")},
        )
        assert response.status_code == 202, response.text
        return anon.get(response.headers["location"], headers=headers).json()

    done = upload(history(places))
    assert (done["status"], done["counts"]["partnerships"]["added"]) == ("imported", 3)
    other = history(places).replace(f"r-3,{places['delta']},", f"r-3,{places['beta']},")
    refused = upload(other)
    assert refused["status"] == "failed"
    assert [(i["row"], i["field"]) for i in refused["issues"]] == [(4, "school")]
    assert "in District A" in refused["issues"][0]["problem"]


def test_the_cli_imports_the_template_told_from_its_header(db, places, tmp_path, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", db.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        path = write(tmp_path / "p.csv", history(places))
        assert main(["import", "csv", str(path), "--source", "register"]) == 0
        assert main(["import", "csv", str(path), "--source", "register"]) == 0
    finally:
        get_settings.cache_clear()
    assert count(db, Partnership, source="register") == 3


def test_rows_without_external_id_key_on_school_organization_service_and_start_within_200():
    from app.imports.partnerships import natural_key
    from app.schemas.imports import PartnershipHistoryRow

    row = {"category": ["stem"], "term_start": "2024-08-15", "term_end": "2025-06-13"}
    row |= {"outcome": "completed", "organization": "Mentors"}
    short = natural_key(PartnershipHistoryRow(school="Alpha", **row))
    assert short == "alpha|mentors||2024-08-15"
    long = natural_key(PartnershipHistoryRow(school="A" * 300, **row))
    assert len(long) <= 200 and long.startswith("sha256:")
    assert long != natural_key(PartnershipHistoryRow(school="B" * 300, **row))

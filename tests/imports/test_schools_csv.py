"""School directory import through a mapping file, on real Texas rows (NCES CCD + TEA TAPR)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.imports import schools_csv
from app.models import School
from tests.imports.helpers import TEXAS, TEXAS_MAPPING, count, write


def load(db, **options):  # type: ignore[no-untyped-def]
    mapping = schools_csv.load_mapping(options.pop("mapping", TEXAS_MAPPING))
    with db.session() as session:
        return schools_csv.import_directory(
            session=session,
            path=options.pop("path", TEXAS / "tx-campuses-ccd-sample.csv"),
            mapping=mapping,
            join_files={"tapr": options.pop("tapr", TEXAS / "tapr-sample.csv")},
            **options,
        )


def test_texas_campuses_join_on_the_state_id_without_leading_zeros(db):
    report = load(db)
    assert report.status == "imported", report.lines()
    schools = report.counts["schools"]
    assert schools.added == count(db, School) > 150
    assert schools.added + schools.skipped == report.rows == 300
    assert report.notes["join tapr"].startswith(f"{schools.added:,} of")
    with db.session() as session:
        crosbyton = session.scalar(select(School).where(School.nces_id == "480000101145"))
    # CCD: 054901101, PK-05, locale 43 (rural remote); TAPR 54901101: 150 students, 90.7 % econ.
    assert crosbyton.state_id == "054901101"
    assert (crosbyton.grade_low, crosbyton.grade_high, crosbyton.locale) == (-1, 5, "rural")
    assert (crosbyton.enrollment, crosbyton.frl_pct) == (150, 90.7)
    assert (crosbyton.el_pct, crosbyton.swd_pct) == (0.7, 8.7)
    assert crosbyton.need_index is not None
    assert (crosbyton.lat, crosbyton.lon, crosbyton.location_precision) == (
        33.658782,
        -101.246702,
        "exact",
    )


def test_locale_codes_become_city_suburb_town_rural(db):
    load(db)
    with db.session() as session:
        locales = set(session.scalars(select(School.locale)))
    assert locales <= {"city", "suburb", "town", "rural"}


def test_reimporting_the_directory_changes_nothing(db):
    first = load(db)
    again = load(db)
    assert again.counts["schools"].unchanged == first.counts["schools"].added
    assert again.counts["schools"].added == again.counts["schools"].updated == 0


def test_an_unknown_code_is_an_error_naming_the_column(db, tmp_path):
    text = (TEXAS / "tx-campuses-ccd-sample.csv").read_text()
    header, first, *rest = text.splitlines(keepends=True)
    bad = first.replace(",43,", ",99,", 1)
    report = load(db, path=write(tmp_path / "ccd.csv", header + bad + "".join(rest)))
    assert report.status == "failed"
    assert report.issues[0].field == "ULOCAL"
    assert count(db, School) == 0


def test_a_missing_column_of_the_directory_is_a_clear_failure(db, tmp_path):
    report = load(db, path=write(tmp_path / "ccd.csv", "NCESSCH,SCHNAM\n1,A\n"))
    assert report.status == "failed"
    assert "missing required column" in report.detail


def test_a_missing_join_file_is_a_clear_failure(db, tmp_path):
    report = load(db, tapr=tmp_path / "nope.csv")
    assert report.status == "failed" and "not a file" in report.detail


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[fields]\nexternal_id = "A"\nname = "B"\ngrade_low = "C"\ngrade_high = "D"\n'
            'colour = "E"\n',
            "unknown field",
        ),
        (
            '[fields]\nexternal_id = "A"\nname = "B"\ngrade_low = { column = "C", codes = "x" }\n'
            'grade_high = "D"\n',
            "unknown code table",
        ),
        ('[fields]\nexternal_id = "A"\n', "must map 'name'"),
        ("not = toml = at all", "not valid TOML"),
    ],
)
def test_mapping_mistakes_are_explained(tmp_path, toml, message):
    with pytest.raises(schools_csv.MappingProblem, match=message):
        schools_csv.load_mapping(write(tmp_path / "m.toml", toml))


def test_the_shipped_mapping_loads():
    mapping = schools_csv.load_mapping(Path(TEXAS_MAPPING))
    assert mapping.source == "tx-ccd-tapr"
    assert [j.alias for j in mapping.joins] == ["tapr"]


def test_a_school_listed_twice_is_an_error_not_a_database_failure(db, tmp_path):
    text = (TEXAS / "tx-campuses-ccd-sample.csv").read_text()
    header, first, *_rest = text.splitlines(keepends=True)
    report = load(db, path=write(tmp_path / "ccd.csv", header + first + first))
    assert report.status == "failed"
    assert report.issues[0].field == "external_id (NCESSCH)"
    assert "more than once" in report.issues[0].problem

"""Bulk CSV import of the templates: upsert, dry run, all-or-nothing, skip-invalid, bad files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.imports import bulk_csv
from app.models import CatalogChange, Location, Offering, Organization, School
from tests.imports.helpers import OFFERINGS, ORGANIZATIONS, count, write


def run(db, path: Path, kind: str, **options):  # type: ignore[no-untyped-def]
    with db.session() as session:
        return bulk_csv.import_file(session=session, path=path, kind=kind, source="t", **options)


@pytest.fixture
def loaded(db, tmp_path):  # type: ignore[no-untyped-def]
    orgs = run(db, write(tmp_path / "orgs.csv", ORGANIZATIONS), "organizations")
    offs = run(db, write(tmp_path / "offs.csv", OFFERINGS), "offerings")
    assert (orgs.status, offs.status) == ("imported", "imported"), offs.lines()
    return tmp_path


def test_templates_load_with_every_field_and_the_organization_link(db, loaded):
    with db.session() as session:
        org = session.scalar(select(Organization).where(Organization.external_id == "o1"))
        assert (org.name, org.type, org.languages) == (
            "East Bay Science Mentors",
            "nonprofit",
            ["en", "es"],
        )
        assert (org.service_area_kind, org.service_radius_km) == ("radius", 15)
        assert [(loc.lat, loc.lon, loc.precision) for loc in org.locations] == [
            (37.8053, -122.2725, "exact")
        ]
        fee = session.scalar(select(Offering).where(Offering.external_id == "f2"))
        assert fee.organization_id == org.id
        assert (fee.grade_low, fee.grade_high, fee.cost, fee.cost_amount) == (
            0,
            5,
            "fee",
            Decimal("120.50"),
        )
        assert str(fee.active_from) == "2026-09-01"


def test_a_row_without_coordinates_is_placed_at_its_zip_code_and_marked_approximate(db, loaded):
    with db.session() as session:
        loc = session.scalar(
            select(Location).join(Organization).where(Organization.external_id == "o2")
        )
        assert loc.precision == "approximate"
        assert "ZIP code 94063" in loc.note
        assert loc.lat == pytest.approx(37.48, abs=0.05)


def test_reimporting_the_same_files_changes_nothing(db, loaded):
    with db.session() as session:
        before = session.scalars(select(Offering.updated_at).order_by(Offering.id)).all()
    again = run(db, loaded / "offs.csv", "offerings")
    assert again.counts["offerings"].__dict__ == {
        "added": 0,
        "updated": 0,
        "unchanged": 3,
        "skipped": 0,
    }
    orgs = run(db, loaded / "orgs.csv", "organizations")
    assert orgs.counts["organizations"].unchanged == 2
    with db.session() as session:
        assert session.scalars(select(Offering.updated_at).order_by(Offering.id)).all() == before


def test_a_changed_row_is_updated_in_place(db, loaded):
    write(loaded / "offs.csv", OFFERINGS.replace("After-school robotics", "Robotics club"))
    report = run(db, loaded / "offs.csv", "offerings")
    assert (report.counts["offerings"].updated, report.counts["offerings"].unchanged) == (1, 2)
    assert count(db, Offering) == 3
    assert count(db, Offering, title="Robotics club") == 1


def test_an_import_logs_one_catalog_change_so_ranking_indexes_rebuild(db, loaded):
    with db.session() as session:
        changes = session.scalars(select(CatalogChange)).all()
    assert changes and all(c.offering_id is None and c.organization_id is None for c in changes)


def test_dry_run_reports_what_would_change_and_writes_nothing(db, tmp_path):
    report = run(db, write(tmp_path / "o.csv", ORGANIZATIONS), "organizations", dry_run=True)
    assert report.status == "dry_run"
    assert report.counts["organizations"].added == 2
    assert count(db, Organization) == 0


def test_one_bad_row_and_nothing_is_written_with_row_field_and_problem(db, loaded):
    bad = OFFERINGS + "f4,o1,Broken,no_such_category,9,3,,,,,,,,\n"
    report = run(
        db, write(loaded / "bad.csv", bad.replace("f1,", "n1,").replace("f2,", "n2,")), "offerings"
    )
    assert report.status == "failed"
    problems = {(i.row, i.field) for i in report.issues}
    assert (5, "categories") in problems and (5, "grade_high") in problems
    assert count(db, Offering) == 3  # the valid new rows n1, n2 were not written either


def test_skip_invalid_imports_the_valid_rows_and_reports_the_others(db, loaded):
    bad = OFFERINGS + "f4,o1,Broken,stem,9,3,,,,,,,,\nf5,nobody,Orphan,stem,1,2,,,,,,,,\n"
    report = run(db, write(loaded / "bad.csv", bad), "offerings", skip_invalid=True)
    assert report.status == "imported"
    assert report.counts["offerings"].skipped == 2
    assert {(i.row, i.field) for i in report.issues} == {
        (5, "grade_high"),
        (6, "organization_external_id"),
    }
    assert count(db, Offering) == 3


def test_a_formula_cell_is_an_error_naming_the_field_and_nothing_is_written(db, loaded):
    text = OFFERINGS.replace("Reading buddies", '"=HYPERLINK(""http://x"",""y"")"')
    report = run(db, write(loaded / "f.csv", text.replace("f1,", "x1,")), "offerings")
    assert report.status == "failed"
    assert [(i.row, i.field) for i in report.issues] == [(4, "title")]
    assert "formula" in report.issues[0].problem
    assert count(db, Offering, external_id="x1") == 0


def test_an_apostrophe_marks_a_formula_like_value_as_text(db, loaded):
    text = OFFERINGS.replace("Reading buddies", "'=Reading buddies")
    report = run(db, write(loaded / "f.csv", text), "offerings")
    assert report.status == "imported"
    assert count(db, Offering, title="=Reading buddies") == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"external_id,name,type\nx,Caf\xe9,nonprofit\n", "not valid utf-8"),
        (b'external_id,name,type\nx,"Broken,nonprofit\n', "quote"),
        (b"external_id,name\nx,No type\n", "missing required column(s): type"),
        (b"external_id,name,type,colour\nx,A,nonprofit,red\n", "unknown column 'colour'"),
        (
            b"external_id,name,type,description\nx,A,nonprofit," + b"d" * (10 * 2**20) + b"\n",
            "longer than",
        ),
    ],
    ids=["bad-encoding", "broken-quotes", "missing-column", "unknown-column", "10-mb-field"],
)
def test_malformed_files_give_a_clear_report_and_leave_the_database_unchanged(
    db, loaded, content, expected
):
    before = (count(db, Organization), count(db, Offering), count(db, CatalogChange))
    report = run(db, write(loaded / "m.csv", content), "organizations")
    assert report.status == "failed"
    assert expected in report.detail
    assert (count(db, Organization), count(db, Offering), count(db, CatalogChange)) == before


def test_rows_after_a_malformed_record_are_not_written_either(db, tmp_path):
    text = ORGANIZATIONS + 'o3,"Unclosed,nonprofit\n'
    report = run(db, write(tmp_path / "o.csv", text), "organizations", skip_invalid=True)
    assert report.status == "failed"
    assert count(db, Organization) == 0


def test_a_repeated_external_id_is_an_error(db, tmp_path):
    text = ORGANIZATIONS + "o1,Again,nonprofit,,,,,,,,,\n"
    report = run(db, write(tmp_path / "o.csv", text), "organizations")
    assert report.status == "failed"
    assert "more than once" in report.issues[0].problem


def test_a_row_with_a_zip_not_in_the_table_and_no_coordinates_is_an_error(db, tmp_path):
    text = "external_id,name,type,postal_code\nz,Nowhere,nonprofit,00000\n"
    report = run(db, write(tmp_path / "o.csv", text), "organizations")
    assert [(i.field, "ZIP code '00000'" in i.problem) for i in report.issues] == [("lat", True)]


def test_schools_template_computes_the_need_index(db, tmp_path):
    text = (
        "external_id,name,nces_id,lat,lon,grade_low,grade_high,frl_pct,title_i,locale\n"
        "s1,Allendale Elementary,060177000041,37.7887,-122.205,K,5,87.5,yes,city\n"
    )
    report = run(db, write(tmp_path / "s.csv", text), "schools")
    assert report.status == "imported", report.lines()
    with db.session() as session:
        school = session.scalar(select(School))
        assert (school.nces_id, school.grade_low, school.title_i) == ("060177000041", 0, True)
        assert 0 < school.need_index <= 1


def test_a_second_publisher_of_an_nces_id_refreshes_the_same_school(db, tmp_path):
    text = "external_id,name,nces_id,lat,lon,grade_low,grade_high\ns1,A,060177000041,37,-122,K,5\n"
    assert run(db, write(tmp_path / "s.csv", text), "schools").status == "imported"
    again = text.replace("s1,A,", "x9,A school,")
    with db.session() as session:
        report = bulk_csv.import_file(
            session=session, path=write(tmp_path / "o.csv", again), kind="schools", source="other"
        )
    assert report.status == "imported", report.lines()
    assert report.counts["schools"].updated == 1
    assert report.notes["linked to existing schools by nces id"] == 1
    assert count(db, School) == 1
    with db.session() as session:
        school = session.scalar(select(School))
        assert (school.source, school.external_id, school.name) == ("t", "s1", "A school")


def test_numbers_that_are_not_numbers_name_the_column(db, loaded):
    text = OFFERINGS.replace(",4,,\n", ",four,,\n", 1)
    report = run(db, write(loaded / "n.csv", text), "offerings")
    assert [(i.row, i.field) for i in report.issues] == [(2, "capacity_schools")]


def test_the_kind_is_told_from_the_header(tmp_path):
    assert bulk_csv.guess_kind(write(tmp_path / "a.csv", OFFERINGS)) == "offerings"
    assert bulk_csv.guess_kind(write(tmp_path / "b.csv", ORGANIZATIONS)) == "organizations"
    for kind in bulk_csv.KINDS:
        assert bulk_csv.guess_kind(bulk_csv.template_path(kind)) == kind


def test_giving_a_school_an_nces_id_another_school_holds_is_an_error_naming_it(db, tmp_path):
    head = "external_id,name,nces_id,lat,lon,grade_low,grade_high\n"
    both = head + "s1,A,060177000041,37,-122,K,5\ns2,B,060177000042,37,-122,K,5\n"
    assert run(db, write(tmp_path / "s.csv", both), "schools").status == "imported"
    clash = head + "s1,A,060177000042,37,-122,K,5\n"
    report = run(db, write(tmp_path / "c.csv", clash), "schools")
    assert report.status == "failed"
    assert [(i.row, i.field, i.value) for i in report.issues] == [(2, "nces_id", "060177000042")]

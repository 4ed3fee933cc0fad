"""Import reports a person can act on: a tally by problem with example rows, the offending cell
in every message, and a plain "run `partnermap migrate` first" when the schema is missing."""

from __future__ import annotations

from pathlib import Path

from app.cli import main
from app.imports import bulk_csv, schools_csv
from app.models import School
from app.settings import get_settings
from tests.imports.helpers import TEXAS, TEXAS_MAPPING, count, write

BAD_ORGANIZATIONS = (
    "external_id,name,type\n"
    "o1,Good Partner,nonprofit\n"
    "o2,Space Club,spaceship\n"
    "o3,Rocket Club,rocket\n"
    "o4,,nonprofit\n"
    "o5,Moon Club,lunar\n"
    "o6,Mars Club,martian\n"
)


def run(db, path: Path):  # type: ignore[no-untyped-def]
    with db.session() as session:
        return bulk_csv.import_file(session=session, path=path, kind="organizations", source="t")


def test_problems_are_tallied_by_kind_with_a_few_example_rows_and_their_cells(db, tmp_path):
    report = run(db, write(tmp_path / "orgs.csv", BAD_ORGANIZATIONS))
    assert report.status == "failed" and report.errors == 5
    tally = report.to_dict()["by_problem"]
    assert [(t["field"], t["count"]) for t in tally] == [("type", 4), ("name", 1)]
    assert tally[0]["examples"] == [
        {"row": 3, "value": "spaceship"},
        {"row": 4, "value": "rocket"},
        {"row": 6, "value": "lunar"},
    ]
    assert "(got '…')" in tally[0]["problem"]
    text = "\n".join(report.lines())
    assert "4 x error type:" in text and "row 3 (cell: 'spaceship')" in text
    assert "1 x error name:" in text and "row 5 (cell is empty)" in text


def test_every_message_shows_the_offending_cell(db, tmp_path):
    report = run(db, write(tmp_path / "orgs.csv", BAD_ORGANIZATIONS))
    by_row = {i.row: str(i) for i in report.issues}
    assert by_row[7].endswith("(cell: 'martian')")
    assert by_row[5] == "error row 5: name: Input should be a valid string (cell is empty)"


def test_a_mapped_directory_problem_shows_the_directory_cell(db, tmp_path):
    text = (TEXAS / "tx-campuses-ccd-sample.csv").read_text()
    header, first, *rest = text.splitlines(keepends=True)
    bad = first.replace(",43,", ",99,", 1)
    with db.session() as session:
        report = schools_csv.import_directory(
            session=session,
            path=write(tmp_path / "ccd.csv", header + bad + "".join(rest)),
            mapping=schools_csv.load_mapping(TEXAS_MAPPING),
            join_files={"tapr": TEXAS / "tapr-sample.csv"},
        )
    (issue,) = report.issues
    assert (issue.field, issue.value) == ("ULOCAL", "99")
    assert str(issue).endswith("(cell: '99')")
    assert count(db, School) == 0


def test_an_import_before_migrate_says_to_run_partnermap_migrate(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        orgs = write(tmp_path / "orgs.csv", "external_id,name,type\no1,Good Partner,nonprofit\n")
        assert main(["import", "csv", str(orgs)]) == 1
        out = capsys.readouterr().out
        assert "run `partnermap migrate` first" in out
        assert "OperationalError" not in out
    finally:
        get_settings.cache_clear()

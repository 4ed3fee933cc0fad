"""What a mapping file can say (computed fields, constants, defaults, its own code tables,
per-column missing markers, skip patterns), on real Texas rows (NCES CCD + TEA TAPR). The TAPR
file publishes counts beside its percentages, so a computed percentage is checked against the
published one."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app.imports import records as rec
from app.imports import schools_csv
from app.models import School
from tests.imports.helpers import TEXAS, TEXAS_MAPPING, write

SHIPPED = TEXAS_MAPPING.read_text(encoding="utf-8")
SCHEMA = TEXAS_MAPPING.parents[1] / "mapping.schema.json"


def mapping_with(tmp_path: Path, old: str, new: str) -> schools_csv.Mapping:
    assert old in SHIPPED
    return schools_csv.load_mapping(write(tmp_path / "m.toml", SHIPPED.replace(old, new)))


def load(db, mapping, path=TEXAS / "tx-campuses-ccd-sample.csv"):  # type: ignore[no-untyped-def]
    with db.session() as session:
        report = schools_csv.import_directory(
            session=session,
            path=path,
            mapping=mapping,
            join_files={"tapr": TEXAS / "tapr-sample.csv"},
        )
    assert report.status == "imported", report.lines()
    return report


def schools(db) -> dict[str, School]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return {s.state_id: s for s in session.scalars(select(School))}


def test_a_computed_percentage_equals_the_published_one(db, tmp_path):
    mapping = mapping_with(
        tmp_path,
        'frl_pct = "tapr.CPETECOP"',
        'frl_pct = { compute = "100 * tapr.CPETECOC / tapr.CPETALLC", round = 1 }',
    )
    load(db, mapping)
    with open(TEXAS / "tapr-sample.csv", encoding="utf-8") as f:
        published = {r["CAMPUS"]: r["CPETECOP"] for r in csv.DictReader(f)}
    found = schools(db)
    assert len(found) > 150
    for state_id, school in found.items():
        expected = published[state_id.lstrip("0")]
        assert school.frl_pct == pytest.approx(float(expected), abs=0.051), state_id
    assert all(s.need_index is not None for s in found.values())


def test_a_division_by_zero_or_a_missing_part_gives_no_value_not_an_error(db, tmp_path):
    text = (TEXAS / "tapr-sample.csv").read_text()
    header, first, *rest = text.splitlines(keepends=True)
    cols = header.rstrip("\n").split(",")
    cells = first.rstrip("\n").split(",")
    cells[cols.index("CPETALLC")] = "0"
    second = rest[0].rstrip("\n").split(",")
    second[cols.index("CPETECOC")] = "."
    tapr = write(tmp_path / "tapr.csv", header + ",".join(cells) + "\n" + ",".join(second) + "\n")
    mapping = mapping_with(
        tmp_path,
        'frl_pct = "tapr.CPETECOP"',
        'frl_pct = { compute = "100 * tapr.CPETECOC / tapr.CPETALLC", round = 1 }',
    )
    with db.session() as session:
        report = schools_csv.import_directory(
            session=session,
            path=TEXAS / "tx-campuses-ccd-sample.csv",
            mapping=mapping,
            join_files={"tapr": tapr},
        )
    assert report.status == "imported" and report.counts["schools"].added == 2, report.lines()
    assert [s.frl_pct for s in schools(db).values()] == [None, None]


def test_a_constant_and_the_mappings_own_code_table(db, tmp_path):
    toml = (
        SHIPPED.replace('state = "LSTATE"', 'state = { value = "tx" }').replace(
            'grade_low = [{ column = "GSLO", codes = "nces_grade" },',
            'grade_low = [{ column = "GSLO", codes = "tx_grade" },',
        )
        + '\n[codes.tx_grade]\nPK = "K"\nKG = "K"\nN = ""\n'
        + "\n".join(f'"{g:02d}" = "{g}"' for g in range(1, 13))
    )
    load(db, schools_csv.load_mapping(write(tmp_path / "own.toml", toml)))
    found = schools(db)
    crosbyton = found["054901101"]
    assert crosbyton.grade_low == 0  # PK read as K by the mapping's own table
    assert {s.state for s in found.values()} == {"tx"}  # the constant, not the file's TX


def test_a_column_of_its_own_missing_markers_and_a_default(db, tmp_path):
    mapping = mapping_with(
        tmp_path,
        'city = "LCITY"',
        'city = { column = "LCITY", missing = ["CROSBYTON"], default = "Unknown city" }',
    )
    load(db, mapping)
    found = schools(db)
    assert found["054901101"].city == "Unknown city"
    assert {s.city for s in found.values()} - {"Unknown city"}


def test_rows_are_skipped_by_a_pattern_and_the_report_counts_them(db, tmp_path):
    mapping = mapping_with(
        tmp_path, 'STATUS = ["2"]', 'STATUS = ["2"]\nSCHNAM = { pattern = "(?i) H S$" }'
    )
    report = load(db, mapping)
    names = {s.name for s in schools(db).values()}
    assert names and not any(n.endswith(" H S") for n in names)
    assert report.notes["skipped (SCHNAM matches (?i) H S$)"] > 0


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("frl_pct = { compute = \"__import__('os')\" }", "only numbers, columns"),
        ('frl_pct = { compute = "nope.X / 2" }', "names no join"),
        ('frl_pct = { compute = "100 *" }', "cannot read formula"),
    ],
)
def test_a_formula_that_is_not_arithmetic_over_columns_is_refused(tmp_path, field, message):
    with pytest.raises(schools_csv.MappingProblem, match=message):
        mapping_with(tmp_path, 'frl_pct = "tapr.CPETECOP"', field)


def test_a_skip_rule_that_is_neither_values_nor_a_pattern_is_refused(tmp_path):
    with pytest.raises(schools_csv.MappingProblem, match="list of values"):
        mapping_with(tmp_path, 'STATUS = ["2"]', 'STATUS = "2"')


def test_the_json_schema_names_what_the_loader_reads():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert set(schema["properties"]) == schools_csv.MAPPING_KEYS
    assert list(schema["properties"]["fields"]["properties"]) == [
        c.name for c in rec.SCHOOL_COLUMNS
    ]
    forms = schema["$defs"]["source"]["oneOf"][1:]
    assert [set(f["properties"]) for f in forms] == list(schools_csv.SOURCE_KEYS.values())
    assert set(schema["$defs"]["join"]["properties"]["normalize"]["enum"]) == {
        k for k in schools_csv._NORMALIZE if k
    }
    docs = (Path(__file__).parents[2] / "docs" / "imports.md").read_text(encoding="utf-8")
    assert all(f"`{table}`" in docs for table in schools_csv.CODE_TABLES)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('source = "tx-ccd-tapr"', 'source = "tx-ccd-tapr"\nsorce = "x"', "unknown key"),
        ('city = "LCITY"', 'city = { column = "LCITY", defualt = "x" }', "unknown key"),
    ],
)
def test_a_misspelt_key_is_refused_with_the_known_ones(tmp_path, old, new, message):
    with pytest.raises(schools_csv.MappingProblem, match=message):
        mapping_with(tmp_path, old, new)

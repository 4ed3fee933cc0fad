"""One district and one school per real one, across directories and refreshes: districts found
by NCES LEA id and aliases, schools linked by NCES id, state id or an opt-in (reported) fuzzy
match, and the precedence rule for refreshes (docs/imports.md). Real Texas CCD rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from app.auth.principal import Principal
from app.imports import bulk_csv, schools_csv
from app.models import District, DistrictAlias, School, SchoolLink
from app.schemas.schools import SchoolUpdate
from app.services import districts, schools
from tests.imports.helpers import TEXAS, write

CCD = TEXAS / "tx-campuses-ccd-sample.csv"
CCD_ONLY = """
name = "Texas CCD directory"
source = "{source}"
missing = ["", "."]
{extra}

[skip]
STATUS = ["2"]

[fields]
external_id = "{key}"
{nces}
state_id = "SEASCH"
name = "SCHNAM"
district = "LEANM"
{lea}
address = "LSTREE"
city = "LCITY"
state = "LSTATE"
postal_code = "LZIP"
lat = {{ column = "LATCOD", zero_is_missing = true }}
lon = {{ column = "LONCOD", zero_is_missing = true }}
grade_low = [{{ column = "GSLO", codes = "nces_grade" }}, {{ value = "K" }}]
grade_high = [{{ column = "GSHI", codes = "nces_grade" }}, {{ value = "12" }}]
{frl}
"""
OPERATOR = Principal(user_id=None, role="admin")


def mapping(
    tmp_path: Path,
    *,
    source: str = "nces-ccd",
    key: str = "NCESSCH",
    nces: bool = True,
    lea: bool = True,
    frl: str = "",
    extra: str = "",
) -> schools_csv.Mapping:
    text = CCD_ONLY.format(
        source=source,
        key=key,
        nces='nces_id = "NCESSCH"' if nces else "",
        lea='district_nces_id = "LEAID"' if lea else "",
        frl=frl,
        extra=extra,
    )
    return schools_csv.load_mapping(write(tmp_path / f"{source}.toml", text))


def load(db, m, path=CCD, **options):  # type: ignore[no-untyped-def]
    with db.session() as session:
        report = schools_csv.import_directory(session=session, path=path, mapping=m, **options)
    assert report.status == "imported", report.lines()
    return report


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def school(db, nces_id: str) -> School:  # type: ignore[no-untyped-def]
    with db.session() as session:
        found = session.scalar(select(School).where(School.nces_id == nces_id))
        assert found is not None
        session.expunge(found)
        return found


def test_a_district_is_found_by_its_lea_id_whatever_the_directory_calls_it(db, tmp_path):
    with db.session() as session:
        own = districts.create(
            session=session, principal=OPERATOR, name="Hays Consolidated ISD", nces_lea_id="4800010"
        ).id
    report = load(db, mapping(tmp_path))
    with db.session() as session:
        in_hays = session.scalars(select(School).where(School.district == "Hays Consolidated ISD"))
        hays_schools = list(in_hays)
        assert len(hays_schools) == 24
        assert {s.district_id for s in hays_schools} == {own}
        assert session.scalar(select(District.id).where(District.name == "HAYS CISD")) is None
        alias = session.scalar(select(DistrictAlias).where(DistrictAlias.name == "HAYS CISD"))
        assert alias is not None and alias.district_id == own
    assert "HAYS CISD = Hays Consolidated ISD" in report.notes["district names kept as aliases"]
    # a later file naming the district only by the directory's name finds the same district
    text = (
        "external_id,name,district,lat,lon,grade_low,grade_high\n"
        "h1,New Hays school,HAYS CISD,30,-98,K,5\n"
    )
    with db.session() as session:
        csv_report = bulk_csv.import_file(
            session=session, path=write(tmp_path / "h.csv", text), kind="schools", source="csv"
        )
    assert csv_report.status == "imported", csv_report.lines()
    with db.session() as session:
        added = session.scalar(select(School).where(School.external_id == "h1"))
        assert added is not None and added.district_id == own


def test_the_same_district_from_two_directories_is_one_district(db, tmp_path):
    load(db, mapping(tmp_path))
    districts_after_one = count(db, District)
    # a second publisher of the same schools, names spelled its own way, LEA ids alike
    other = tmp_path / "other.csv"
    other.write_text(
        CCD.read_text(encoding="utf-8").replace("HAYS CISD", "Hays Cons. Ind. School District"),
        encoding="utf-8",
    )
    report = load(db, mapping(tmp_path, source="state-layer", key="SEASCH"), path=other)
    assert count(db, District) == districts_after_one
    assert (
        count(db, School)
        == report.counts["schools"].unchanged
        + report.counts["schools"].updated
        + report.counts["schools"].added
    )
    assert report.counts["schools"].added == 0
    assert report.notes["linked to existing schools by nces id"] > 250


def test_a_mapping_alias_puts_a_directory_name_in_the_existing_district(db, tmp_path):
    """The issue's case: "Oakland Unified" in a file, "Oakland Unified School District" stored."""
    with db.session() as session:
        own = districts.create(session=session, principal=OPERATOR, name="Hays CISD (TX)").id
    extra = '[district_aliases]\n"HAYS CISD" = "Hays CISD (TX)"'
    load(db, mapping(tmp_path, lea=False, extra=extra))
    with db.session() as session:
        hays = list(session.scalars(select(School).where(School.district_id == own)))
        assert session.scalar(select(District.id).where(District.name == "HAYS CISD")) is None
    assert len(hays) == 24
    assert {s.district for s in hays} == {"Hays CISD (TX)"}


def test_another_source_links_by_state_id_when_it_has_no_nces_id(db, tmp_path):
    first = load(db, mapping(tmp_path))
    schools_before = count(db, School)
    report = load(db, mapping(tmp_path, source="tea", key="SEASCH", nces=False))
    assert count(db, School) == schools_before == first.counts["schools"].added
    assert report.notes["linked to existing schools by state id"] == schools_before
    assert count(db, SchoolLink) == schools_before
    # a refresh of the linked source finds its links again: nothing new, nothing linked anew
    again = load(db, mapping(tmp_path, source="tea", key="SEASCH", nces=False))
    assert again.counts["schools"].added == 0
    assert not any(k.startswith("linked") for k in again.notes)
    assert count(db, SchoolLink) == schools_before


def test_linking_can_be_turned_off_and_then_adds_schools(db, tmp_path):
    load(db, mapping(tmp_path, nces=False))
    before = count(db, School)
    load(db, mapping(tmp_path, source="tea", key="SEASCH", nces=False, extra="[link]\nby = []"))
    assert count(db, School) == 2 * before


def test_a_persons_edit_is_kept_by_every_refresh(db, tmp_path):
    load(db, mapping(tmp_path))
    target = school(db, "480000101145")
    with db.session() as session:
        schools.update(
            session=session,
            principal=OPERATOR,
            school_id=target.id,
            data=SchoolUpdate(name="Crosbyton Elementary School"),
        )
    report = load(db, mapping(tmp_path, source="tea", key="SEASCH"))
    assert report.notes["fields kept (precedence)"] >= 1
    report = load(db, mapping(tmp_path))  # the school's own source refreshing, too
    refreshed = school(db, "480000101145")
    assert refreshed.name == "Crosbyton Elementary School"
    assert refreshed.field_sources["name"] == ["person", None]
    assert refreshed.grade_low == target.grade_low  # other fields still follow the directory


def test_a_higher_precedence_source_keeps_its_fields_when_a_lower_one_refreshes(db, tmp_path):
    state = mapping(
        tmp_path, source="state", extra="precedence = 10", frl='frl_pct = { value = "61.5" }'
    )
    federal = mapping(tmp_path, source="federal", key="SEASCH", frl='frl_pct = { value = "20" }')
    load(db, state)
    load(db, federal)
    kept = school(db, "480000101145")
    assert kept.frl_pct == 61.5
    assert kept.field_sources["frl_pct"] == ["state", 10]
    # the same rule lets an equal or higher source write: the state refresh changes it
    load(
        db,
        mapping(
            tmp_path, source="state", extra="precedence = 10", frl='frl_pct = { value = "55" }'
        ),
    )
    assert school(db, "480000101145").frl_pct == 55
    # another source of the same precedence: the later directory wins
    load(
        db,
        mapping(
            tmp_path,
            source="late",
            key="SEASCH",
            extra="precedence = 10",
            frl='frl_pct = { value = "40" }',
        ),
    )
    assert school(db, "480000101145").frl_pct == 40


def test_fuzzy_matching_is_opt_in_reported_and_picks_the_school_by_name(db, tmp_path):
    text = (
        "external_id,name,address,postal_code,lat,lon,grade_low,grade_high\n"
        "c1,Crosbyton Elementary,204 S Harrison,79322,33.6588,-101.2467,PK,5\n"
    )
    with db.session() as session:
        assert (
            bulk_csv.import_file(
                session=session, path=write(tmp_path / "c.csv", text), kind="schools", source="csv"
            ).status
            == "imported"
        )
    m = mapping(tmp_path)
    with db.session() as session:
        dry = schools_csv.import_directory(
            session=session, path=CCD, mapping=m, dry_run=True, fuzzy=True
        )
    linked = [i for i in dry.issues if "fuzzy" in i.problem]
    assert [(i.value, i.severity) for i in linked] == [("CROSBYTON EL", "warning")]
    assert "school 1 'Crosbyton Elementary'" in (linked[0].record or "")
    assert "name similarity 1.00" in (linked[0].record or "")
    assert dry.notes["linked to existing schools by name and place"] == 1
    # without the option nothing is matched by name: a second school is added
    plain = load(db, m)
    assert plain.counts["schools"].added == count(db, School) - 1
    assert count(db, SchoolLink) == 0


def test_two_records_of_one_source_cannot_land_on_one_school(db, tmp_path):
    load(db, mapping(tmp_path))
    dup = tmp_path / "dup.csv"
    lines = CCD.read_text(encoding="utf-8").splitlines()
    # a second row of the other source with the same NCES id as the first, another key
    row = lines[1].split(",")
    row[6] = "999999999"
    dup.write_text("\n".join([lines[0], lines[1], ",".join(row)]) + "\n", encoding="utf-8")
    with db.session() as session:
        report = schools_csv.import_directory(
            session=session, path=dup, mapping=mapping(tmp_path, source="tea", key="SEASCH")
        )
    assert report.status == "failed"
    assert [i.field for i in report.issues] == ["external_id"]

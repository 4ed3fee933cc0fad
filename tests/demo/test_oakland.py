"""The Oakland demo parser on the real shipped files: counts, joins, mappings and invariants."""

import csv
import hashlib
import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from app.demo.oakland import (
    DATA_DIR,
    OAKLAND_LAT,
    OAKLAND_LON,
    load_oakland,
    load_service_type_map,
    normalise,
)
from app.taxonomy import TAXONOMY_PATH
from geo.distance import haversine_km

# The shipped copies stay byte-identical to community_partner_platform@f56e32f (see NOTICE).
SOURCE_SHA256 = {
    "community_partners_2011.csv": (
        "ed98caef723e20a76a0f75a5c648b7a6db0491b0c6b5d4198ba6e848a3399e57"
    ),
    "free_reduced_meal_2012_2013.csv": (
        "bb7a1e288baadcda58b5f81dda2c5b00070ad44631f1036954d19ef1b09fc52f"
    ),
    "quality_element_service_type.csv": (
        "0ac451b0e190e5973994806c0ebe54261b274b9f47d76d18e3dd615b7cd77ee8"
    ),
    "schools_2017.csv": "48b776fc0fcb204a54e0c65b150745ba0a49ad36522ca5965f98e367160d6de8",
}
# The Ohana sample (Open Eligibility terms) ships with the import tests; see app/data/README.md.
OHANA_TAXONOMY = Path(__file__).resolve().parents[1] / "imports/data/ohana-sample/taxonomy.csv"
REQUIRED_BRANCHES = {
    "academic_support", "stem", "literacy", "arts", "sports_recreation", "mentoring",
    "career_internships", "college_access", "health", "mental_health_sel", "nutrition_food",
    "family_engagement", "basic_needs", "educator_development", "resources",
    "expanded_learning", "transportation", "school_climate", "early_childhood",
    "legal_immigration",
}  # fmt: skip


@pytest.fixture(scope="module")
def oakland():
    return load_oakland()


@pytest.fixture(scope="module")
def taxonomy():
    return json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def codes(taxonomy):
    return {c["code"] for c in taxonomy["categories"]}


def _rows(name):
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _school(oakland, external_id):
    return next(s for s in oakland.schools if s.external_id == external_id)


# --- files and taxonomy ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SOURCE_SHA256))
def test_shipped_oakland_files_are_byte_identical_to_the_source(name):
    digest = hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest()
    assert digest == SOURCE_SHA256[name]


def test_taxonomy_codes_are_unique_two_level_and_every_parent_exists(taxonomy):
    categories = taxonomy["categories"]
    codes = [c["code"] for c in categories]
    assert taxonomy["version"] == "2026.1"
    assert len(codes) == len(set(codes))
    by_code = {c["code"]: c for c in categories}
    for category in categories:
        assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?", category["code"])
        assert category["name"] and category["description"]
        parent = category["parent"]
        if parent is None:
            assert "." not in category["code"]
        else:
            assert by_code[parent]["parent"] is None, "only two levels"
            assert category["code"].startswith(parent + ".")


def test_taxonomy_has_every_required_branch_with_three_to_eight_children(taxonomy):
    children = {}
    for category in taxonomy["categories"]:
        if category["parent"]:
            children.setdefault(category["parent"], []).append(category["code"])
    top = {c["code"] for c in taxonomy["categories"] if c["parent"] is None}
    assert top >= REQUIRED_BRANCHES
    assert all(3 <= len(children.get(code, [])) <= 8 for code in top)


def test_taxonomy_cross_references_are_well_formed(taxonomy):
    for category in taxonomy["categories"]:
        assert all(re.fullmatch(r"[A-Z][0-9][0-9A-Z]", code) for code in category["ntee"])
        assert len(set(category["open_referral"])) == len(category["open_referral"])


def test_open_referral_names_are_real_open_eligibility_terms(taxonomy):
    with OHANA_TAXONOMY.open(newline="", encoding="utf-8") as handle:
        terms = {row["name"] for row in csv.DictReader(handle)}
    used = {name for c in taxonomy["categories"] for name in c["open_referral"]}
    assert used and used <= terms, sorted(used - terms)


def test_every_service_type_in_the_partner_records_maps_to_existing_codes(codes):
    mapping = load_service_type_map(DATA_DIR / "service_type_map.csv")
    in_records = {normalise(r["service_type"]) for r in _rows("community_partners_2011.csv")}
    in_records.discard("")
    assert len(in_records) == 191
    assert set(mapping) == in_records, "no gaps and no stale entries"
    assert all(mapped and set(mapped) <= codes for mapped in mapping.values())


def test_service_type_map_keeps_the_original_spelling():
    mapped = {r["service_type"] for r in _rows("service_type_map.csv")}
    raw = {" ".join(r["service_type"].split()) for r in _rows("community_partners_2011.csv")}
    assert mapped <= raw


# --- schools ---------------------------------------------------------------------------------


def test_all_115_schools_have_oakland_coordinates_after_the_swap_fix(oakland):
    assert len(oakland.schools) == 115
    assert oakland.report["schools_coordinates_swapped"] == 115
    for school in oakland.schools:
        assert OAKLAND_LAT[0] <= school.lat <= OAKLAND_LAT[1]
        assert OAKLAND_LON[0] <= school.lon <= OAKLAND_LON[1]
    allendale = _school(oakland, "ousd:6001630")
    assert (allendale.lat, allendale.lon) == (37.7887, -122.205)


def test_coordinates_already_in_order_are_kept_and_impossible_ones_refused(tmp_path):
    data = tmp_path / "oakland"
    shutil.copytree(DATA_DIR, data)
    path = data / "schools_2017.csv"
    text = path.read_text(encoding="utf-8")
    fixed = text.replace(",-122.205,37.7887,", ",37.7887,-122.205,", 1)
    assert fixed != text
    path.write_text(fixed, encoding="utf-8")
    reparsed = load_oakland(data)
    assert reparsed.report["schools_coordinates_swapped"] == 114
    assert (_school(reparsed, "ousd:6001630").lat, _school(reparsed, "ousd:6001630").lon) == (
        37.7887,
        -122.205,
    )
    path.write_text(fixed.replace(",37.7887,-122.205,", ",0.0,0.0,", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="not in Oakland"):
        load_oakland(data)


def test_free_reduced_meal_data_joins_86_schools_on_the_seven_digit_cde_code(oakland):
    joined = [s for s in oakland.schools if s.frl_pct is not None]
    assert len(joined) == oakland.report["schools_frpm_joined"] == 86
    assert all(s.state_id and s.enrollment is not None for s in joined)
    assert {s.external_id for s in joined} == {s.external_id for s in oakland.schools if s.state_id}
    pride = _school(oakland, "ousd:0115600")  # stored as 115600 in schools_2017.csv
    assert (pride.enrollment, pride.frl_pct) == (472, 100.0)
    chabot = _school(oakland, "ousd:6001648")
    assert (chabot.enrollment, chabot.frl_pct) == (578, 9.34)


def test_early_childhood_centres_have_no_cde_code_or_meal_data(oakland):
    centres = [s for s in oakland.schools if s.site_type == "Childhood Development Centers"]
    assert len(centres) == 29
    assert all(s.state_id is None and s.frl_pct is None for s in centres)
    assert all(s.external_id.startswith("ousd:X") for s in centres)


@pytest.mark.parametrize(
    ("external_id", "grades"),
    [
        ("ousd:6001630", (0, 5)),  # TK-5
        ("ousd:6001911", (0, 8)),  # K-8
        ("ousd:0118653", (11, 12)),  # Bunche, 11-12
        ("ousd:6114011", (0, 12)),  # Sojourner Truth, K-12
        ("ousd:X000015", (-1, -1)),  # Acorn Woodland State PreK: pre-K
        ("ousd:X000028", (0, 5)),  # Sequoia School Age: its host school's TK-5
    ],
)
def test_grade_spans_follow_the_grades_served_column(oakland, external_id, grades):
    school = _school(oakland, external_id)
    assert (school.grade_low, school.grade_high) == grades


def test_schools_are_real_oakland_sites(oakland):
    assert all(s.district == "Oakland Unified School District" for s in oakland.schools)
    assert all(s.city == "Oakland" and s.state == "CA" for s in oakland.schools)
    assert all(s.nces_id is None and s.locale == "city" for s in oakland.schools)
    assert len({s.external_id for s in oakland.schools}) == 115


# --- partner records -------------------------------------------------------------------------


def test_school_names_that_stay_unmatched_are_reported(oakland):
    assert oakland.unmatched_school_names == (
        "Achieve", "Ascend Elementary", "Barack Obama Academy",
        "Business, Information & Tech HS (CBITS)", "College Prep and Architecture",
        "East Oakland School of the Arts (EOSA)", "Far West High School",
        "Freshman Prep Academy", "Lakeview Elementary", "Lazear Elementary", "Leadership Prep",
        "Learning Without Limits Elementary", "Mandela High School", "Marshall Elementary",
        "Maxwell Park Elementary", "Media College Prep Academy",
        "Oakland Fine Arts Summer School (OFASS)", "Santa Fe Elementary", "Stonhurst",
        "World Academy", "Youth Empowerment HS",
    )  # fmt: skip
    assert oakland.report["partner_rows_matched_school"] == 1229


@pytest.mark.parametrize(
    "external_id",
    [
        "ousd:6002182",  # "Sobrante Park Elementary": the 2012-13 CDE name of this code
        "ousd:6066450",  # "Madison Middle School": likewise
        "ousd:0112813",  # "Korematsu Elementary": alias
        "ousd:0125161",  # "Castlemont Community of Small Schools": alias
        "ousd:6001697",  # "Carl B. Munck Elementary" vs "Carl Munck Elementary"
        "ousd:6072235",  # "Martin Luther King Jr. Elementary" vs "M L King Jr Elementary"
    ],
)
def test_renamed_schools_are_matched_to_their_2017_site(oakland, external_id):
    assert any(a.school_external_id == external_id for a in oakland.needs_assessments)


def test_organizations_with_a_matched_school_are_located_the_rest_skipped(oakland):
    report = oakland.report
    assert len(oakland.organizations) == report["organizations_located"] == 343
    assert report["organizations_skipped_no_matched_school"] == 19
    assert report["organizations_in_records"] == 343 + 19
    assert report["partner_rows_not_an_organization"] == 41
    assert report["partner_rows_private_individual"] == 9
    names = {o.name for o in oakland.organizations}
    assert "?" not in names and "Elena Loera" not in names
    assert len({o.external_id for o in oakland.organizations}) == 343


def test_each_organization_serves_its_schools_within_its_radius(oakland):
    schools = {s.external_id: s for s in oakland.schools}
    for org in oakland.organizations:
        assert org.location_precision == "approximate"
        assert org.served_school_ids and org.service_radius_km >= 2.0
        n = len(org.served_school_ids)
        assert f"from the {n} OUSD school" in org.location_note
        for school_id in org.served_school_ids:
            school = schools[school_id]
            assert haversine_km(org.lat, org.lon, school.lat, school.lon) <= org.service_radius_km


def test_a_one_school_partner_sits_on_that_school_with_the_minimum_radius(oakland):
    chevron = next(o for o in oakland.organizations if o.name == "Chevron Corporation")
    (school_id,) = chevron.served_school_ids
    school = _school(oakland, school_id)
    assert (chevron.lat, chevron.lon, chevron.service_radius_km) == (school.lat, school.lon, 2.0)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("OUSD", "government"),
        ("Faith Network of the East Bay, Inc.", "faith_based"),
        ("UC Berkeley SAGE Mentorship Program UC Berkeley", "higher_education"),
        ("Alameda County Food Bank", "nonprofit"),
        ("PTA", "community_group"),
        ("Chevron Corporation", "business"),
        ("Youth Alive: Teens on Target", "nonprofit"),
    ],
)
def test_organization_type_is_inferred_from_the_name(oakland, name, kind):
    org = next(o for o in oakland.organizations if o.name == name)
    assert (org.type, org.type_inferred) == (kind, True)


def test_offerings_cite_real_categories_and_located_organizations(oakland, codes):
    orgs = {o.external_id for o in oakland.organizations}
    assert len(oakland.offerings) == oakland.report["offerings"] == 699
    assert len({o.external_id for o in oakland.offerings}) == 699
    for offering in oakland.offerings:
        assert offering.organization_external_id in orgs
        assert offering.categories and set(offering.categories) <= codes
        assert 0 < len(offering.title) <= 200
        assert -1 <= offering.grade_low <= offering.grade_high <= 12
        assert offering.delivery == ("at_school",)
        assert set(offering.schedule) <= {"after_school", "weekends", "summer"}


def test_a_long_service_text_gives_a_short_title_and_a_full_description(oakland):
    coaching = next(
        o for o in oakland.offerings if o.title == "Principal and leadership team coaching"
    )
    assert coaching.description.startswith("Principal and leadership team coaching (school design")
    assert "master schedule" in coaching.description
    assert coaching.categories == (
        "educator_development.professional_development",
        "educator_development.leadership_coaching",
    )


def test_schedule_comes_only_from_after_school_summer_or_weekend_service_types(oakland):
    for offering in oakland.offerings:
        types = " ".join(offering.source_service_types).lower()
        assert ("after_school" in offering.schedule) == bool(
            re.search(r"after ?school|extended day", types)
        )
        assert ("summer" in offering.schedule) == ("summer" in types)


# --- example needs assessments ---------------------------------------------------------------


def test_needs_assessments_are_marked_examples_and_cite_existing_categories(oakland, codes):
    assert len(oakland.needs_assessments) == oakland.report["needs_assessments"] == 84
    schools = {s.external_id: s for s in oakland.schools}
    for assessment in oakland.needs_assessments:
        school = schools[assessment.school_external_id]
        assert assessment.is_example is True
        assert assessment.assessed_on == date(2011, 11, 1)
        assert "not a real assessment" in assessment.source_note
        assert 1 <= len(assessment.needs) <= 8
        priorities = [n.priority for n in assessment.needs]
        assert priorities[0] == 1 and priorities == sorted(priorities)
        assert all(1 <= p <= 5 for p in priorities)
        for need in assessment.needs:
            assert need.category in codes
            assert (need.grade_low, need.grade_high) == (school.grade_low, school.grade_high)
            assert need.students_affected is None
            assert re.fullmatch(r"Composed from \d+ partner services? recorded in 2011", need.notes)


def test_the_most_sought_category_leads_a_schools_needs(oakland):
    madison = next(a for a in oakland.needs_assessments if a.school_external_id == "ousd:6066450")
    counts = [int(re.search(r"\d+", n.notes).group()) for n in madison.needs]
    assert counts == sorted(counts, reverse=True)
    assert madison.needs[0].priority == 1 and counts[0] > counts[-1]


def test_loading_twice_gives_the_same_data(oakland):
    assert load_oakland() == oakland


def test_each_partnership_is_a_recorded_service_at_a_school_in_its_school_year(oakland):
    offerings = {o.external_id: o for o in oakland.offerings}
    schools = {s.external_id for s in oakland.schools}
    refs = [p.source_ref for p in oakland.partnerships]
    assert len(refs) == len(set(refs)) == oakland.report["partnerships"]
    for p in oakland.partnerships:
        assert p.school_external_id in schools
        offering = offerings[p.offering_external_id]
        assert offering.organization_external_id == p.organization_external_id
        assert p.categories and set(p.categories) <= set(offering.categories)
        assert (p.term_start.month, p.term_start.day) == (8, 15)
        assert (p.term_end, p.term_end.year) == (
            date(p.term_end.year, 6, 15),
            p.term_start.year + 1,
        )
    # Records collected in 2013 (spring) belong to the 2012-13 school year.
    collected = {r["date_collected"].strip()[-4:] for r in _rows("community_partners_2011.csv")}
    years = {p.term_start.year for p in oakland.partnerships}
    assert ("2013" in collected) == (2012 in years) and 2011 in years

"""Oakland Unified demo data: real public records parsed into plain frozen dataclasses.

Pure (stdlib csv + dataclasses; great-circle distances from geo): no database and no web
framework. The files, their sources and licences, and every rule that derives a value (swapped
coordinates, grade spans of early-childhood centres, school-name matching, approximate partner
locations, organisation types, example needs) are documented in app/data/README.md. Nothing
here invents a record.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from geo.distance import haversine_km

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "oakland"
DISTRICT = "Oakland Unified School District"
ASSESSED_ON = date(2011, 11, 1)
SOURCE_NOTE = (
    "Example composed from the services this school sought from partners in OUSD's Nov 2011 "
    "records; not a real assessment"
)
# Oakland's extent, with a margin: a coordinate pair outside it is a data error, not a school.
OAKLAND_LAT = (37.6, 37.9)
OAKLAND_LON = (-122.4, -122.0)
MIN_RADIUS_KM = 2.0
RADIUS_MARGIN_KM = 1.0
MAX_NEEDS = 8
MAX_PRIORITY = 5
# A record's school year runs from mid-August to mid-June (OUSD's calendar); a record collected
# from July on belongs to the year starting then, earlier to the year before.
TERM_START = (8, 15)
TERM_END = (6, 15)
UNDATED_YEAR = 2011
TITLE_LENGTH = 120

# Partner-record school names that normalisation cannot tie to a 2017 site (value: CDE code).
SCHOOL_ALIASES = {
    "Korematsu Elementary": "0112813",  # Fred T. Korematsu Discovery Academy
    "Castlemont Community of Small Schools": "0125161",  # the Castlemont campus, one school by 2017
    "Fremont Federation of High Schools": "0125716",  # the Fremont campus, one school by 2017
}
# Words that distinguish no Oakland school once the rest of the name is compared.
GENERIC_SCHOOL_WORDS = frozenset(
    {
        "elementary",
        "school",
        "schools",
        "middle",
        "high",
        "hs",
        "ms",
        "es",
        "academy",
        "continuation",
    }
)

# Values of the organization column that name no organisation: placeholders and bare roles.
NOT_ORGANIZATIONS = frozenset(
    {
        "",
        "?",
        "lead agency tbd",
        "consultant",
        "independent contractor",
        "private therapist",
        "volunteers",
        "volunteer committee member",
        "site funded",
        "school day support",
        "sdc teacher",
        "mpa teachers",
        "extended contracts for teachers",
        "special education",
        "newcomers class",
        "family advocate",
        "community school manager",
        "yard maintenance",
        "high school volunteers",
        "stem",
    }
)
# Private people recorded as the "organization"; left out of the demo directory.
PRIVATE_INDIVIDUALS = frozenset(
    {
        "elena loera",
        "kusum crimmel",
        "greg cluster instructor from school",
        "lydia scott adams, pacific ring boxing",
    }
)
# Spelling variants and abbreviations of one organisation (normalised name: display name).
ORGANIZATION_ALIASES = {
    "bacr": "Bay Area Community Resources (BACR)",
    "bay area community resources": "Bay Area Community Resources (BACR)",
    "east side arts alliance": "Eastside Arts Alliance",
    "africam american male achievement": "African American Male Achievement",
    "safe passage/americorps": "Safe Passages/Americorps",
    "community health for asian americans (chaa)": "Community Health for Asian Americans",
    "cyber high program": "Cyber High",
    "art esteem, the attitudinal healing connection of oakland (ahc)": (
        "Art Esteem, The Attitudinal Healing Connection of Oakland"
    ),
    "uc build (cal corps public service center - uc berkeley)": (
        "UC Berkeley BUILD (Cal Corps Public Service Center - UC Berkeley)"
    ),
    "the wright institute": "Wright Institute",
    "children's hospital": "Children's Hospital & Research Center Oakland (CHRCO)",
    "oakland children's hospital": "Children's Hospital & Research Center Oakland (CHRCO)",
    "melrose public library": "Melrose Library",
}
# Organisation type from the name: first matching rule wins, default nonprofit (inferred).
ORGANIZATION_TYPE_RULES = (
    ("nonprofit", r"food bank"),
    (
        "government",
        r"\bousd\b|alameda county|city of |police department|parks & recreation"
        r"|\blibrary\b|caltrans|\busda\b|california department|public health"
        r"|advisory council|site council|\btupe\b|measure g|migrant education"
        r"|oakland fund for children|block grant|national institute of",
    ),
    ("faith_based", r"church|temple|\bfaith\b|catholic|jewish|urban missions"),
    (
        "community_group",
        r"\bpta\b|\bpto\b|\bptsa\b|parent teacher|booster|\bclub\b|chapter"
        r"|neighborhood council|resident action|time banking|gardeners"
        r"|masonic lodge|volunteers|students$",
    ),
    (
        "higher_education",
        r"universit|\buc\b|cal state|stanford|college of the arts"
        r"|\bmills? college\b|laney college|bauman college|wright institute"
        r"|school of social work|graduate school",
    ),
    (
        "business",
        r"\bcompany\b|\bbank\b|consult|\bassociates\b|\bllc\b|learning center"
        r"|driving school|climbing|dental|chevron|clorox|\bintel\b|google|^target$"
        r"|whole foods",
    ),
)
SCHEDULE_RULES = (
    ("after_school", r"after ?school|extended day"),
    ("weekends", r"saturday|sunday|weekend"),
    ("summer", r"summer"),
)
_GRADE_LABELS = {"PK": -1, "P": -1, "PS": -1, "PREK": -1, "TK": 0, "K": 0, "KK": 0, "KG": 0}


@dataclass(frozen=True)
class DemoSchool:
    external_id: str
    name: str
    nces_id: str | None
    state_id: str | None
    district: str
    address: str
    city: str
    state: str
    postal_code: str
    lat: float
    lon: float
    grade_low: int
    grade_high: int
    enrollment: int | None
    frl_pct: float | None
    locale: str
    site_type: str


@dataclass(frozen=True)
class DemoOrganization:
    external_id: str
    name: str
    type: str
    type_inferred: bool
    lat: float
    lon: float
    service_radius_km: float
    location_precision: str
    location_note: str
    served_school_ids: tuple[str, ...]


@dataclass(frozen=True)
class DemoOffering:
    external_id: str
    organization_external_id: str
    title: str
    description: str
    categories: tuple[str, ...]
    grade_low: int
    grade_high: int
    delivery: tuple[str, ...]
    schedule: tuple[str, ...]
    source_service_types: tuple[str, ...]


@dataclass(frozen=True)
class DemoNeed:
    category: str
    priority: int
    grade_low: int | None
    grade_high: int | None
    students_affected: int | None
    notes: str


@dataclass(frozen=True)
class DemoNeedsAssessment:
    school_external_id: str
    assessed_on: date
    needs: tuple[DemoNeed, ...]
    is_example: bool = True
    source_note: str = SOURCE_NOTE


@dataclass(frozen=True)
class DemoPartnership:
    """A recorded school-partner service, as a completed partnership of its school year."""

    source_ref: str
    school_external_id: str
    organization_external_id: str
    offering_external_id: str
    categories: tuple[str, ...]
    term_start: date
    term_end: date


@dataclass(frozen=True)
class DemoData:
    schools: tuple[DemoSchool, ...]
    organizations: tuple[DemoOrganization, ...]
    offerings: tuple[DemoOffering, ...]
    needs_assessments: tuple[DemoNeedsAssessment, ...]
    partnerships: tuple[DemoPartnership, ...]
    unmatched_school_names: tuple[str, ...]
    report: dict[str, int]


@dataclass(frozen=True)
class _PartnerRow:
    """One school-partner pair, with the school names resolved and the service type mapped."""

    school_ids: tuple[str, ...]
    organization: str | None  # normalised key; None when the row names no usable organisation
    service_text: str
    service_type: str
    categories: tuple[str, ...]
    school_year: int  # the calendar year the school year starts in


def load_oakland(data_dir: Path | None = None) -> DemoData:
    """Parse the shipped Oakland files into schools, partners, offerings and example needs."""
    data_dir = data_dir or DATA_DIR
    report: dict[str, int] = {}
    schools, match_names = _load_schools(data_dir, report)
    service_map = load_service_type_map(data_dir / "service_type_map.csv")
    rows, unmatched, org_names = _load_partner_rows(
        data_dir, schools, match_names, service_map, report
    )
    organizations = _organizations(rows, org_names, schools, report)
    offerings, offering_of = _offerings(rows, organizations, schools, report)
    assessments = _needs_assessments(rows, schools)
    partnerships = _partnerships(rows, offering_of, organizations)
    report["organizations_located"] = len(organizations)
    report["offerings"] = len(offerings)
    report["needs_assessments"] = len(assessments)
    report["partnerships"] = len(partnerships)
    report["unmatched_school_names"] = len(unmatched)
    return DemoData(
        schools=tuple(schools.values()),
        organizations=tuple(o for o, _ in organizations.values()),
        offerings=offerings,
        needs_assessments=assessments,
        partnerships=partnerships,
        unmatched_school_names=unmatched,
        report=report,
    )


def load_service_type_map(path: Path) -> dict[str, tuple[str, ...]]:
    """The documented service_type -> taxonomy codes mapping, keyed by normalised service type."""
    mapping: dict[str, tuple[str, ...]] = {}
    for row in _read(path):
        key = normalise(row["service_type"])
        codes = tuple(c.strip() for c in row["categories"].split(";") if c.strip())
        if not key or not codes or key in mapping:
            raise ValueError(f"{path.name}: empty, unmapped or repeated service type {key!r}")
        mapping[key] = codes
    return mapping


def normalise(text: str) -> str:
    """Case- and whitespace-insensitive form used to compare free-text values."""
    return " ".join(text.split()).casefold()


# --- schools ---------------------------------------------------------------------------------


def _load_schools(
    data_dir: Path, report: dict[str, int]
) -> tuple[dict[str, DemoSchool], dict[str, tuple[str, ...]]]:
    frpm = {
        row["school_code"].strip(): row
        for row in _read(data_dir / "free_reduced_meal_2012_2013.csv")
    }
    rows = _read(data_dir / "schools_2017.csv")
    spans = {row["id"]: _grade_span(row["grades_served"]) for row in rows}
    coordinates = {row["id"]: _coordinates(row) for row in rows}
    schools: dict[str, DemoSchool] = {}
    match_names: dict[str, tuple[str, ...]] = {}
    swapped = joined = derived = 0
    for row in rows:
        code = _cde_code(row["state_cde_code"])
        lat, lon, was_swapped = coordinates[row["id"]]
        span = spans[row["id"]] or _early_childhood_span(row, spans, coordinates)
        derived += spans[row["id"]] is None
        meals = frpm.get(code) if code else None
        joined += meals is not None
        swapped += was_swapped
        external_id = f"ousd:{code or row['state_cde_code'].strip()}"
        if external_id in schools:
            raise ValueError(f"schools_2017.csv: duplicate school code {external_id}")
        schools[external_id] = DemoSchool(
            external_id=external_id,
            name=row["name"].strip(),
            nces_id=None,
            state_id=code,
            district=DISTRICT,
            address=row["address"].strip(),
            city=row["city"].strip(),
            state="CA",
            postal_code=row["zip_code"].strip(),
            lat=lat,
            lon=lon,
            grade_low=span[0],
            grade_high=span[1],
            enrollment=_int(meals["enrollment_k_12"]) if meals else None,
            frl_pct=_float(meals["frpm_percent_eligible_k_12"]) if meals else None,
            locale="city",
            site_type=row["site_type"].strip(),
        )
        # The 2012-13 CDE name of the same school code helps match the 2011 partner records.
        match_names[external_id] = (row["name"],) + ((meals["school_name"],) if meals else ())
    report.update(
        schools=len(schools),
        schools_coordinates_swapped=swapped,
        schools_frpm_joined=joined,
        schools_grades_derived=derived,
    )
    return schools, match_names


def _cde_code(raw: str) -> str | None:
    """The 7-digit CDE school code; None for the source's X000000 placeholders (CDCs)."""
    raw = raw.strip()
    return raw[-7:].zfill(7) if raw.isdigit() else None


def _coordinates(row: dict[str, str]) -> tuple[float, float, bool]:
    """(lat, lon, swapped): the source's lat/lng columns are swapped; detect it by range."""
    first, second = float(row["lat"]), float(row["lng"])
    if _in_oakland(first, second):
        return first, second, False
    if _in_oakland(second, first):
        return second, first, True
    raise ValueError(f"schools_2017.csv id {row['id']}: ({first}, {second}) is not in Oakland")


def _in_oakland(lat: float, lon: float) -> bool:
    return OAKLAND_LAT[0] <= lat <= OAKLAND_LAT[1] and OAKLAND_LON[0] <= lon <= OAKLAND_LON[1]


def _grade_span(text: str) -> tuple[int, int] | None:
    if not text.strip():
        return None
    low, _, high = text.partition("-")
    return _grade(low), _grade(high or low)


def _grade(token: str) -> int:
    token = token.strip().upper()
    if token in _GRADE_LABELS:
        return _GRADE_LABELS[token]
    if token.isdigit() and 0 < int(token) <= 12:
        return int(token)
    raise ValueError(f"unknown grade {token!r}")


def _early_childhood_span(
    row: dict[str, str],
    spans: dict[str, tuple[int, int] | None],
    coordinates: dict[str, tuple[float, float, bool]],
) -> tuple[int, int]:
    """Centres list no grades: pre-K, except school-age care, which takes its host school's."""
    if "school age" not in normalise(row["name"]):
        return -1, -1
    lat, lon, _ = coordinates[row["id"]]
    hosts = [
        (float(haversine_km(lat, lon, *coordinates[site][:2])), span)
        for site, span in spans.items()
        if span is not None
    ]
    distance, span = min(hosts, key=lambda h: h[0])
    if distance > 0.25:
        raise ValueError(f"no school shares a site with {row['name']!r}")
    return span


# --- partner records -------------------------------------------------------------------------


def _load_partner_rows(
    data_dir: Path,
    schools: dict[str, DemoSchool],
    match_names: dict[str, tuple[str, ...]],
    service_map: dict[str, tuple[str, ...]],
    report: dict[str, int],
) -> tuple[list[_PartnerRow], tuple[str, ...], dict[str, str]]:
    match = _school_matcher(schools, match_names)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    rows: list[_PartnerRow] = []
    unmatched: set[str] = set()
    counts: Counter[str] = Counter()
    for raw in _read(data_dir / "community_partners_2011.csv"):
        parts = [" ".join(p.split()) for p in raw["school"].split("/") if p.strip()]
        matched = {part: match(part) for part in parts}
        ids = tuple(dict.fromkeys(i for i in matched.values() if i))
        unmatched.update(part for part, school_id in matched.items() if not school_id)
        organization = _organization_key(raw["organization"], counts)
        if organization:
            spellings[organization][" ".join(raw["organization"].split())] += 1
        service_type = " ".join(raw["service_type"].split())
        categories = service_map.get(normalise(service_type), ())
        if service_type and not categories:
            raise ValueError(f"service type {service_type!r} is missing from service_type_map.csv")
        counts["partner_rows"] += 1
        counts["partner_rows_matched_school"] += bool(ids)
        counts["partner_rows_without_school"] += not parts
        counts["partner_rows_without_service_type"] += not service_type
        counts["partner_rows_collected_after_2011"] += raw["date_collected"].strip()[-4:] > "2011"
        rows.append(
            _PartnerRow(
                ids,
                organization,
                " ".join(raw["service_provided"].split()),
                service_type,
                categories,
                _school_year(raw["date_collected"]),
            )
        )
    canonical = {normalise(name): name for name in ORGANIZATION_ALIASES.values()}
    names = {key: canonical.get(key) or _most_common(spelled) for key, spelled in spellings.items()}
    counts["service_types_mapped"] = len(service_map)
    counts["organizations_in_records"] = len(names)
    report.update(counts)
    return rows, tuple(sorted(unmatched, key=str.casefold)), names


def _school_matcher(
    schools: dict[str, DemoSchool], match_names: dict[str, tuple[str, ...]]
) -> Callable[[str], str | None]:
    """A function from a partner-record school name to a school id, or None."""
    full: dict[str, set[str]] = defaultdict(set)
    core: dict[str, set[str]] = defaultdict(set)
    for school_id, names in match_names.items():
        for name in names:
            full[_school_key(name)].add(school_id)
            core[_school_key(name, drop=GENERIC_SCHOOL_WORDS)].add(school_id)
    aliases = {_school_key(name): f"ousd:{code}" for name, code in SCHOOL_ALIASES.items()}
    if missing := set(aliases.values()) - set(schools):
        raise ValueError(f"school aliases point at unknown schools: {sorted(missing)}")

    def match(name: str) -> str | None:
        key = _school_key(name)
        if key in aliases:
            return aliases[key]
        for index, k in ((full, key), (core, _school_key(name, drop=GENERIC_SCHOOL_WORDS))):
            if len(index.get(k, ())) == 1:
                return next(iter(index[k]))
        return None

    return match


def _school_key(name: str, drop: frozenset[str] = frozenset()) -> str:
    """Compare names without case, accents, punctuation, parentheses or middle initials."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"\([^)]*\)", " ", text).casefold().replace("&", " and ").replace("@", " at ")
    tokens = re.split(r"[^a-z0-9]+", text)
    return " ".join(t for t in tokens if t and t not in drop and not (len(t) == 1 and t.isalpha()))


def _organization_key(raw: str, counts: Counter[str]) -> str | None:
    key = normalise(raw)
    if key in NOT_ORGANIZATIONS:
        counts["partner_rows_not_an_organization"] += 1
        return None
    if key in PRIVATE_INDIVIDUALS or "independent contractor" in key:
        counts["partner_rows_private_individual"] += 1
        return None
    alias = ORGANIZATION_ALIASES.get(key)
    return normalise(alias) if alias else key


# --- organisations and offerings -------------------------------------------------------------


def _organizations(
    rows: list[_PartnerRow],
    names: dict[str, str],
    schools: dict[str, DemoSchool],
    report: dict[str, int],
) -> dict[str, tuple[DemoOrganization, tuple[int, int]]]:
    """Located organisations by key, each with the grade span of the schools it served."""
    served: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.organization:
            served[row.organization].update(row.school_ids)
    order = list(schools)
    located: dict[str, tuple[DemoOrganization, tuple[int, int]]] = {}
    slugs: Counter[str] = Counter()
    for key in sorted(names, key=lambda k: (names[k].casefold(), k)):
        ids = sorted(served[key], key=order.index)
        if not ids:
            continue
        slug = _slug(names[key])
        slugs[slug] += 1
        slug = slug if slugs[slug] == 1 else f"{slug}-{slugs[slug]}"
        lat = sum(schools[i].lat for i in ids) / len(ids)
        lon = sum(schools[i].lon for i in ids) / len(ids)
        members = [schools[i] for i in ids]
        farthest = float(
            haversine_km(lat, lon, [s.lat for s in members], [s.lon for s in members]).max()
        )
        organization = DemoOrganization(
            external_id=f"ousd2011:{slug}",
            name=names[key],
            type=_organization_type(names[key]),
            type_inferred=True,
            lat=round(lat, 6),
            lon=round(lon, 6),
            service_radius_km=math.ceil(max(MIN_RADIUS_KM, farthest + RADIUS_MARGIN_KM) * 1000)
            / 1000,
            location_precision="approximate",
            location_note=f"derived from the {_plural(len(ids), 'OUSD school')} it served in 2011",
            served_school_ids=tuple(ids),
        )
        span = (min(schools[i].grade_low for i in ids), max(schools[i].grade_high for i in ids))
        located[key] = (organization, span)
    report["organizations_skipped_no_matched_school"] = len(names) - len(located)
    return located


def _organization_type(name: str) -> str:
    text = name.casefold()
    for kind, pattern in ORGANIZATION_TYPE_RULES:
        if re.search(pattern, text):
            return kind
    return "nonprofit"


def _offerings(
    rows: list[_PartnerRow],
    organizations: dict[str, tuple[DemoOrganization, tuple[int, int]]],
    schools: dict[str, DemoSchool],
    report: dict[str, int],
) -> tuple[tuple[DemoOffering, ...], dict[tuple[str, str], str]]:
    """One offering per (organisation, service provided); rows keep their file order. Also
    each group key's offering external id, so partnerships can point at their offering."""
    groups: dict[tuple[str, str], list[_PartnerRow]] = defaultdict(list)
    for row in rows:
        text = row.service_text or row.service_type
        if row.organization in organizations and text:
            groups[(row.organization, normalise(text))].append(row)
    offerings: list[DemoOffering] = []
    offering_of: dict[tuple[str, str], str] = {}
    skipped = 0
    for (org_key, text_key), group in groups.items():
        categories = tuple(dict.fromkeys(c for row in group for c in row.categories))
        if not categories:
            skipped += 1
            continue
        organization, org_span = organizations[org_key]
        text = _most_common(row.service_text or row.service_type for row in group)
        title = _title(text)
        types = tuple(dict.fromkeys(row.service_type for row in group if row.service_type))
        ids = {i for row in group for i in row.school_ids}
        span = (
            (min(schools[i].grade_low for i in ids), max(schools[i].grade_high for i in ids))
            if ids
            else org_span
        )
        where = _plural(len(ids), "OUSD school") if ids else "OUSD schools not in the 2017 list"
        description = (f"{text}\n\n" if title != text else "") + (
            f"Recorded by OUSD (2011 community-partner records) at {where}; "
            f"service type: {'; '.join(types)}."
        )
        digest = hashlib.sha1(text_key.encode()).hexdigest()[:8]
        external_id = f"{organization.external_id}:{_slug(title)[:40].strip('-')}-{digest}"
        offering_of[(org_key, text_key)] = external_id
        offerings.append(
            DemoOffering(
                external_id=external_id,
                organization_external_id=organization.external_id,
                title=title,
                description=description,
                categories=categories,
                grade_low=span[0],
                grade_high=span[1],
                delivery=("at_school",),
                schedule=tuple(
                    kind
                    for kind, pattern in SCHEDULE_RULES
                    if any(re.search(pattern, t, re.IGNORECASE) for t in types)
                ),
                source_service_types=types,
            )
        )
    report["offerings_skipped_no_service_type"] = skipped
    return tuple(offerings), offering_of


def _partnerships(
    rows: list[_PartnerRow],
    offering_of: dict[tuple[str, str], str],
    organizations: dict[str, tuple[DemoOrganization, tuple[int, int]]],
) -> tuple[DemoPartnership, ...]:
    """One completed partnership per (school, offering, school year) of the records: every
    matched school of a row whose organisation and service became an offering."""
    found: dict[str, DemoPartnership] = {}
    for row in rows:
        text = row.service_text or row.service_type
        offering = offering_of.get((row.organization or "", normalise(text)))
        if offering is None or not row.categories or row.organization is None:
            continue
        organization = organizations[row.organization][0]
        for school_id in row.school_ids:
            ref = f"{school_id}:{offering}:{row.school_year}"
            if ref in found:
                # The same service recorded twice at a school: one partnership, all categories.
                earlier = found[ref]
                merged = tuple(dict.fromkeys(earlier.categories + row.categories))
                found[ref] = DemoPartnership(**{**earlier.__dict__, "categories": merged})
                continue
            found[ref] = DemoPartnership(
                source_ref=ref,
                school_external_id=school_id,
                organization_external_id=organization.external_id,
                offering_external_id=offering,
                categories=row.categories,
                term_start=date(row.school_year, *TERM_START),
                term_end=date(row.school_year + 1, *TERM_END),
            )
    return tuple(found.values())


def _school_year(collected: str) -> int:
    """The start year of the school year a record dated MM/DD/YYYY was collected in."""
    parts = collected.strip().split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return UNDATED_YEAR
    month, year = int(parts[0]), int(parts[2])
    return year if month >= 7 else year - 1


def _title(text: str) -> str:
    """The service text, or its first clause trimmed to a title when it is long."""
    if len(text) <= TITLE_LENGTH:
        return text
    clause = re.split(r"[.;:(]\s*|\s[-\u2013]\s", text, maxsplit=1)[0].strip()
    clause = clause if len(clause) >= 3 else text
    if len(clause) <= TITLE_LENGTH:
        return clause
    return clause[: TITLE_LENGTH - 1].rsplit(" ", 1)[0].rstrip(",;:- ") + "…"


# --- example needs ---------------------------------------------------------------------------


def _needs_assessments(
    rows: list[_PartnerRow], schools: dict[str, DemoSchool]
) -> tuple[DemoNeedsAssessment, ...]:
    """Per school: the categories it sought most often, priority 1 (most rows) down to 5."""
    sought: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        for school_id in row.school_ids:
            sought[school_id].update(row.categories)
    assessments = []
    for school_id, school in schools.items():
        if not sought[school_id]:
            continue
        top = sorted(sought[school_id].items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_NEEDS]
        levels = sorted({n for _, n in top}, reverse=True)
        needs = tuple(
            DemoNeed(
                category=code,
                priority=min(levels.index(n) + 1, MAX_PRIORITY),
                grade_low=school.grade_low,
                grade_high=school.grade_high,
                students_affected=None,
                notes=f"Composed from {_plural(n, 'partner service')} recorded in 2011",
            )
            for code, n in top
        )
        assessments.append(DemoNeedsAssessment(school_id, ASSESSED_ON, needs))
    return tuple(assessments)


# --- small helpers ---------------------------------------------------------------------------


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _int(text: str) -> int | None:
    return int(text) if text.strip() else None


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


def _most_common(values: Iterable[str]) -> str:
    """The most frequent value; the first seen wins a tie."""
    return Counter(values).most_common(1)[0][0]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.casefold()).strip("-") or "unnamed"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

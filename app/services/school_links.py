"""Which existing school a directory record means, and which of its fields a refresh may write.

Finding the school (`resolve`), in this order:
1. the school this source created with this external id (its own record);
2. the school this source's record was linked to before (`school_links`);
3. an existing school with the record's NCES id, else with its state id in the same state
   (`LinkRules.by`), linked from now on;
4. only when asked (`LinkRules.fuzzy`): a school with a near-identical name at the same place
   (within `FUZZY_METRES`, or the same street address and ZIP code). Each such match is
   reported as a warning saying which school and why, so it is never a silent merge; a record
   with two equally good candidates is not linked.
Otherwise the record is a new school.

Which fields a write may change (`merge`), the precedence rule of docs/imports.md: every
school remembers who last wrote each field (`schools.field_sources`: source and precedence).
- A person's edit (API or pages) is never overwritten by an import.
- A source refreshing a field it wrote itself always may.
- Another source may when its precedence (the mapping's `precedence`, default 0) is at least
  the precedence of the source that wrote the field; so by default the latest directory wins,
  and a directory given a higher precedence (a state report card over a federal file) keeps
  its fields when the lower one is refreshed.
- A field nobody wrote yet (empty, or from before this rule) may always be written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.imports.report import ImportReport
from app.repositories import school_links as repo
from geo.distance import haversine_km

if TYPE_CHECKING:  # records imports services.schools, which imports this module
    from app.imports.records import Record

PERSON = "person"
# A field and the columns written with it (one writer for all of them).
GROUPS = {
    "district": ("district", "district_id"),
    "lat": ("lat", "lon", "location_precision"),
}
LEADS = {column: lead for lead, columns in GROUPS.items() for column in columns}
FUZZY_NAME = 0.85  # name similarity (0..1) a fuzzy match needs
FUZZY_METRES = 250.0  # and the same place: this close, or the same address and ZIP code
_BOX = 0.01  # degrees searched around a record for fuzzy candidates (~1 km)
_ABBREVIATIONS = {
    "el": "elementary",
    "elem": "elementary",
    "es": "elementary school",
    "hs": "high school",
    "h": "high",
    "s": "school",
    "ms": "middle school",
    "jh": "junior high",
    "j": "junior",
    "int": "intermediate",
    "sch": "school",
    "acad": "academy",
    "ctr": "center",
    "st": "saint",
}


@dataclass(frozen=True)
class LinkRules:
    """How a source's records find existing schools, and its precedence for refreshes."""

    by: tuple[str, ...] = ("nces_id", "state_id")
    fuzzy: bool = False
    precedence: int = 0


@dataclass
class Resolved:
    """Each record's school id (None: a new school) and the links to store."""

    targets: dict[int, int | None] = field(default_factory=dict)  # record index -> school id
    links: list[dict[str, Any]] = field(default_factory=list)
    linked_by: dict[str, int] = field(default_factory=dict)


def resolve(
    session: Session, source: str, records: list[Record], rules: LinkRules, report: ImportReport
) -> tuple[list[Record], Resolved]:
    """The school each record means (see the module docstring); records that would land on a
    school another record of this source already means are errors and left out."""
    exts = [r.external_id for r in records]
    own = repo.own_ids(session, source, exts)
    linked = repo.linked_ids(session, source, exts)
    out = Resolved()
    open_: list[int] = []
    for i, r in enumerate(records):
        target = own.get(r.external_id) or linked.get(r.external_id)
        out.targets[i] = target
        if target is None:
            open_.append(i)
    how: dict[int, str] = {}
    if open_ and "nces_id" in rules.by:
        by_nces = repo.ids_by_nces(
            session, [n for i in open_ if (n := records[i].values.get("nces_id"))]
        )
        for i in open_:
            school = by_nces.get(records[i].values.get("nces_id") or "")
            if school is not None:
                out.targets[i], how[i] = school, "nces_id"
    open_ = [i for i in open_ if out.targets[i] is None]
    if open_ and "state_id" in rules.by:
        by_state = repo.ids_by_state_id(
            session, [s for i in open_ if (s := records[i].values.get("state_id"))]
        )
        for i in open_:
            values = records[i].values
            found = [
                id_
                for id_, state in by_state.get(values.get("state_id") or "", [])
                if not (state and values.get("state") and state != values["state"])
            ]
            if len(found) == 1:
                out.targets[i], how[i] = found[0], "state_id"
    open_ = [i for i in open_ if out.targets[i] is None]
    if open_ and rules.fuzzy:
        for i, school_id in _fuzzy(session, [records[i] for i in open_], report).items():
            out.targets[open_[i]], how[open_[i]] = school_id, "name_and_place"
    held = repo.keys_of_source(session, source, [t for t in out.targets.values() if t])
    claimed: dict[int, Record] = {}
    kept: list[Record] = []
    targets: dict[int, int | None] = {}
    for i, r in enumerate(records):
        target = out.targets[i]
        if target is not None:
            other = held.get(target)
            first = claimed.get(target)
            if (other is not None and other != r.external_id) or first is not None:
                report.error(
                    f"matches the school that record '{other or first.external_id}' of source "  # type: ignore[union-attr]
                    f"'{source}' already is (by {how.get(i, 'its key')})",
                    row=r.line,
                    field="external_id",
                    value=r.external_id,
                )
                report.count("schools").skipped += 1
                continue
            claimed[target] = r
            if i in how:
                out.links.append(
                    {
                        "school_id": target,
                        "source": source,
                        "external_id": r.external_id,
                        "matched_by": how[i],
                    }
                )
                out.linked_by[how[i]] = out.linked_by.get(how[i], 0) + 1
        targets[len(kept)] = target
        kept.append(r)
    out.targets = targets
    return kept, out


def merge(
    stored: dict[str, Any],
    incoming: dict[str, Any],
    keys: Sequence[str],
    source: str,
    precedence: int,
) -> tuple[dict[str, Any], dict[str, list[Any]], list[str]]:
    """The changes a write may make to one stored school (the precedence rule above), the
    school's field sources after it, and the fields it was not allowed to change."""
    sources: dict[str, list[Any]] = dict(stored.get("field_sources") or {})
    diff: dict[str, Any] = {}
    kept: list[str] = []
    for key in keys:
        if incoming[key] == stored[key]:
            continue
        lead = LEADS.get(key, key)
        writer = sources.get(lead)
        if writer is not None and not _may_write(writer, source, precedence):
            if lead not in kept:
                kept.append(lead)
            continue
        diff[key] = incoming[key]
        sources[lead] = [source, precedence]
    return diff, sources, kept


def written_by(keys: Sequence[str], source: str, precedence: int) -> dict[str, list[Any]]:
    """The field sources of a new school written with `keys`."""
    return {LEADS.get(k, k): [source, precedence] for k in keys}


def _may_write(writer: list[Any], source: str, precedence: int) -> bool:
    who, level = writer[0], writer[1]
    if who == PERSON:
        return False
    return bool(who == source or level is None or precedence >= level)


def person_edited(stored: dict | None, fields: Sequence[str]) -> dict[str, list[Any]]:
    """Field sources after a person set `fields` (the API and pages call this)."""
    sources = dict(stored or {})
    for f in fields:
        sources[LEADS.get(f, f)] = [PERSON, None]
    return sources


# --- fuzzy matches ------------------------------------------------------------------------------


def name_key(name: str) -> str:
    """A school name compared without case, punctuation or common abbreviations."""
    words = re.sub(r"[^\w]+", " ", name.casefold()).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def _address_key(address: str | None, postal: str | None) -> str | None:
    if not address or not postal:
        return None
    return f"{name_key(address)}|{postal.strip()[:5]}"


def _fuzzy(session: Session, records: list[Record], report: ImportReport) -> dict[int, int]:
    """Record index -> school id for records with one clear match by name and place."""
    placed = [
        (i, r)
        for i, r in enumerate(records)
        if r.values.get("lat") is not None and r.values.get("lon") is not None
    ]
    if not placed:
        return {}
    lats = [r.values["lat"] for _, r in placed]
    lons = [r.values["lon"] for _, r in placed]
    candidates = repo.near(
        session, min(lats) - _BOX, min(lons) - _BOX, max(lats) + _BOX, max(lons) + _BOX
    )
    cells: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for c in candidates:
        cells.setdefault(_cell(c["lat"], c["lon"]), []).append(c)
    found: dict[int, int] = {}
    for i, r in placed:
        v = r.values
        cy, cx = _cell(v["lat"], v["lon"])
        near = [
            c for dy in (-1, 0, 1) for dx in (-1, 0, 1) for c in cells.get((cy + dy, cx + dx), [])
        ]
        if not near:
            continue
        metres = (
            haversine_km(v["lat"], v["lon"], [c["lat"] for c in near], [c["lon"] for c in near])
            * 1000
        )
        key = name_key(v.get("name") or "")
        address = _address_key(v.get("address"), v.get("postal_code"))
        scored = []
        for c, m in zip(near, metres, strict=True):
            same_address = address is not None and address == _address_key(
                c["address"], c["postal_code"]
            )
            if m > FUZZY_METRES and not same_address:
                continue
            similarity = SequenceMatcher(None, key, name_key(c["name"])).ratio()
            if similarity >= FUZZY_NAME:
                scored.append((similarity, float(m), same_address, c))
        if not scored:
            continue
        scored.sort(key=lambda s: (-s[0], s[1]))
        best = scored[0]
        if len(scored) > 1 and scored[1][0] == best[0]:
            report.warn(
                f"not linked: {len(scored)} schools match by name and place equally well "
                f"(ids {', '.join(str(s[3]['id']) for s in scored[:5])})",
                row=r.line,
                field="name",
                value=v.get("name"),
            )
            continue
        similarity, m, same_address, c = best
        why = f"name similarity {similarity:.2f}, {m:.0f} m apart" + (
            ", same address and ZIP code" if same_address else ""
        )
        report.warn(
            "linked to an existing school by name and place (opt-in fuzzy match)",
            row=r.line,
            field="name",
            value=v.get("name"),
            record=f"school {c['id']} '{c['name']}' ({why})",
        )
        found[i] = c["id"]
    return found


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return int(lat // _BOX), int(lon // _BOX)

"""School directories (NCES Common Core of Data, state report cards …) in their own layouts,
brought in through a column-mapping file (TOML; see app/data/imports/mappings/).

The directory file given on the command line is streamed; files joined to it (`[[join]]`, e.g.
a state report card with enrolment and equity indicators) are read into memory keyed on their
join column. Each record is then built into the `schools` template and checked and written
exactly as the bulk CSV import does (app.imports.records, app.services.import_writes).

The mapping format (computed fields, constants, defaults, code tables, missing markers, skip
rules) is documented in docs/imports.md and described by app/data/imports/mapping.schema.json.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tqdm import tqdm

from app.imports import records as rec
from app.imports.bulk_csv import BATCH_SIZE
from app.imports.csvfile import FileProblem, open_csv
from app.imports.formula import Formula, FormulaProblem, parse_formula
from app.imports.geocode import Geocoder, default_geocoder
from app.imports.report import ImportReport
from app.imports.rows import CellError, convert
from app.services import import_writes as writes
from app.services.school_links import LinkRules

MAPPINGS = Path(__file__).parent.parent / "data" / "imports" / "mappings"

_GRADES = {f"{g:02d}": str(g) for g in range(1, 13)} | {str(g): str(g) for g in range(1, 13)}
# Code tables a mapping can name; a code mapped to None means "no value" (the next source in a
# field's list is tried). Unknown codes are errors naming the column.
CODE_TABLES: dict[str, dict[str, Any]] = {
    # NCES CCD GSLO/GSHI: PK, KG, 01-12; UG ungraded and N no students have no grade.
    "nces_grade": {"PK": "PK", "KG": "K", "UG": None, "N": None, **_GRADES},
    # TEA TAPR GRDLOW/GRDHIGH: EE early education (ages 3-4) and PK are pre-kindergarten.
    "tea_grade": {"EE": "PK", "PK": "PK", "KG": "K", **_GRADES},
    # NCES urban-centric locale: 11-13 city, 21-23 suburb, 31-33 town, 41-43 rural.
    "nces_locale": {
        **dict.fromkeys(("11", "12", "13"), "city"),
        **dict.fromkeys(("21", "22", "23"), "suburb"),
        **dict.fromkeys(("31", "32", "33"), "town"),
        **dict.fromkeys(("41", "42", "43"), "rural"),
        "-1": None,
        "N": None,
    },
    "yes_no": {"Y": "true", "YES": "true", "1": "true", "N": "false", "NO": "false", "2": "false"},
}
_NORMALIZE = {
    None: lambda v: v.strip(),
    "strip_leading_zeros": lambda v: v.strip().lstrip("0") or "0",
    "upper": lambda v: v.strip().upper(),
}


# The keys a mapping file and each field source may use (app/data/imports/mapping.schema.json
# says the same; a test keeps them together).
MAPPING_KEYS = frozenset(
    {
        "name",
        "source",
        "missing",
        "join",
        "skip",
        "codes",
        "fields",
        "precedence",
        "link",
        "district_aliases",
    }
)
LINK_KEYS = frozenset({"by", "fuzzy"})
LINK_BY = ("nces_id", "state_id")
SOURCE_KEYS = {
    "column": frozenset({"column", "codes", "zero_is_missing", "missing", "default"}),
    "value": frozenset({"value"}),
    "compute": frozenset({"compute", "round"}),
}


class MappingProblem(Exception):
    """The mapping file is not usable; the message says what to change."""


@dataclass(frozen=True)
class FieldSource:
    """Where one field's value comes from: a column (with its code table, missing markers and
    default), a constant, or a formula over columns."""

    alias: str | None  # None: the directory file
    column: str
    codes: str | None = None
    zero_is_missing: bool = False
    missing: frozenset[str] | None = None  # this column's own "no value" cells
    default: str | None = None  # used when the column has no value
    value: str | None = None  # a constant: no column is read
    formula: Formula | None = None  # computed from columns; "" column
    digits: int | None = None  # a computed value is rounded to this many decimals


@dataclass(frozen=True)
class Join:
    alias: str
    file: str
    key: str
    on: str
    normalize: str | None
    required: bool


@dataclass
class Mapping:
    name: str
    source: str
    fields: dict[str, list[FieldSource]]
    joins: list[Join]
    skip: dict[str, set[str]]
    missing: frozenset[str]
    skip_patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)  # the mapping's own tables
    # How records find existing schools, and this source's precedence for refreshes
    # (app.services.school_links); names in the file -> the district's name.
    link: LinkRules = field(default_factory=LinkRules)
    district_aliases: dict[str, str] = field(default_factory=dict)


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingProblem(f"mapping file {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise MappingProblem(f"mapping file {path} is not UTF-8 text: {exc}") from None
    return parse_mapping(text, name=path.stem, where=f"mapping file {path}")


def parse_mapping(text: str, *, name: str, where: str = "the mapping") -> Mapping:
    """Check a mapping given as TOML text (a file, or an upload through the API)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingProblem(f"{where} is not valid TOML: {exc}") from None
    stray = set(raw) - MAPPING_KEYS
    if stray:
        raise MappingProblem(
            f"unknown key(s): {', '.join(sorted(stray))}; known: {', '.join(sorted(MAPPING_KEYS))}"
        )
    known = {c.name for c in rec.SCHOOL_COLUMNS}
    unknown = set(raw.get("fields", {})) - known
    if unknown:
        raise MappingProblem(
            f"unknown field(s) in [fields]: {', '.join(sorted(unknown))}; known: "
            f"{', '.join(sorted(known))}"
        )
    joins = [
        Join(
            alias=j["alias"],
            file=j["file"],
            key=j["key"],
            on=j["on"],
            normalize=j.get("normalize"),
            required=bool(j.get("required", False)),
        )
        for j in raw.get("join", [])
    ]
    aliases = {j.alias for j in joins}
    for j in joins:
        if j.normalize not in _NORMALIZE:
            raise MappingProblem(f"join '{j.alias}': unknown normalize '{j.normalize}'")
    codes = {
        table: {str(k).upper(): (str(v) if str(v) != "" else None) for k, v in entries.items()}
        for table, entries in raw.get("codes", {}).items()
    }
    fields = {
        name: [
            _field_source(name, s, aliases, {**CODE_TABLES, **codes})
            for s in (spec if isinstance(spec, list) else [spec])
        ]
        for name, spec in raw.get("fields", {}).items()
    }
    skip: dict[str, set[str]] = {}
    patterns: dict[str, re.Pattern[str]] = {}
    for column, rule in raw.get("skip", {}).items():
        if isinstance(rule, dict) and "pattern" in rule:
            try:
                patterns[column] = re.compile(str(rule["pattern"]))
            except re.error as exc:
                raise MappingProblem(f"[skip] {column}: pattern is not a regex: {exc}") from None
        elif isinstance(rule, list):
            skip[column] = {str(x) for x in rule}
        else:
            raise MappingProblem(f'[skip] {column}: give a list of values or {{ pattern = "…" }}')
    link = _link_rules(raw)
    aliases = raw.get("district_aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        raise MappingProblem('[district_aliases]: give "name in the file" = "district name"')
    for required in ("external_id", "name", "grade_low", "grade_high"):
        if required not in fields:
            raise MappingProblem(f"[fields] must map '{required}'")
    return Mapping(
        name=str(raw.get("name", name)),
        source=str(raw.get("source", name)),
        fields=fields,
        joins=joins,
        skip=skip,
        missing=frozenset(str(x) for x in raw.get("missing", [""])),
        skip_patterns=patterns,
        codes=codes,
        link=link,
        district_aliases={str(k): v for k, v in aliases.items()},
    )


def _link_rules(raw: dict[str, Any]) -> LinkRules:
    """[link] by = […], fuzzy = …, and the top-level precedence."""
    link = raw.get("link", {})
    if not isinstance(link, dict) or set(link) - LINK_KEYS:
        raise MappingProblem(f"[link]: known keys are {', '.join(sorted(LINK_KEYS))}")
    by = link.get("by", list(LINK_BY))
    if not isinstance(by, list) or set(by) - set(LINK_BY):
        raise MappingProblem(f"[link] by: a list of {', '.join(LINK_BY)} (or [] for none)")
    precedence = raw.get("precedence", 0)
    if not isinstance(precedence, int) or isinstance(precedence, bool):
        raise MappingProblem("precedence: a whole number (higher wins; default 0)")
    return LinkRules(by=tuple(by), fuzzy=bool(link.get("fuzzy", False)), precedence=precedence)


def _field_source(
    name: str, spec: Any, aliases: set[str], tables: dict[str, dict[str, Any]]
) -> FieldSource:
    if isinstance(spec, str):
        spec = {"column": spec}
    kind = next((k for k in SOURCE_KEYS if isinstance(spec, dict) and k in spec), None)
    if kind is not None and set(spec) - SOURCE_KEYS[kind]:
        raise MappingProblem(
            f"field '{name}': unknown key(s) {', '.join(sorted(set(spec) - SOURCE_KEYS[kind]))} "
            f"beside '{kind}'; known: {', '.join(sorted(SOURCE_KEYS[kind]))}"
        )
    if isinstance(spec, dict) and "value" in spec:
        return FieldSource(None, "", value=str(spec["value"]))
    if isinstance(spec, dict) and "compute" in spec:
        try:
            formula = parse_formula(str(spec["compute"]), aliases)
        except FormulaProblem as exc:
            raise MappingProblem(f"field '{name}': {exc}") from None
        digits = spec.get("round")
        return FieldSource(
            None, "", formula=formula, digits=None if digits is None else int(digits)
        )
    if not isinstance(spec, dict) or "column" not in spec:
        raise MappingProblem(
            f"field '{name}': give a column name, {{ column = … }}, {{ value = … }} or "
            "{ compute = … }"
        )
    alias, _, column = spec["column"].rpartition(".")
    if alias and alias not in aliases:
        alias, column = "", spec["column"]  # a dot inside a directory column name
    codes = spec.get("codes")
    if codes is not None and codes not in tables:
        raise MappingProblem(
            f"field '{name}': unknown code table '{codes}'; known: {', '.join(tables)}"
        )
    missing = spec.get("missing")
    return FieldSource(
        alias or None,
        column,
        codes,
        bool(spec.get("zero_is_missing", False)),
        missing=None if missing is None else frozenset(str(m) for m in missing),
        default=None if spec.get("default") is None else str(spec["default"]),
    )


@dataclass
class _Joined:
    join: Join
    rows: dict[str, dict[str, str]]
    matched: set[str] = field(default_factory=set)


@writes.fewer_collections()
def import_directory(
    *,
    session: Session,
    path: Path,
    mapping: Mapping,
    join_files: dict[str, Path] | None = None,
    source: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    encoding: str = "utf-8",
    progress: bool = False,
    geocoder: Geocoder | None = None,
    district: str | None = None,
    fuzzy: bool | None = None,
) -> ImportReport:
    """Upsert the schools of a directory file (and the files joined to it) in one transaction.
    With `district` (a district's own upload) every school must be in it, as in bulk_csv.
    `fuzzy` turns the mapping's fuzzy matching of existing schools on or off."""
    source = source or mapping.source
    rules = mapping.link if fuzzy is None else replace(mapping.link, fuzzy=fuzzy)

    report = ImportReport(kind="schools", source=source, dry_run=dry_run, skip_invalid=skip_invalid)
    report.notes["mapping"] = mapping.name
    geocoder = geocoder or default_geocoder()
    columns = {c.name: c for c in rec.SCHOOL_COLUMNS}
    present = list(mapping.fields)
    keys = rec.school_update_keys(present)
    skipped_by: Counter[str] = Counter()
    bar = tqdm(
        total=path.stat().st_size if path.is_file() else None,
        unit="B",
        unit_scale=True,
        desc="import schools",
        file=sys.stderr,
        disable=not progress,
        mininterval=0.5,
    )
    staged = writes.StagedBatches()
    try:
        joined = [
            _load_join(
                j,
                (join_files or {}).get(j.alias) or path.parent / j.file,
                encoding,
                mapping,
                report,
            )
            for j in mapping.joins
        ]
        needed = (
            [c for sources in mapping.fields.values() for s in sources for c in _columns(s, None)]
            + [j.on for j in mapping.joins]
            + list(mapping.skip)
            + list(mapping.skip_patterns)
        )
        batch: list[rec.Record] = []
        seen: set[int] = set()
        with open_csv(path, encoding=encoding, required=needed, progress=bar) as rows:
            for line, cells, problem in rows:
                report.rows += 1
                if cells is None:
                    report.error(problem or "unreadable record", row=line)
                    report.count("schools").skipped += 1
                    continue
                rule = _skip_rule(cells, mapping)
                if rule:
                    skipped_by[rule] += 1
                    report.count("schools").skipped += 1
                    continue
                matches = _matches(cells, joined)
                if matches is None:
                    skipped_by["no match in a required join"] += 1
                    report.count("schools").skipped += 1
                    continue
                record = _record(
                    line, cells, matches, mapping, columns, present, source, geocoder, report
                )
                if record is None or hash(record.external_id) in seen:
                    if record is not None:
                        report.error(
                            f"external_id '{record.external_id}' appears more than once",
                            row=line,
                            field=_label("external_id", mapping),
                        )
                    report.count("schools").skipped += 1
                    continue
                seen.add(hash(record.external_id))
                batch.append(record)
                if len(batch) >= BATCH_SIZE:
                    staged.add(batch)
                    batch = []
        staged.add(batch)
        # Written once the whole file is read and checked: the write lock is held briefly.
        written = writes.write_staged(
            session,
            staged,
            lambda s, b: writes.plan_schools(
                s, source, b, keys, report, district, rules, mapping.district_aliases
            ),
            report,
        )
        report.count("schools").add(written)  # after: a report set back is another object
        for j in joined:
            report.notes[f"join {j.join.alias}"] = (
                f"{len(j.matched):,} of {len(j.rows):,} {j.join.file} rows matched a directory row"
            )
        for rule, n in skipped_by.items():
            report.notes[f"skipped ({rule})"] = n
    except FileProblem as exc:
        report.fail(f"the file cannot be imported: {exc}")
    except DBAPIError as exc:
        report.fail(writes.refusal(exc))
    finally:
        staged.close()
        bar.close()
    return writes.finish(session, report, catalog=False)


def _load_join(
    join: Join, path: Path, encoding: str, mapping: Mapping, report: ImportReport
) -> _Joined:
    wanted = {
        c for sources in mapping.fields.values() for s in sources for c in _columns(s, join.alias)
    } | {join.key}
    normalize = _NORMALIZE[join.normalize]
    rows: dict[str, dict[str, str]] = {}
    duplicates = 0
    try:
        with open_csv(path, encoding=encoding, required=sorted(wanted)) as reader:
            for _, cells, _problem in reader:
                if cells is None:
                    continue
                key = normalize(cells[join.key])
                if key in rows:
                    duplicates += 1
                    continue
                rows[key] = {c: cells[c] for c in wanted}
    except FileProblem as exc:
        raise FileProblem(f"{path.name}: {exc}") from None
    if duplicates:
        report.warn(
            f"{duplicates} rows repeat a {join.key} already seen; the first is used", file=path.name
        )
    return _Joined(join, rows)


def _columns(source: FieldSource, alias: str | None) -> list[str]:
    """The columns of one file (None: the directory) a field source reads."""
    if source.formula is not None:
        return [c for a, c in source.formula.columns if a == alias]
    return [source.column] if source.column and source.alias == alias else []


def _skip_rule(cells: dict[str, str], mapping: Mapping) -> str | None:
    for column, values in mapping.skip.items():
        if cells[column].strip() in values:
            return f"{column} = {cells[column].strip()}"
    for column, pattern in mapping.skip_patterns.items():
        if pattern.search(cells[column].strip()):
            return f"{column} matches {pattern.pattern}"
    return None


def _matches(cells: dict[str, str], joined: list[_Joined]) -> dict[str, dict[str, str]] | None:
    found: dict[str, dict[str, str]] = {}
    for j in joined:
        key = _NORMALIZE[j.join.normalize](cells[j.join.on])
        row = j.rows.get(key)
        if row is None:
            if j.join.required:
                return None
            continue
        j.matched.add(key)
        found[j.join.alias] = row
    return found


def _record(
    line: int,
    cells: dict[str, str],
    matches: dict[str, dict[str, str]],
    mapping: Mapping,
    columns: dict[str, Any],
    present: list[str],
    source: str,
    geocoder: Geocoder,
    report: ImportReport,
) -> rec.Record | None:
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, sources in mapping.fields.items():
        try:
            values[name] = _value(name, sources, cells, matches, mapping, columns)
        except CellError as exc:
            problems.append((exc.column, exc.problem))
    if not problems:
        record, problems = rec.school_record(line, values, present, source, geocoder)
    for fld, problem in problems:
        report.error(
            problem,
            row=line,
            field=_label(fld, mapping),
            value=_cell(fld, mapping, cells, matches),
        )
    if problems or record is None:
        return None
    if record.values.get("location_precision") == "approximate":
        report.notes["located from ZIP code"] = report.notes.get("located from ZIP code", 0) + 1
    return record


def _label(name: str, mapping: Mapping) -> str:
    """A template field with the file column it came from: 'frl_pct (tapr.CPETECOP)'."""
    sources = mapping.fields.get(name)
    if not sources:
        return name
    s = sources[0]
    return f"{name} ({s.column if s.alias is None else f'{s.alias}.{s.column}'})"


def _cell(
    name: str, mapping: Mapping, cells: dict[str, str], matches: dict[str, dict[str, str]]
) -> str | None:
    """The file cell a problem is about: a field's first source, or a column named directly."""
    sources = mapping.fields.get(name)
    alias, _, column = name.rpartition(".") if not sources else ("", "", "")
    if sources:
        alias, column = sources[0].alias or "", sources[0].column
    row = cells if not alias else matches.get(alias)
    return None if row is None else row.get(column)


def _value(
    name: str,
    sources: list[FieldSource],
    cells: dict[str, str],
    matches: dict[str, dict[str, str]],
    mapping: Mapping,
    columns: dict[str, Any],
) -> Any:
    """The first source with a value, decoded and converted to the template field's type."""
    for s in sources:
        if s.value is not None:
            return convert(columns[name], s.value)
        if s.formula is not None:
            computed = s.formula.evaluate(cells, matches, mapping.missing)
            if computed is None:
                continue
            return convert(columns[name], _number(computed, s.digits))
        row = cells if s.alias is None else matches.get(s.alias)
        raw = "" if row is None else row[s.column].strip()
        label = s.column if s.alias is None else f"{s.alias}.{s.column}"
        if (
            row is None
            or raw in (mapping.missing if s.missing is None else s.missing)
            or (s.zero_is_missing and _is_zero(raw))
        ):
            if s.default is None:
                continue
            raw = s.default
        if s.codes:
            table = mapping.codes.get(s.codes) or CODE_TABLES[s.codes]
            if raw.upper() not in table:
                raise CellError(label, f"'{raw[:40]}' is not a {s.codes} code")
            decoded = table[raw.upper()]
            if decoded is None:
                continue
            raw = decoded
        try:
            return convert(columns[name], raw)
        except CellError as exc:
            raise CellError(label, f"{name}: {exc.problem}") from None
    return [] if columns[name].kind == "list" else None


def _number(value: float, digits: int | None) -> str:
    """A computed value as a cell, rounded as the mapping asks; whole numbers without '.0'."""
    value = value if digits is None else round(value, digits)
    return str(int(value)) if value.is_integer() else repr(value)


def _is_zero(raw: str) -> bool:
    try:
        return float(raw) == 0
    except ValueError:
        return False

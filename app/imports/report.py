"""What an import did or would do: counts per kind of record, and each problem with where it is
(file, row, field) so a person can fix the file."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

# Issues kept in full; past this only the counts grow (a million bad rows need not all print).
MAX_ISSUES = 1000
# Example rows kept per kind of problem in the tally.
EXAMPLES = 3
# Cells are shown up to this many characters.
CELL_CHARS = 60

Severity = Literal["error", "warning"]
Status = Literal["imported", "dry_run", "failed"]


@dataclass
class Issue:
    severity: Severity
    problem: str
    row: int | None = None
    field: str | None = None
    file: str | None = None
    record: str | None = None
    value: str | None = None  # the offending cell as read ('' when empty)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @property
    def kind(self) -> tuple[str, str, str]:
        """What the tally groups by: severity, field and the problem with the cell's value
        blanked, so 'a' and 'b' each refused for the same reason are one kind of problem."""
        problem = self.problem.replace(f"'{self.value}'", "'…'") if self.value else self.problem
        return self.severity, self.field or "", problem

    def __str__(self) -> str:
        where = [p for p in (self.file, self.row and f"row {self.row}", self.record) if p]
        at = f"{', '.join(str(p) for p in where)}: " if where else ""
        fld = f"{self.field}: " if self.field else ""
        return f"{self.severity} {at}{fld}{self.problem}{cell(self.value)}"


def cell(value: str | None) -> str:
    """The cell a problem is about, as the message shows it."""
    if value is None:
        return ""
    if not value.strip():
        return " (cell is empty)"
    shown = value if len(value) <= CELL_CHARS else value[: CELL_CHARS - 1] + "…"
    return f" (cell: {shown!r})"


@dataclass
class Tally:
    """One kind of problem: how many times it occurs and the first few issues of it."""

    count: int = 0
    examples: list[Issue] = field(default_factory=list)


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    def add(self, other: Counts) -> None:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped


@dataclass
class ImportReport:
    kind: str
    source: str
    dry_run: bool = False
    skip_invalid: bool = False
    status: Status = "imported"
    rows: int = 0
    counts: dict[str, Counts] = field(default_factory=dict)
    errors: int = 0
    warnings: int = 0
    issues: list[Issue] = field(default_factory=list)
    tally: dict[tuple[str, str, str], Tally] = field(default_factory=dict)
    unmapped_terms: Counter[str] = field(default_factory=Counter)
    notes: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None
    # SQLite: how long the import held the database's write lock (ms), when it took it
    write_lock_ms: int | None = None

    def count(self, kind: str) -> Counts:
        return self.counts.setdefault(kind, Counts())

    def error(self, problem: str, **where: Any) -> None:
        self.errors += 1
        self._keep(Issue("error", problem, **where))

    def warn(self, problem: str, **where: Any) -> None:
        self.warnings += 1
        self._keep(Issue("warning", problem, **where))

    def _keep(self, issue: Issue) -> None:
        kind = self.tally.setdefault(issue.kind, Tally())
        kind.count += 1
        if len(kind.examples) < EXAMPLES:
            kind.examples.append(issue)
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(issue)

    def by_problem(self) -> list[tuple[tuple[str, str, str], Tally]]:
        """Kinds of problem, errors first, then the most frequent."""
        return sorted(self.tally.items(), key=lambda kv: (kv[0][0] != "error", -kv[1].count))

    def fail(self, detail: str) -> None:
        """The whole import is refused: nothing is written."""
        self.status = "failed"
        self.detail = detail

    @property
    def blocked(self) -> bool:
        """Errors stop the import unless invalid records are skipped."""
        return self.status == "failed" or (self.errors > 0 and not self.skip_invalid)

    def finish(self) -> None:
        """Settle the status once every record has been seen."""
        self.issues.sort(key=lambda i: (i.file or "", i.row or 0))
        if self.status == "failed":
            return
        if self.blocked:
            self.fail(
                f"{self.errors} error(s); nothing was written. Fix them, or pass "
                "--skip-invalid (skip_invalid=true) to import the valid records only."
            )
        elif self.dry_run:
            self.status = "dry_run"
            self.detail = "dry run: the file was checked and nothing was written"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "status": self.status,
            "detail": self.detail,
            "dry_run": self.dry_run,
            "skip_invalid": self.skip_invalid,
            "rows": self.rows,
            "counts": {k: c.__dict__.copy() for k, c in self.counts.items()},
            "errors": self.errors,
            "warnings": self.warnings,
            "by_problem": [
                {
                    "severity": severity,
                    "field": fld or None,
                    "problem": problem,
                    "count": t.count,
                    "examples": [
                        {k: v for k, v in (("row", i.row), ("value", i.value)) if v is not None}
                        for i in t.examples
                    ],
                }
                for (severity, fld, problem), t in self.by_problem()
            ],
            "issues": [i.to_dict() for i in self.issues],
            "issues_truncated": self.errors + self.warnings > len(self.issues),
            "unmapped_terms": dict(self.unmapped_terms.most_common()),
            "notes": self.notes,
        }

    def lines(self, *, limit: int = 50) -> list[str]:
        """The report as text for the terminal: status, counts, then the first issues."""
        verb = {"imported": "imported", "dry_run": "dry run", "failed": "FAILED"}[self.status]
        out = [f"{self.kind} import from source '{self.source}': {verb}"]
        if self.detail:
            out.append(f"  {self.detail}")
        out.append(f"  records read: {self.rows:,}")
        would = "would be " if self.status != "imported" else ""
        for kind, c in self.counts.items():
            out.append(
                f"  {kind}: {c.added:,} {would}added, {c.updated:,} {would}updated, "
                f"{c.unchanged:,} unchanged, {c.skipped:,} skipped"
            )
        for key, value in self.notes.items():
            out.append(f"  {key}: {value}")
        if self.write_lock_ms is not None:
            out.append(f"  SQLite write lock held: {self.write_lock_ms:,} ms")
        if self.unmapped_terms:
            terms = ", ".join(f"{t} ({n})" for t, n in self.unmapped_terms.most_common(20))
            out.append(f"  unmapped taxonomy terms: {terms}")
        out.append(f"  errors: {self.errors:,}, warnings: {self.warnings:,}")
        if len(self.tally) > 1 or any(t.count > 1 for t in self.tally.values()):
            out.append("  by problem:")
            for (severity, fld, problem), t in self.by_problem():
                rows = ", ".join(
                    f"row {i.row}{cell(i.value)}" if i.row else (i.record or "-")
                    for i in t.examples
                )
                more = ", …" if t.count > len(t.examples) else ""
                at = f"{fld}: " if fld else ""
                out.append(f"    {t.count:,} x {severity} {at}{problem} — {rows}{more}")
            out.append("  first issues:")
        for issue in self.issues[:limit]:
            out.append(f"  - {issue}")
        if self.errors + self.warnings > limit:
            out.append(f"  … {self.errors + self.warnings - limit:,} more")
        return out

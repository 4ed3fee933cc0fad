"""Untrusted CSV in and out: strict UTF-8, strict quoting, a field-size cap, header checks and
spreadsheet-formula cells. Rows are streamed one at a time, never read whole."""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

# Python's csv default (128 KiB). The longest text a record may hold is 20,000 characters, so a
# longer field is a broken file — most often a quote that never closes and swallows the rest.
FIELD_LIMIT = 131_072

# A cell a spreadsheet would run: =, @, tab or CR first, or + / - followed by more than a number
# or a phone number ("+1 (510) 555-0100" and "-3.5" are data; "+cmd|'/C calc'!A0" is not).
_FORMULA_START = ("=", "@", "\t", "\r")
_NUMBERISH = re.compile(r"^[+-][0-9 .,()/+-]*$")
_EXPORT_RISKY = ("=", "+", "-", "@", "\t", "\r")


class FileProblem(Exception):
    """The file as a whole cannot be read; `line` says where, when known."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def formula_problem(value: str) -> str | None:
    """Why a text cell would run as a spreadsheet formula, or None when it is plain data."""
    if not value:
        return None
    first = value[0]
    if first in _FORMULA_START or (first in "+-" and not _NUMBERISH.match(value)):
        shown = value[:30].encode("unicode_escape").decode()
        return (
            f"starts with '{first}', so a spreadsheet would run it as a formula ({shown!r}); "
            "prefix it with an apostrophe (') to import it as text"
        )
    return None


def unescape(value: str) -> str:
    """Undo the apostrophe that marks a formula-like cell as text (what `neutralise` adds)."""
    if len(value) > 1 and value[0] == "'" and value[1] in _EXPORT_RISKY:
        return value[1:]
    return value


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run gets a leading apostrophe (OWASP CSV injection)."""
    if isinstance(value, str) and value and value[0] in _EXPORT_RISKY:
        return "'" + value
    return value


class CsvRows:
    """Iterate `(line, row, problem)` over a CSV file: `row` is a dict of the header's columns,
    or None with `problem` saying why that record is unusable (a wrong field count). Anything
    that makes the rest of the file unreadable raises FileProblem. `progress` (a tqdm bar over
    bytes) is advanced as the file is read."""

    def __init__(
        self,
        raw: IO[bytes],
        *,
        encoding: str = "utf-8",
        required: Iterable[str] = (),
        allowed: Iterable[str] | None = None,
        progress: Any = None,
    ) -> None:
        self.encoding = encoding
        codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        try:
            codecs.lookup(codec)
        except LookupError:
            raise FileProblem(f"unknown encoding '{encoding}'") from None
        self._raw = raw
        self._text = io.TextIOWrapper(raw, encoding=codec, errors="strict", newline="")
        self._reader = csv.reader(self._text, strict=True)
        self._progress = progress
        self._position = 0
        with self._guard():
            self.columns = _header(self._reader, required, allowed)

    def __iter__(self) -> Iterator[tuple[int, dict[str, str] | None, str | None]]:
        """Rows are numbered as a spreadsheet shows them: the header is row 1, and a value
        with line breaks inside quotes stays one row."""
        width = len(self.columns)
        row = 1
        while True:
            with self._guard():
                try:
                    cells = next(self._reader)
                except StopIteration:
                    return
            row += 1
            if self._progress is not None:
                here = self._raw.tell()
                self._progress.update(here - self._position)
                self._position = here
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            if len(cells) != width:
                yield (
                    row,
                    None,
                    f"the record has {len(cells)} fields but the header has {width}; check "
                    "for a missing or extra comma, or an unquoted comma inside a value",
                )
                continue
            yield row, dict(zip(self.columns, cells, strict=True)), None

    @contextmanager
    def _guard(self) -> Iterator[None]:
        previous_limit = csv.field_size_limit(FIELD_LIMIT)
        try:
            yield
        except UnicodeDecodeError as exc:
            line, offset = _bad_byte(self._raw, self.encoding)
            where = f"line {line}, byte {offset:,}" if line else "somewhere"
            raise FileProblem(
                f"the file is not valid {self.encoding} (byte 0x{exc.object[exc.start]:02x} at "
                f"{where}); save it as UTF-8 ('CSV UTF-8' in Excel) or give its encoding "
                "(--encoding cp1252)",
                line=line,
            ) from None
        except csv.Error as exc:
            raise FileProblem(_csv_error(str(exc)), line=self._reader.line_num or None) from None
        finally:
            csv.field_size_limit(previous_limit)


@contextmanager
def open_csv(path: Path, **options: Any) -> Iterator[CsvRows]:
    """A CsvRows over the file at `path`, closed afterwards."""
    if not path.is_file():
        raise FileProblem(f"{path} is not a file")
    with open(path, "rb") as raw:
        yield CsvRows(raw, **options)


def _bad_byte(raw: IO[bytes], encoding: str) -> tuple[int | None, int]:
    """Line (1-based) and file offset of the first byte that does not decode."""
    if not raw.seekable():
        return None, 0
    raw.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line, offset = 1, 0
    while chunk := raw.read(65536):
        state = decoder.getstate()
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            decoder.setstate(state)  # find the byte within this chunk, one at a time
            for i in range(len(chunk)):
                try:
                    decoder.decode(chunk[i : i + 1])
                except UnicodeDecodeError:
                    return line, offset + i
                line += chunk[i] == 0x0A
        line += chunk.count(b"\n")
        offset += len(chunk)
    return None, offset


def _header(reader: Any, required: Iterable[str], allowed: Iterable[str] | None) -> list[str]:
    try:
        columns = next(reader)
    except StopIteration:
        raise FileProblem("the file is empty; the first line must name the columns") from None
    columns = [c.strip() for c in columns]
    if not any(columns):
        raise FileProblem("the first line must name the columns", line=1)
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise FileProblem(f"column '{name}' appears twice in the header", line=1)
        seen.add(name)
    missing = [c for c in required if c not in seen]
    if missing:
        raise FileProblem(
            f"missing required column(s): {', '.join(missing)} (header has: "
            f"{', '.join(columns)[:300]})",
            line=1,
        )
    if allowed is not None:
        known = list(allowed)
        for name in columns:
            if name not in known:
                near = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean '{near[0]}'?" if near else f"; known: {', '.join(known)}"
                raise FileProblem(f"unknown column '{name}'{hint}", line=1)
    return columns


def _csv_error(message: str) -> str:
    if "field larger than field limit" in message:
        return (
            f'a field is longer than {FIELD_LIMIT:,} characters — usually a quote (") that '
            "never closes and swallows the records after it"
        )
    if "unexpected end of data" in message or "EOF" in message:
        return 'the file ends inside a quoted field: a quote (") is never closed'
    if "expected after" in message:
        return f'broken quoting ({message}): a quote inside a value must be doubled ("")'
    return f"unreadable CSV ({message})"


def write_rows(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as UTF-8 CSV with every risky text cell neutralised; returns the count."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
            count += 1
    return count


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(value) if isinstance(value, str) else value

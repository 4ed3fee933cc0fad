"""Uploaded CSV files, for the API's and the pages' imports alike: refuse what is not CSV,
keep the file in DATA_DIR/imports until its job takes it."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from app.domain_errors import UnsupportedMediaType

CSV_TYPES = {
    "text/csv",
    "application/csv",
    "text/plain",
    "application/vnd.ms-excel",  # what Windows browsers send for .csv
}
# Untyped parts (application/octet-stream, e.g. curl -F file=@x.csv) must be named .csv or .txt.
CSV_NAMES = (".csv", ".txt")
NOT_CSV_NAMES = (".xlsx", ".xls", ".ods", ".json", ".zip")


def check_csv(*, filename: str | None, content_type: str | None) -> None:
    """Refuse a part that is not a CSV file by its type or its name (415)."""
    media = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    name = (filename or "").lower()
    untyped_csv = media == "application/octet-stream" and name.endswith(CSV_NAMES)
    if (media not in CSV_TYPES and not untyped_csv) or name.endswith(NOT_CSV_NAMES):
        raise UnsupportedMediaType(
            f"Upload a CSV file (text/csv), not {media or 'an unknown type'}"
            + (f" ('{filename}')" if filename else "")
            + "; save a spreadsheet as 'CSV UTF-8' first."
        )


def refuse_json(path: Path) -> None:
    """A body that parses as JSON as a whole is not a CSV file (a template's header never is)."""
    try:
        json.loads(path.read_bytes())
    except ValueError:
        return
    path.unlink(missing_ok=True)
    raise UnsupportedMediaType("The file is JSON; upload a CSV file in the template for `kind`.")


def save(stream: BinaryIO, *, data_dir: Path) -> Path:
    """The upload in DATA_DIR/imports, renamed after its job once the job exists."""
    folder = data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"upload-{uuid.uuid4().hex}.csv"
    with path.open("wb") as out:
        shutil.copyfileobj(stream, out)
    return path

"""Untrusted CSV: encodings, quoting, field size, headers and formula cells."""

from __future__ import annotations

import io

import pytest

from app.imports.csvfile import (
    FIELD_LIMIT,
    CsvRows,
    FileProblem,
    formula_problem,
    neutralise,
    unescape,
)


def rows(data: bytes, **options):  # type: ignore[no-untyped-def]
    reader = CsvRows(io.BytesIO(data), **options)
    return reader.columns, list(reader)


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.example","click")',
        "@SUM(A1:A2)",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|'/C calc'!A0",
        "\t=1+1",
        "\r=1",
    ],
)
def test_formula_cells_are_named_as_formulas(cell):
    assert "formula" in formula_problem(cell)


@pytest.mark.parametrize("cell", ["+1 (510) 555-0100", "-3.5", "plain text", "", "a=b", "'=1"])
def test_numbers_phone_numbers_and_text_are_not_formulas(cell):
    assert formula_problem(cell) is None


def test_neutralise_and_unescape_round_trip_every_risky_start():
    for text in ("=1+1", "+44 1234", "-x", "@me", "\tx", "safe"):
        assert unescape(neutralise(text)) == text
    assert neutralise("=1") == "'=1"
    assert neutralise(12) == 12


def test_a_utf8_bom_is_not_part_of_the_first_column():
    columns, found = rows("\ufeffname,type\nA,nonprofit\n".encode())
    assert columns == ["name", "type"]
    assert found[0][1] == {"name": "A", "type": "nonprofit"}


def test_bad_utf8_names_the_record_and_the_fix():
    with pytest.raises(FileProblem) as problem:
        rows(b"name\nok\ncaf\xe9\n")
    assert "not valid utf-8" in str(problem.value)
    assert "--encoding" in str(problem.value)
    assert problem.value.line == 3


def test_a_declared_encoding_reads_legacy_files():
    _, found = rows(b"name\ncaf\xe9\n", encoding="cp1252")
    assert found[0][1] == {"name": "café"}


def test_an_unknown_encoding_is_a_file_problem():
    with pytest.raises(FileProblem, match="unknown encoding"):
        rows(b"name\nx\n", encoding="no-such-codec")


def test_a_quote_that_never_closes_is_reported():
    with pytest.raises(FileProblem, match="quote"):
        rows(b'name,type\n"unclosed,nonprofit\nB,nonprofit\n')


def test_text_after_a_closing_quote_is_broken_quoting():
    with pytest.raises(FileProblem, match="broken quoting"):
        rows(b'name,type\n"A"x,nonprofit\n')


def test_a_10_mb_field_is_refused_without_reading_it_all_into_a_record():
    data = b"name,description\nA," + b"x" * (10 * 1024 * 1024) + b"\n"
    with pytest.raises(FileProblem) as problem:
        rows(data)
    assert f"{FIELD_LIMIT:,}" in str(problem.value)


def test_missing_required_columns_are_listed():
    with pytest.raises(FileProblem, match=r"missing required column.*title"):
        rows(b"external_id\nx\n", required=["external_id", "title"])


def test_an_unknown_column_suggests_the_near_one():
    with pytest.raises(FileProblem, match="did you mean 'title'"):
        rows(b"titel\nx\n", allowed=["title", "description"])


def test_a_repeated_column_is_refused():
    with pytest.raises(FileProblem, match="appears twice"):
        rows(b"name,name\na,b\n")


def test_an_empty_file_is_refused():
    with pytest.raises(FileProblem, match="empty"):
        rows(b"")


def test_a_record_with_the_wrong_number_of_fields_is_reported_and_reading_goes_on():
    _, found = rows(b"a,b\n1,2\n1,2,3\n4,5\n")
    assert [r[1] for r in found] == [{"a": "1", "b": "2"}, None, {"a": "4", "b": "5"}]
    assert "3 fields but the header has 2" in found[1][2]


def test_blank_lines_are_skipped_and_quoted_newlines_kept():
    _, found = rows(b'a,b\n\n"line1\nline2",x\n')
    assert found == [(3, {"a": "line1\nline2", "b": "x"}, None)]

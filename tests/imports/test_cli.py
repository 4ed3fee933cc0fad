"""`partnermap import …` and `partnermap export hsds` on a scratch SQLite file."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from app.db import Database
from app.models import Offering, Organization, School
from app.settings import get_settings
from tests.imports.helpers import (
    OFFERINGS,
    OHANA,
    ORGANIZATIONS,
    TEXAS,
    TEXAS_MAPPING,
    count,
    write,
)


@pytest.fixture
def scratch(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    assert main(["migrate"]) == 0
    yield Database(url)
    get_settings.cache_clear()


def test_import_csv_dry_run_then_for_real_then_again(scratch, tmp_path, capsys):
    orgs = write(tmp_path / "orgs.csv", ORGANIZATIONS)
    offs = write(tmp_path / "offs.csv", OFFERINGS)
    capsys.readouterr()
    assert main(["import", "csv", str(orgs), "--dry-run"]) == 0
    assert "dry run" in capsys.readouterr().out
    assert count(scratch, Organization) == 0
    assert main(["import", "csv", str(orgs)]) == 0
    assert main(["import", "csv", str(offs)]) == 0
    out = capsys.readouterr().out
    assert "offerings: 3 added" in out
    assert main(["import", "csv", str(offs), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["offerings"]["unchanged"] == 3
    assert count(scratch, Offering) == 3


def test_a_failed_import_exits_1_and_prints_row_field_and_problem(scratch, tmp_path, capsys):
    bad = write(tmp_path / "bad.csv", ORGANIZATIONS + "o3,Bad,spaceship,,,,,,,,,\n")
    assert main(["import", "csv", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "row 4: type:" in out
    assert main(["import", "csv", str(bad), "--skip-invalid"]) == 0
    assert count(scratch, Organization) == 2


def test_import_hsds_and_export_it(scratch, tmp_path, capsys):
    assert main(["import", "hsds", str(OHANA), "--source", "ohana"]) == 0
    assert "organizations: 8 added" in capsys.readouterr().out
    assert main(["export", "hsds", str(tmp_path / "out")]) == 0
    assert "organizations.csv: 8 rows" in capsys.readouterr().out


def test_import_schools_with_a_mapping_and_a_join(scratch, capsys):
    code = main(
        [
            "import",
            "schools",
            str(TEXAS / "tx-campuses-ccd-sample.csv"),
            "--mapping",
            str(TEXAS_MAPPING),
            "--join",
            f"tapr={TEXAS / 'tapr-sample.csv'}",
        ]
    )
    assert code == 0
    assert "join tapr" in capsys.readouterr().out
    assert count(scratch, School) > 150


def test_a_bad_join_argument_exits_2(scratch, capsys):
    code = main(["import", "schools", "x.csv", "--mapping", str(TEXAS_MAPPING), "--join", "x"])
    assert code == 2
    assert "ALIAS=PATH" in capsys.readouterr().err

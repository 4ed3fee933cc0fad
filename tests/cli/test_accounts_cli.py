"""`partnermap users|keys|districts` on a scratch SQLite file."""

import io

import pytest
from sqlalchemy import select

from app.auth import passwords
from app.cli import main
from app.db import Database
from app.models import ApiKey, District, Organization, School, User
from app.settings import get_settings

PASSWORD = "a sentence for a password"


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    assert main(["migrate"]) == 0
    yield Database(url)
    get_settings.cache_clear()


def test_users_create_reads_the_password_from_stdin(scratch, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        main(
            ["users", "create", "--email", "Op@Example.org", "--role", "admin", "--password-stdin"]
        )
        == 0
    )
    assert "op@example.org (admin)" in capsys.readouterr().out
    with scratch.session() as session:
        user = session.scalar(select(User))
    assert passwords.verify_password(user.password_hash, PASSWORD)
    assert main(["users", "list"]) == 0
    assert PASSWORD not in capsys.readouterr().out


def test_a_district_admin_needs_a_district(scratch, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code = main(
        [
            "users",
            "create",
            "--email",
            "d@example.org",
            "--role",
            "district_admin",
            "--password-stdin",
        ]
    )
    assert code == 1 and "needs a district" in capsys.readouterr().err


def test_keys_are_printed_once_and_revoked_by_id(scratch, capsys):
    assert main(["districts", "create", "Oakland Unified School District", "--slug", "ousd"]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "keys",
                "create",
                "--district",
                "ousd",
                "--scope",
                "read_write",
                "--origin",
                "https://portal.example.org",
            ]
        )
        == 0
    )
    key = capsys.readouterr().out.splitlines()[-1]
    assert key.startswith("pmk_")
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert key not in listed and "active" in listed and "https://portal.example.org" in listed
    with scratch.session() as session:
        row = session.scalar(select(ApiKey))
    assert main(["keys", "revoke", str(row.id)]) == 0
    assert main(["keys", "list"]) == 0
    assert "revoked" in capsys.readouterr().out


def test_the_demo_has_its_district_and_verified_partners(scratch):
    assert main(["demo"]) == 0
    with scratch.session() as session:
        district = session.scalar(select(District))
        schools = session.scalars(select(School)).all()
        orgs = session.scalars(select(Organization)).all()
    assert district.name == "Oakland Unified School District"
    assert {s.district_id for s in schools} == {district.id}
    assert {o.verification for o in orgs} == {"verified"}
    assert all(o.verified_by_district_id == district.id for o in orgs)
    assert "own November 2011" in orgs[0].verification_reason
    assert main(["demo"]) == 0
    with scratch.session() as session:
        assert len(session.scalars(select(District)).all()) == 1


def test_districts_create_stores_the_district_equity_default(scratch, capsys):
    assert main(["districts", "create", "Equity Unified", "--equity", "0.6"]) == 0
    assert main(["districts", "create", "Plain Unified"]) == 0
    assert main(["districts", "create", "Too Strong Unified", "--equity", "1.5"]) == 1
    assert "between 0 and 1" in capsys.readouterr().err
    with scratch.session() as session:
        stored = dict(session.execute(select(District.name, District.ranking_equity)).all())
    assert stored == {"Equity Unified": 0.6, "Plain Unified": None}


def test_keys_list_of_an_unknown_district_is_one_error_line(scratch, capsys):
    assert main(["districts", "create", "Oakland Unified School District", "--slug", "ousd"]) == 0
    assert main(["keys", "list", "--district", "ousd"]) == 0
    assert main(["keys", "list", "--district", "nowhere"]) == 1
    assert "error: No district is named 'nowhere'." in capsys.readouterr().err

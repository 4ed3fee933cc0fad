"""The `partnermap` command on a scratch SQLite file: migrate, demo twice, downgrade."""

import pytest
from sqlalchemy import func, select

from app.cli import main
from app.db import Database
from app.models import Organization, School
from app.settings import get_settings


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield Database(url)
    get_settings.cache_clear()


def _count(database, model):
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_migrate_then_demo_twice_loads_one_copy(scratch, capsys):
    assert main(["migrate"]) == 0
    assert "schema at" in capsys.readouterr().out
    assert main(["demo"]) == 0
    first = (_count(scratch, School), _count(scratch, Organization))
    assert main(["demo"]) == 0
    assert (_count(scratch, School), _count(scratch, Organization)) == first
    assert first[0] == 115


def test_downgrade_to_base_removes_the_schema(scratch):
    assert main(["migrate"]) == 0
    assert main(["migrate", "--downgrade", "base"]) == 0
    from sqlalchemy import inspect

    assert set(inspect(scratch.engine).get_table_names()) <= {"alembic_version"}


def test_unknown_command_exits_with_usage(scratch):
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2

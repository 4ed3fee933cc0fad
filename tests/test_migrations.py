import pytest
from sqlalchemy import inspect

from app import migrate
from app.models import Base


def _tables(database):
    return set(inspect(database.engine).get_table_names()) - {"alembic_version", "spatial_ref_sys"}


def test_migrations_go_down_to_nothing_and_back_up_to_the_models(db):
    migrate.downgrade(db, "base")
    assert _tables(db) == set()
    migrate.upgrade(db, "head")
    assert _tables(db) == set(Base.metadata.tables)
    assert migrate.current(db) == migrate.head()


def test_migrated_columns_match_the_models(db):
    inspector = inspect(db.engine)
    for table in Base.metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert set(table.columns.keys()) <= columns, table.name


def test_postgis_gets_indexed_geography_columns(db, backend):
    if backend != "postgis":
        pytest.skip("generated geography columns exist on PostGIS only")
    inspector = inspect(db.engine)
    for table, column in (
        ("locations", "geog"),
        ("schools", "geog"),
        ("organizations", "service_area_geog"),
    ):
        assert column in {c["name"] for c in inspector.get_columns(table)}
        indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
        assert (column,) in indexed


def test_school_district_names_become_district_rows_and_nothing_is_lost(db):
    from sqlalchemy import text

    migrate.downgrade(db, "base")
    migrate.upgrade(db, "0003")
    with db.engine.begin() as conn:
        for name, district in (
            ("A", "Oakland USD"),
            ("B", "Oakland USD"),
            ("C", "Fiji"),
            ("D", None),
        ):
            conn.execute(
                text(
                    "INSERT INTO schools (name, district, lat, lon, location_precision, "
                    "grade_low, grade_high, languages, created_at, updated_at) VALUES "
                    "(:n, :d, 1, 1, 'exact', 0, 5, ',', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"n": name, "d": district},
            )
        conn.execute(
            text(
                "INSERT INTO needs_assessments (school_id, assessed_on, is_example, created_at) "
                "SELECT id, '2020-01-01', false, CURRENT_TIMESTAMP FROM schools"
            )
        )
    migrate.upgrade(db, "head")
    with db.engine.connect() as conn:
        districts = dict(conn.execute(text("SELECT name, id FROM districts")).all())
        linked = dict(conn.execute(text("SELECT name, district_id FROM schools")).all())
        assessments = conn.execute(text("SELECT count(*) FROM needs_assessments")).scalar()
    assert set(districts) == {"Oakland USD", "Fiji"}
    assert linked == {
        "A": districts["Oakland USD"],
        "B": districts["Oakland USD"],
        "C": districts["Fiji"],
        "D": None,
    }
    # SQLite rebuilds tables to add the foreign key; children must survive that.
    assert assessments == 4
    migrate.downgrade(db, "0003")
    with db.engine.connect() as conn:
        names = dict(conn.execute(text("SELECT name, district FROM schools")).all())
        assert conn.execute(text("SELECT count(*) FROM needs_assessments")).scalar() == 4
    assert names["C"] == "Fiji"
    migrate.upgrade(db, "head")


def test_every_api_key_column_but_its_last_use_moves_the_accounts_version():
    """Migration 0012's trigger lists the api_keys columns whose change is a credential change:
    a column added to the model later must be listed there too, or a change to it would not
    reach the workers' held principals."""
    import importlib.util
    from pathlib import Path

    from app.models import ApiKey

    path = Path(migrate.__file__).resolve().parents[1] / "migrations" / "versions"
    spec = importlib.util.spec_from_file_location("m0012", next(path.glob("0012_*.py")))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    watched = {c.strip() for c in module.KEY_COLUMNS.split(",")}
    assert watched == set(ApiKey.__table__.columns.keys()) - {"last_used_at"}

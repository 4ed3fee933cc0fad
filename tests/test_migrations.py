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

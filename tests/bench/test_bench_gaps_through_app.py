"""`bench gaps --through-app`: its synthetic district is found by the API's gap query, every
request it times answers (figures printed, never asserted as speeds), and it cleans up."""

import argparse

from sqlalchemy import func, select

from app.db import Database
from app.models import School
from bench import gaps


def test_the_through_app_bench_finds_its_district_and_leaves_no_schools(db: Database):
    args = argparse.Namespace(
        through_app=True,
        virtual_share=0.001,
        schools=12,
        needs=3,
        offerings=300,
        repeat=1,
        seed=0,
        keep=False,
    )
    figures = gaps.run(args, db)
    assert figures["result"]["needs"] == 12 * 3
    for key in (
        "gaps_http",
        "gaps_first_in_process",
        "asset_map_metro_http",
        "school_coverage_http",
    ):
        assert figures[key]["runs"] == 1
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(School)) == 0

"""Files and counts shared by the import tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

DATA = Path(__file__).parent / "data"
HSDS = DATA / "hsds-3.0"
OHANA = DATA / "ohana-sample"
TEXAS = DATA / "texas"
TEXAS_MAPPING = (
    Path(__file__).parents[2] / "app" / "data" / "imports" / "mappings" / ("texas_ccd_tapr.toml")
)

ORGANIZATIONS = (
    "external_id,name,type,languages,address,city,state,postal_code,lat,lon,service_area,"
    "service_radius_km\n"
    "o1,East Bay Science Mentors,nonprofit,en;es,1 Frank H Ogawa Plaza,Oakland,CA,94612,"
    "37.8053,-122.2725,radius,15\n"
    "o2,Redwood City Readers,community_group,,2600 Middlefield Road,Redwood City,CA,94063,,,,\n"
)
OFFERINGS = (
    "external_id,organization_external_id,title,categories,grade_low,grade_high,schedule,"
    "delivery,languages,cost,cost_amount,capacity_schools,active_from,active_until\n"
    "f1,o1,After-school robotics,stem,6,8,after_school,at_school,en;es,free,,4,,\n"
    "f2,o1,Math tutoring,academic_support.tutoring,K,5,during_school,at_school,,fee,120.50,,"
    "2026-09-01,2027-06-15\n"
    "f3,o2,Reading buddies,literacy,1,3,,,,,,,,\n"
)


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def count(database, model, **where) -> int:  # type: ignore[no-untyped-def]
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    with database.session() as session:
        return int(session.scalar(query) or 0)

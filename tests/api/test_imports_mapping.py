"""POST /v1/imports with a mapping: a school directory in its own layout (real NCES CCD rows)
uploaded by a district admin with the mapping that reads it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import District, School
from tests.api.factories import problem_fields
from tests.conftest import user_token
from tests.imports.helpers import TEXAS

CCD = (TEXAS / "tx-campuses-ccd-sample.csv").read_text(encoding="utf-8").splitlines()
CROSBYTON = [CCD[0], *(line for line in CCD[1:] if ",CROSBYTON CISD," in line)]
MAPPING = """
name = "NCES CCD directory"
source = "nces-ccd"
missing = ["", "."]

[skip]
STATUS = ["2"]

[codes.grade]
PK = "PK"
KG = "K"
UG = ""
N = ""
GRADES

[fields]
external_id = "NCESSCH"
nces_id = "NCESSCH"
name = "SCHNAM"
district = { value = "Crosbyton CISD" }
lat = { column = "LATCOD", zero_is_missing = true }
lon = { column = "LONCOD", zero_is_missing = true }
postal_code = "LZIP"
grade_low = { column = "GSLO", codes = "grade" }
grade_high = { column = "GSHI", codes = "grade" }
locale = { column = "ULOCAL", codes = "nces_locale" }
""".replace("GRADES", "\n".join(f'"{g:02d}" = "{g}"' for g in range(1, 13)))


def upload(client, mapping: str | bytes, kind: str = "schools", **headers):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/imports",
        data={"kind": kind, "source": "nces-ccd"},
        files={
            "file": ("ccd.csv", "\n".join(CROSBYTON).encode(), "text/csv"),
            "mapping": ("ccd.toml", mapping, "application/toml"),
        },
        headers=headers,
    )


@pytest.fixture
def crosbyton_admin(db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        row = District(name="Crosbyton CISD", slug="crosbyton")
        session.add(row)
        session.commit()
        district_id = row.id
    _, token = user_token(db, "da@crosbyton.test", "district_admin", district_id=district_id)
    return {"Authorization": f"Bearer {token}"}


def test_a_district_admin_uploads_its_directory_with_a_mapping(anon, db, crosbyton_admin):
    assert len(CROSBYTON) > 2
    response = upload(anon, MAPPING, **crosbyton_admin)
    assert response.status_code == 202, response.text
    job = anon.get(response.headers["location"], headers=crosbyton_admin).json()
    assert job["status"] == "imported", (job["detail"], job["by_problem"])
    assert job["counts"]["schools"]["added"] == len(CROSBYTON) - 1
    with db.session() as session:
        el = session.scalar(select(School).where(School.nces_id == "480000101145"))
    assert (el.name, el.grade_low, el.grade_high, el.locale) == ("CROSBYTON EL", -1, 5, "rural")
    assert el.district == "Crosbyton CISD"


def test_a_mapping_naming_another_district_imports_nothing(anon, db, crosbyton_admin):
    other = MAPPING.replace('{ value = "Crosbyton CISD" }', '{ value = "Lubbock ISD" }')
    job = anon.get(
        upload(anon, other, **crosbyton_admin).headers["location"], headers=crosbyton_admin
    ).json()
    assert job["status"] == "failed"
    assert job["by_problem"][0]["count"] == len(CROSBYTON) - 1
    with db.session() as session:
        assert session.scalar(select(School.id)) is None


@pytest.mark.parametrize(
    ("mapping", "kind", "message"),
    [
        ("not = toml = at all", "schools", "not valid TOML"),
        (MAPPING.replace('name = "SCHNAM"\n', ""), "schools", "must map 'name'"),
        (MAPPING + '\n[[join]]\nalias = "t"\nfile = "t.csv"\nkey = "A"\non = "B"\n', "schools",
         "partnermap import schools"),
        (MAPPING, "organizations", "kind=schools"),
        (b"\xff\xfe", "schools", "UTF-8"),
    ],
)  # fmt: skip
def test_a_mapping_that_cannot_be_used_is_a_422_naming_it(client, mapping, kind, message):
    response = upload(client, mapping, kind=kind)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem_fields(response)[0][:2] == ["body", "mapping"]
    assert message in response.text

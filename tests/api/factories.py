"""Valid request bodies for API tests; each test changes only what it is about."""

from __future__ import annotations

from typing import Any

OAKLAND_CITY_HALL = (37.8053, -122.2725)


def organization(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "East Bay Science Mentors",
        "type": "nonprofit",
        "description": "Volunteer engineers who run hands-on science clubs.",
        "languages": ["en", "es"],
        "locations": [
            {
                "address": "1 Frank H Ogawa Plaza",
                "city": "Oakland",
                "state": "CA",
                "postal_code": "94612",
                "lat": OAKLAND_CITY_HALL[0],
                "lon": OAKLAND_CITY_HALL[1],
            }
        ],
        "service_area": {"kind": "radius", "radius_km": 15},
    }
    body.update(changes)
    return body


def offering(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "After-school robotics club",
        "description": "Weekly build sessions with volunteer engineers.",
        "categories": ["stem"],
        "grade_low": 6,
        "grade_high": 8,
        "schedule": ["after_school"],
        "delivery": ["at_school"],
        "languages": ["en", "es"],
        "cost": "free",
        "capacity_schools": 4,
        "populations": ["title_i"],
    }
    body.update(changes)
    return body


def school(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Allendale Elementary",
        "district": "Oakland Unified School District",
        "address": "3670 Penniman Ave",
        "city": "Oakland",
        "state": "CA",
        "postal_code": "94619",
        "lat": 37.7887,
        "lon": -122.205,
        "grade_low": "K",
        "grade_high": 5,
        "enrollment": 420,
        "frl_pct": 87.5,
        "title_i": True,
        "el_pct": 38.0,
        "locale": "city",
        "languages": ["en", "es"],
    }
    body.update(changes)
    return body


def assessment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "assessed_on": "2026-09-15",
        "needs": [
            {
                "category": "mental_health_sel",
                "priority": 1,
                "grade_low": 3,
                "grade_high": 5,
                "students_affected": 120,
                "languages": ["es"],
                "schedule": ["during_school"],
            },
            {"category": "stem", "priority": 3, "schedule": ["after_school"]},
        ],
    }
    body.update(changes)
    return body


def problem_fields(response) -> list[list[Any]]:  # type: ignore[no-untyped-def]
    """The `loc` of each error in a problem+json response."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return [err["loc"] for err in response.json().get("errors", [])]

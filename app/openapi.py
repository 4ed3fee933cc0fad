"""OpenAPI post-processing: every error a route can return is documented as problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.errors import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "One entry per field at fault; `loc` is its path.",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "example": {
        "type": "https://partnermap.dev/problems/validation",
        "title": "Invalid input",
        "status": 422,
        "detail": "lat: Input should be less than or equal to 90",
        "errors": [
            {
                "loc": ["body", "lat"],
                "msg": "Input should be less than or equal to 90",
                "type": "less_than_equal",
            }
        ],
    },
}

_DESCRIPTIONS = {
    "400": "Malformed request",
    "404": "No such resource",
    "405": "Method not allowed",
    "409": "Conflicts with existing data",
    "413": "Body too large",
    "415": "Body is not JSON",
    "422": "Invalid input; `errors` names each field",
    "500": "Unexpected server error (a bug; it is logged)",
}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for schemas in (schema["components"]["schemas"],):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                _document_errors(path, method, operation)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    codes = ["500"]
    if operation.get("parameters") or operation.get("requestBody"):
        codes.append("422")
    names = {p.get("name") for p in operation.get("parameters", [])}
    if "{" in path or "cursor" in names:
        codes.append("404")
    if operation.get("requestBody"):
        codes += ["400", "409", "413", "415"]
    responses = operation.setdefault("responses", {})
    ref = {"$ref": "#/components/schemas/Problem"}
    for code in codes:
        responses[code] = {
            "description": responses.get(code, {}).get("description") or _DESCRIPTIONS[code],
            "content": {PROBLEM_JSON: {"schema": ref}},
        }
    for code, response in responses.items():
        if code.startswith(("4", "5")) and code not in codes:
            response["content"] = {PROBLEM_JSON: {"schema": ref}}

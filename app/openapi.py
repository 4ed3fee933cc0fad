"""OpenAPI post-processing: every error a route can return is documented as problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.auth.policy import LABELS, POLICY
from app.auth.principal import ANONYMOUS, KEY_READ, KEY_READ_WRITE, ROLES, USER_ROLES
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

SECURITY_SCHEMES: dict[str, Any] = {
    "OAuth2PasswordBearer": {
        "type": "oauth2",
        "description": "A log-in's bearer token: `Authorization: Bearer <token>`.",
        "flows": {"password": {"tokenUrl": "/v1/auth/token", "scopes": {}}},
    },
    "APIKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A district portal's key (`pmk_…`), scoped read or read_write.",
    },
}

_DESCRIPTIONS = {
    "400": "Malformed request",
    "401": "No credentials where they are needed, or unknown, expired or revoked ones",
    "403": "Not allowed for this caller (role, record, scope or origin)",
    "429": "Rate limit or log-in throttle reached; retry after `Retry-After` seconds",
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
        schema["components"]["securitySchemes"] = SECURITY_SCHEMES
        for schemas in (schema["components"]["schemas"],):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                _document_errors(path, method, operation)
                _document_access(path, method, operation)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_access(path: str, method: str, operation: dict[str, Any]) -> None:
    """Security requirements and a "who may call" line, from the permission matrix."""
    rule = POLICY[(method.upper(), path)]
    security: list[dict[str, list[str]]] = []
    if ANONYMOUS in rule.access:
        security.append({})
    if any(role in rule.access for role in USER_ROLES):
        security.append({"OAuth2PasswordBearer": []})
    if KEY_READ in rule.access or KEY_READ_WRITE in rule.access:
        security.append({"APIKeyHeader": []})
    operation["security"] = security
    who = ", ".join(
        f"{LABELS[role]} ({rule.access[role]})" for role in ROLES if role in rule.access
    )
    note = f" {rule.note}" if rule.note else ""
    text = f"**Who may call:** {who}.{note} See docs/permissions.md."
    operation["description"] = (operation.get("description", "") + "\n\n" + text).strip()


_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with (RFC 6750).",
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer"},
        }
    },
}


def _document_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    # Every operation can meet bad credentials, a refused origin and the rate limit.
    codes = ["500", "401", "403", "429"]
    if operation.get("parameters") or operation.get("requestBody"):
        codes.append("422")
    names = {p.get("name") for p in operation.get("parameters", [])}
    if "{" in path or "cursor" in names:
        codes.append("404")
    if operation.get("requestBody"):
        codes += ["400", "409", "413", "415"]
    elif method == "delete":  # the record's state may refuse it, or a writer changed it meanwhile
        codes.append("409")
    responses = operation.setdefault("responses", {})
    ref = {"$ref": "#/components/schemas/Problem"}
    for code in codes:
        responses[code] = {
            "description": responses.get(code, {}).get("description") or _DESCRIPTIONS[code],
            "content": {PROBLEM_JSON: {"schema": ref}},
        }
        if code in _HEADERS:
            responses[code]["headers"] = _HEADERS[code]
    for code, response in responses.items():
        if code.startswith(("4", "5")) and code not in codes:
            response["content"] = {PROBLEM_JSON: {"schema": ref}}

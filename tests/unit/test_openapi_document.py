"""docs/openapi.json is the Task API's document as the routes generate it now, and it documents what they answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tracker.api.openapi import document
from tracker.api.routes import app

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
ROUTES = {
    "POST /tasks",
    "GET /tasks",
    "GET /tasks/{task_id}",
    "POST /tasks/{task_id}/cancel",
    "GET /tasks/{task_id}/result",
    "GET /costs",
    "GET /spending-limits",
    "GET /jobs",
    "GET /jobs/{job_id}",
    "GET /jobs/{job_id}/tasks",
    "POST /jobs/{job_id}/cancel",
}
ERROR_REF = "#/components/schemas/ErrorResponse"


def generated_text() -> str:
    """What `make openapi` writes (python -m tracker.api.openapi)."""
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{method.upper()} {path}": op for path, item in doc["paths"].items() for method, op in item.items()}


def test_the_committed_document_is_what_the_routes_generate() -> None:
    committed = COMMITTED.read_text()
    assert json.loads(committed) == document(), "docs/openapi.json is stale: run `make openapi` and commit it"
    assert committed == generated_text(), "docs/openapi.json is not formatted as `make openapi` writes it"


def test_every_route_is_documented() -> None:
    routes = {f"{route.method} {route.openapi_path}" for route in app._static_routes + app._dynamic_routes}
    assert set(operations(document())) == routes == ROUTES


def test_every_operation_documents_its_success_with_a_schema() -> None:
    missing = {
        name: sorted(op["responses"])
        for name, op in operations(document()).items()
        if not any(
            status.startswith("2") and "schema" in answer.get("content", {}).get("application/json", {})
            for status, answer in op["responses"].items()
        )
    }
    assert not missing, f"no 2xx response with a JSON schema (documented statuses): {missing}"


def test_every_documented_error_is_in_the_error_shape() -> None:
    """The handler answers every error as {error, message, details} (validation errors as 400)."""
    wrong = {
        f"{name} {status}": answer["content"]["application/json"]["schema"]
        for name, op in operations(document()).items()
        for status, answer in op["responses"].items()
        if status[0] in "45" and answer["content"]["application/json"]["schema"] != {"$ref": ERROR_REF}
    }
    assert not wrong, f"error responses not documented as ErrorResponse: {wrong}"

"""The Task API's OpenAPI document, generated from the routes: `make openapi` writes docs/openapi.json."""

from __future__ import annotations

import json
import sys
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

from tracker.api import (
    cost_routes,  # noqa: F401 (registers GET /costs and GET /spending-limits)
    jobs_routes,  # noqa: F401 (registers the job routes on the same API)
)
from tracker.api.routes import app

TITLE = "Braket Task Tracker: Task API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Submit OpenQASM 3 tasks to Amazon Braket, and get, list, cancel and read the results of every tracked task; "
    "what tasks cost by month, submitter, device and tag, with budgets and Braket's spending limits; "
    "get, list and cancel every tracked hybrid job, and list its tasks. "
    "Every request is signed with AWS Signature Version 4 (service `execute-api`); errors are "
    "`{error, message, details}`."
)


def document() -> dict[str, Any]:
    schema = app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        security_schemes={
            "sigv4": APIKey(
                name="Authorization",
                in_=APIKeyIn.header,
                description="AWS Signature Version 4 (service execute-api), as API Gateway's IAM authorization takes",
            )
        },
        security=[{"sigv4": []}],
    )
    parsed: dict[str, Any] = json.loads(schema)
    # The event handler documents its own 422 on every route; this API answers validation errors
    # with 400 {error, message, details} instead (routes.invalid_request).
    for operations in parsed["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
    schemas = parsed.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return parsed


if __name__ == "__main__":
    json.dump(document(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")

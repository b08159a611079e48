"""The Task API fuzzed from its committed OpenAPI document (docs/openapi.json), in local mode.

schemathesis generates requests for every documented operation (valid ones, and ones that break the
schema on purpose), signs each with SigV4 as an IAM client would, sends it through the local runner's
API Gateway to the real handler, and checks every answer: never a 5xx, a documented status, a
documented content type and headers, a body that matches the documented schema, and invalid input
refused with a 4xx.

Answers that API Gateway itself produces (they carry `x-amzn-ErrorType`: 403 for a request it cannot
route or authorize, 413 for a body its request model refuses, 429 when it throttles) come before the
function, so no route's `responses` can list them all: for those, status-code conformance is not
checked; instead the answer must be a 4xx in the API's error shape `{error, message, details}`
(stacks/task_api.py's gateway responses), and every other check still applies.

Bounded and reproducible: a fixed number of examples per operation, derandomized, no example
database. POST /tasks submits to the local Braket service (the device allowlist lets SV1, DM1 and
TN1 through, and Braket's validation refuses most random programs), so the run submits at most
`MAX_EXAMPLES` tasks per generation mode.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.aws import CREDENTIALS
from local.tracker import LocalTracker
from tests.e2e.conftest import REGION

pytestmark = pytest.mark.e2e

DOCUMENT = Path(os.environ.get("FUZZ_DOC_TMP") or Path(__file__).resolve().parents[2] / "docs" / "openapi.json")
MAX_EXAMPLES = 25
EXPLORE = bool(os.environ.get("FUZZ_EXPLORE"))
GATEWAY_STATUSES = {403, 413, 429}  # what API Gateway answers by itself before the function (see above)

schema = schemathesis.openapi.from_path(DOCUMENT)
# The document's `sigv4` scheme is the Authorization header: SigV4Signer writes it, schemathesis must not.
schema.config.generation.update(with_security_parameters=False, database="none")

ALWAYS = [not_a_server_error, content_type_conformance, response_headers_conformance, response_schema_conformance]
ERROR_SCHEMA = json.loads(DOCUMENT.read_text())["components"]["schemas"]["ErrorResponse"]


class SigV4Signer(requests.auth.AuthBase):
    """Signs the request exactly as sent (method, URL with its encoded query, headers, body), service execute-api."""

    def __init__(self, region: str) -> None:
        self.signer = SigV4Auth(Credentials(*CREDENTIALS), "execute-api", region)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        signed = AWSRequest(
            method=request.method,
            url=request.url,
            data=body.encode() if isinstance(body, str) else body,
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
        )
        self.signer.add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


@pytest.fixture(scope="module")
def api(tracker: LocalTracker) -> tuple[str, requests.Session]:
    session = requests.Session()
    session.auth = SigV4Signer(REGION)
    return tracker.runner.api_endpoints()[0].url.rstrip("/"), session


def is_gateway_answer(response: Any) -> bool:
    return "x-amzn-errortype" in {name.lower() for name in response.headers}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_matches_the_document(case: schemathesis.Case, api: tuple[str, requests.Session]) -> None:
    base_url, session = api
    response = case.call(base_url=base_url, session=session, timeout=30)
    checks = [*ALWAYS, negative_data_rejection]
    if is_gateway_answer(response):
        if EXPLORE and response.status_code not in GATEWAY_STATUSES:
            with open("/tmp/fuzz-found.txt", "a") as f:
                f.write(f"==== GW {case.method} {case.path} {response.status_code} {response.text[:300]}\n")
            return
        assert response.status_code in GATEWAY_STATUSES, (response.status_code, response.text)
        jsonschema.validate(response.json(), ERROR_SCHEMA)
    else:
        checks.append(status_code_conformance)
    if EXPLORE:
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:
            with open("/tmp/fuzz-found.txt", "a") as f:
                f.write(f"==== {case.method} {case.path} {response.status_code}\n{str(exc)[:1500]}\n")
        return
    case.validate_response(response, checks=checks)

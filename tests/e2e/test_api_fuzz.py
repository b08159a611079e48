"""The Task API fuzzed from its committed OpenAPI document (docs/openapi.json), in local mode.

schemathesis generates requests for every documented operation, both valid ones and ones that break
the schema on purpose (plus its probes: undeclared content types, unsupported methods). It signs each
with SigV4 as an IAM client would, sends it through the local runner's API Gateway to the real
handler, and checks every answer: never a 5xx, a documented status, content type, headers and body
schema, and invalid input refused with a 4xx.

Answers that API Gateway itself produces (they carry `x-amzn-ErrorType`: 403 for a method or path
that no resource has, 413 for a body its request model refuses, 429 when it throttles) come before
the function, whatever the route, so no route's `responses` can list them all; and a 413 for a body
that is not JSON is the gateway refusing it, not accepting it. For those, status-code conformance
and negative-data rejection are not checked; instead the answer must be in the API's error shape
`{error, message, details}` with the error name that stacks/task_api.py's gateway responses give
its status, and every other check still applies. Methods that API Gateway does not have at all
(schemathesis probes TRACE and QUERY) are answered by the local runner's HTTP server: the test only
requires that they are refused.

Unknown query parameters are not generated (`allow_extra_parameters=False`): the API ignores them,
as API Gateway passes them through, and an OpenAPI document cannot forbid them.

Random task ids are almost never real, so the fuzzer rarely sees a success from the task routes:
test_real_tasks_answer_as_documented runs the same checks on a submitted, completed task's answers
(201 and its idempotent replay, 200 with counts and with probabilities, a 200 page, 409 for
cancelling a finished task).

Bounded and reproducible: MAX_EXAMPLES examples per operation and generation mode (plus
schemathesis's coverage probes, a few dozen requests per operation in all), derandomized, no
example database. POST /tasks can only reach Braket for SV1, DM1 or TN1 (the device allowlist
refuses every other ARN with 400), and Braket's validation refuses random programs, so the fuzzer
submits few tasks, if any, and never more than it sends requests.
"""

from __future__ import annotations

import json
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
from local.runner.apigateway import METHODS
from local.tracker import LocalTracker
from tests.e2e.conftest import BELL_PAIR, DM1, FINISHED, REGION, SV1, wait_for

pytestmark = pytest.mark.e2e

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
MAX_EXAMPLES = 25
EXACT_BELL_PAIR = "OPENQASM 3.0; qubit[2] q; h q[0]; cnot q[0], q[1]; #pragma braket result probability"
# API Gateway's own answers, as the Task API's gateway responses shape them (see above). Every request here
# is signed correctly, so a 403 can only be a method or path that no resource has, never a bad signature.
GATEWAY_ERRORS = {403: "MISSING_AUTHENTICATION_TOKEN", 413: "ProgramTooLarge", 429: "THROTTLED"}
ERROR_SCHEMA = json.loads(DOCUMENT.read_text())["components"]["schemas"]["ErrorResponse"]
EVERY_ANSWER = [not_a_server_error, content_type_conformance, response_headers_conformance, response_schema_conformance]
FUNCTION_ANSWER = [*EVERY_ANSWER, status_code_conformance, negative_data_rejection]

schema = schemathesis.openapi.from_path(DOCUMENT)
# The document's `sigv4` scheme is the Authorization header: SigV4Signer writes it, schemathesis must not.
schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False, database="none")


class SigV4Signer(requests.auth.AuthBase):
    """Signs each request as sent (method, URL with its encoded query, headers, body), for execute-api."""

    def __init__(self, region: str) -> None:
        self.signer = SigV4Auth(Credentials(*CREDENTIALS), "execute-api", region)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        signed = AWSRequest(
            method=request.method,
            url=request.url,
            data=body.encode() if isinstance(body, str) else body,
            headers={name: value for name, value in request.headers.items() if name.lower() != "authorization"},
        )
        self.signer.add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


@pytest.fixture(scope="module")
def api(tracker: LocalTracker) -> tuple[str, requests.Session]:
    session = requests.Session()
    session.auth = SigV4Signer(REGION)
    assert tracker.runner is not None
    return tracker.runner.api_endpoints()[0].url.rstrip("/"), session


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_matches_the_document(case: schemathesis.Case[Any], api: tuple[str, requests.Session]) -> None:
    base_url, session = api
    response = case.call(base_url=base_url, session=session, timeout=30)
    if case.method.upper() not in METHODS:
        # schemathesis's unsupported-method probes (TRACE, QUERY): API Gateway has no such methods,
        # so the local runner's HTTP server answers them itself; the function must never see them.
        assert response.status_code in {403, 405, 501}, (case.method, response.status_code, response.text)
        return
    if "x-amzn-errortype" in response.headers:  # schemathesis lowercases header names
        jsonschema.validate(response.json(), ERROR_SCHEMA)
        assert GATEWAY_ERRORS.get(response.status_code) == response.json()["error"], response.text
        case.validate_response(response, checks=EVERY_ANSWER)
    else:
        case.validate_response(response, checks=FUNCTION_ANSWER)


def call(api: tuple[str, requests.Session], method: str, path: str, **parts: Any) -> schemathesis.Response:
    """One documented request, sent signed and checked against the document like the fuzzer's."""
    base_url, session = api
    case = schema[path][method].Case(**parts)
    response = case.call(base_url=base_url, session=session, timeout=30)
    case.validate_response(response, checks=FUNCTION_ANSWER)
    return response


@pytest.mark.parametrize(("shots", "program"), [(1000, BELL_PAIR), (0, EXACT_BELL_PAIR)], ids=["counts", "exact"])
def test_real_tasks_answer_as_documented(api: tuple[str, requests.Session], shots: int, program: str) -> None:
    device = SV1 if shots else DM1  # SV1 takes Probability with shots > 0 only; DM1 also with shots = 0
    body = {"deviceArn": device, "shots": shots, "program": program, "tags": {"suite": "fuzz"}}
    submitted = call(api, "POST", "/tasks", body=body, headers={"Idempotency-Key": f"fuzz-real-{shots}"})
    assert submitted.status_code == 201, submitted.text
    task_id = submitted.json()["taskId"]
    replayed = call(api, "POST", "/tasks", body=body, headers={"Idempotency-Key": f"fuzz-real-{shots}"})
    assert (replayed.status_code, replayed.json()["taskId"]) == (201, task_id)

    def finished() -> schemathesis.Response | None:
        answer = call(api, "GET", "/tasks/{task_id}", path_parameters={"task_id": task_id})
        assert answer.status_code == 200, answer.text
        return answer if answer.json()["status"] in FINISHED else None

    assert wait_for(finished).json()["status"] == "COMPLETED"
    queued = call(api, "GET", "/tasks/{task_id}", path_parameters={"task_id": task_id}, query={"include": "queue"})
    assert queued.status_code == 200, queued.text
    result = call(api, "GET", "/tasks/{task_id}/result", path_parameters={"task_id": task_id})
    assert result.status_code == 200, result.text
    assert set(result.json()["counts" if shots else "probabilities"]) <= {"00", "11"}
    page = call(api, "GET", "/tasks", query={"status": "COMPLETED", "limit": 1})
    assert page.status_code == 200 and len(page.json()["tasks"]) == 1, page.text
    cancelled = call(api, "POST", "/tasks/{task_id}/cancel", path_parameters={"task_id": task_id})
    assert cancelled.status_code == 409, cancelled.text

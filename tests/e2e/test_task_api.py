"""The Task API in local mode, through API Gateway's front door: SigV4-signed HTTP requests to the
runner's stage, the deployed function, the local Braket service, and the whole recording pipeline."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest

from local.aws import CREDENTIALS
from local.signed_http import Answer, SignedApi
from local.tracker import LocalTracker
from tests.e2e.conftest import BELL_PAIR, FINISHED, REGION, SV1, Inbox, announced, read_item, submit, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(tracker: LocalTracker) -> SignedApi:
    assert tracker.runner is not None
    return SignedApi(tracker.runner.api_endpoints()[0].url, REGION, *CREDENTIALS)


def post_task(api: SignedApi, **fields: Any) -> Answer:
    body = {"deviceArn": SV1, "shots": 500, "program": BELL_PAIR} | fields
    return api.request("POST", "/tasks", body=body, headers={"Idempotency-Key": str(uuid.uuid4())})


def finished(api: SignedApi, task_id: str) -> dict[str, Any]:
    """The task once it has ended and Braket's details are in (they are written just after the end)."""

    def status() -> dict[str, Any] | None:
        task: dict[str, Any] = api.request("GET", f"/tasks/{task_id}").body
        return task if task["status"] in FINISHED and task.get("enriched") is not None else None

    return wait_for(status, timeout=60)  # type: ignore[no-any-return]


def test_a_task_submitted_through_the_api_is_recorded_notified_and_read(tracker: LocalTracker, api: SignedApi) -> None:
    inbox = Inbox(tracker)

    created = post_task(api, tags={"project": "e2e"})
    assert created.status == 201
    at_once = api.request("GET", created.headers["Location"].removeprefix("/v1"))
    task = finished(api, created["taskId"])
    result = api.request("GET", f"/tasks/{created['taskId']}/result")
    listed = api.request("GET", "/tasks", query={"tag": "project=e2e"})

    assert at_once.status == 200
    assert at_once["taskArn"] == created["taskArn"]
    caller = tracker.client("sts").get_caller_identity()["Arn"]
    assert (task["status"], task["origin"], task["submitter"]) == ("COMPLETED", "api", caller)
    assert task["eventCount"] >= 1
    assert task["enriched"] is True
    assert result.status == 200
    assert sum(result["counts"].values()) == 500
    assert set(result["counts"]) <= {"00", "11"}
    with urllib.request.urlopen(result["resultsUrl"], timeout=10) as response:
        assert json.loads(response.read())["taskMetadata"]["shots"] == 500
    assert [t["taskArn"] for t in listed["tasks"]] == [created["taskArn"]]
    announced(tracker, [created["taskArn"]])
    notified = Counter(document["taskArn"] for document in inbox.drain())
    assert notified[created["taskArn"]] == 1


def test_the_submitter_cancels_through_the_api(
    tracker: LocalTracker, api: SignedApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tracker.braket is not None
    monkeypatch.setattr(tracker.braket.service, "queue_delay", 60)  # the task waits in the queue until cancelled
    created = post_task(api)

    cancel = api.request("POST", f"/tasks/{created['taskId']}/cancel")
    task = finished(api, created["taskId"])

    assert cancel.status == 202
    assert cancel.body == {"taskArn": created["taskArn"], "status": "CANCELLING"}
    assert task["status"] == "CANCELLED"
    assert "CANCELLING" in task["statusTimes"]
    again = api.request("POST", f"/tasks/{created['taskId']}/cancel")
    assert again.status == 409


def test_a_task_submitted_outside_the_api_is_there_too(tracker: LocalTracker, api: SignedApi) -> None:
    arn = submit(tracker)  # straight to the local Braket service, as the SDK does
    wait_for(lambda: (read_item(tracker, arn) or {}).get("status") in FINISHED)

    by_arn = api.request("GET", "/tasks/" + quote(arn, safe=""))
    result = api.request("GET", "/tasks/" + quote(arn, safe="") + "/result")

    assert by_arn.status == 200
    assert (by_arn["origin"], by_arn["submitter"]) == ("event", None)
    # Its results are in the account's own Braket bucket (amazon-braket-<region>-<account>, the SDK's
    # default): readable without listing it in readableResultsBuckets.
    assert by_arn["outputS3Bucket"] == f"amazon-braket-{REGION}-123456789012"
    assert result.status == 200, result.body
    assert sum(result["counts"].values()) == 1000
    assert by_arn["actionMetadata"] == {"actionType": "braket.ir.openqasm.program"}  # Braket's details at the end
    assert json.loads(by_arn["deviceParameters"])["paradigmParameters"]["qubitCount"] == 2


def test_requests_without_a_valid_signature_never_reach_the_function(api: SignedApi) -> None:
    unsigned = api.request("GET", "/tasks", sign=False)
    forged = SignedApi(api.base_url, REGION, CREDENTIALS[0], "wrong-secret").request("GET", "/tasks")

    for answer in (unsigned, forged):
        assert answer.status == 403
        assert set(answer.body) == {"error", "message", "details"}
    assert unsigned["error"] == "MISSING_AUTHENTICATION_TOKEN"


def test_a_program_over_the_limit_is_413_at_the_gateway_and_in_the_function(api: SignedApi) -> None:
    characters = post_task(api, program="// " + "x" * 1_048_576 + "\n" + BELL_PAIR)
    multibyte = post_task(api, program="// " + "é" * 600_000 + "\n" + BELL_PAIR)  # under the limit in characters

    assert (characters.status, characters["error"]) == (413, "ProgramTooLarge")
    assert (multibyte.status, multibyte["error"]) == (413, "ProgramTooLarge")
    assert multibyte["details"]["sizeBytes"] > 1_048_576

"""The Task API handler against moto server (DynamoDB, S3) and the local Braket service, over HTTP.

Requests are API Gateway proxy events, as the IAM-authorized REST API delivers them; a task's
events are recorded with the recorder's own code, so the API reads what the pipeline writes.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import ANY, Stubber

from local.braket import LocalBraket
from tests.support.lambda_context import FakeLambdaContext
from tracker.data.braket_tasks import BraketSubmissions, BraketTasks
from tracker.data.task_table import TaskTable
from tracker.domain import Status, TaskArn, TaskEvent, normalize_time
from tracker.recorder.service import Recorder

ACCOUNT = "123456789012"
REGION = "us-east-1"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
BELL = "OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; cnot q[0], q[1]; b = measure q;"
ADA = f"arn:aws:iam::{ACCOUNT}:user/ada"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/TrackerAdmin"
RESULTS_BUCKET = f"amazon-braket-tracker-{ACCOUNT}-{REGION}"
READABLE_BUCKET = f"amazon-braket-{REGION}-{ACCOUNT}"
OTHER_BUCKET = f"amazon-braket-private-{ACCOUNT}"  # named by Braket's rule, not listed: this account's own
LISTED_BUCKET = f"shared-results-{ACCOUNT}"  # not named by Braket's rule, listed in readableResultsBuckets
FINISHED = {"COMPLETED", "FAILED", "CANCELLED"}


@pytest.fixture(scope="module")
def braket(moto_endpoint: str) -> Iterator[LocalBraket]:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    for bucket in (RESULTS_BUCKET, READABLE_BUCKET, OTHER_BUCKET, LISTED_BUCKET):
        s3.create_bucket(Bucket=bucket)
    service = LocalBraket(moto_endpoint, account=ACCOUNT, queue_delay=1.0)  # time to cancel a queued task
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def api(table_names: dict[str, str], braket: LocalBraket) -> Iterator[ModuleType]:
    """The handler module, imported as Lambda does at cold start, with the stack's environment."""
    environment = {
        "TASK_TABLE_NAME": table_names["taskArn"],
        "JOB_TABLE_NAME": table_names["jobArn"],
        "IDEMPOTENCY_TABLE_NAME": table_names["idempotencyKey"],
        "RESULTS_BUCKETS": json.dumps({REGION: RESULTS_BUCKET}),
        "READABLE_RESULTS_BUCKETS": json.dumps([READABLE_BUCKET, LISTED_BUCKET]),
        "DEVICE_ALLOWLIST": json.dumps([SV1, DM1]),
        "ADMIN_PRINCIPALS": json.dumps([ADMIN_ROLE]),
        "PROMOTED_TAG_KEYS": json.dumps(["project"]),
        "AWS_ENDPOINT_URL_BRAKET": braket.url,
    }
    previous = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    # A cold start for each module that uses this fixture: the handler's clients (cached per Region)
    # must reach this module's local Braket service, not one an earlier module stopped.
    sys.modules.pop("tracker.api.handler", None)
    module = importlib.import_module("tracker.api.handler")
    yield module
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def call(
    api: ModuleType,
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    caller: str = ADA,
) -> tuple[int, dict[str, str], Any]:
    """One request through the handler, as API Gateway's Lambda proxy integration sends it."""
    event = {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "body": None if body is None else (body if isinstance(body, str) else json.dumps(body)),
        "isBase64Encoded": False,
        "requestContext": {
            "accountId": ACCOUNT,
            "stage": "v1",
            "path": f"/v1{path}",
            "requestId": str(uuid.uuid4()),
            "httpMethod": method,
            "resourcePath": "/{proxy+}",
            "identity": {"userArn": caller, "caller": caller, "accountId": ACCOUNT, "sourceIp": "127.0.0.1"},
        },
    }
    answer = api.lambda_handler(event, FakeLambdaContext())
    answer_headers = {name: values[-1] for name, values in (answer.get("multiValueHeaders") or {}).items()}
    answer_headers |= answer.get("headers") or {}
    return answer["statusCode"], answer_headers, json.loads(answer["body"]) if answer["body"] else None


def submit(
    api: ModuleType, *, caller: str = ADA, key: str | None = None, **fields: Any
) -> tuple[int, dict[str, str], Any]:
    body = {"deviceArn": SV1, "shots": 100, "program": BELL} | fields
    return call(api, "POST", "/tasks", body=body, headers={"Idempotency-Key": key} if key else None, caller=caller)


def braket_client(braket: LocalBraket) -> Any:
    return boto3.client("braket", region_name=REGION, endpoint_url=braket.url)


def wait_in_braket(braket: LocalBraket, arn: str, statuses: set[str] = FINISHED) -> dict[str, Any]:
    client = braket_client(braket)
    deadline = time.monotonic() + 20
    while True:
        task: dict[str, Any] = client.get_quantum_task(quantumTaskArn=arn)
        if task["status"] in statuses or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def record_end(api: ModuleType, braket: LocalBraket, arn: str) -> str:
    """Record the task's end as the recorder does on its event (with Braket's details)."""
    task = wait_in_braket(braket, arn)
    table: TaskTable = api.TaskTable(os.environ["TASK_TABLE_NAME"], promoted_tag_keys=("project",))
    recorder = Recorder(table, BraketTasks(1, client_factory=lambda region: braket_client(braket)))
    ended = normalize_time(task["endedAt"]) if task.get("endedAt") else None
    event = TaskEvent(
        event_id=str(uuid.uuid4()),
        time=normalize_time(task.get("endedAt") or task["createdAt"]),
        task=TaskArn.parse(arn),
        status=Status(task["status"]),
        device_arn=task["deviceArn"],
        shots=task["shots"],
        output_s3_bucket=task["outputS3Bucket"],
        output_s3_directory=task["outputS3Directory"],
        created_at=normalize_time(task["createdAt"]),
        ended_at=ended,
    )
    recorder.record(event, 60)
    return str(task["status"])


# --- POST /tasks ---


def test_a_submitted_task_is_readable_at_once_with_its_submitter(api: ModuleType) -> None:
    status, headers, body = submit(api, tags={"project": "bell"})

    assert status == 201
    assert headers["Location"] == f"/v1/tasks/{body['taskId']}"
    assert body["taskArn"].startswith(f"arn:aws:braket:{REGION}:{ACCOUNT}:quantum-task/")
    status, _, task = call(api, "GET", f"/tasks/{body['taskId']}")
    assert status == 200
    assert task["status"] in {"CREATED", "QUEUED", "RUNNING", "COMPLETED"}
    assert (task["submitter"], task["origin"], task["deviceArn"]) == (ADA, "api", SV1)
    assert task["tags"] == {"project": "bell", "braket-tracker:submitter": ADA}
    assert task["outputS3Bucket"] == RESULTS_BUCKET
    assert task["outputS3Directory"] == f"tasks/{body['taskId']}"
    by_arn = call(api, "GET", "/tasks/" + quote(body["taskArn"], safe=""))
    assert by_arn[0] == 200
    assert by_arn[2]["taskArn"] == body["taskArn"]


def test_the_submitter_and_tags_reach_braket(api: ModuleType, braket: LocalBraket) -> None:
    _, _, body = submit(api, caller=BOB, tags={"project": "tags"})

    task = braket_client(braket).get_quantum_task(quantumTaskArn=body["taskArn"])

    assert task["tags"] == {"project": "tags", "braket-tracker:submitter": BOB}
    assert task["outputS3Bucket"] == RESULTS_BUCKET


def test_a_retry_with_the_same_key_answers_the_first_task(api: ModuleType, braket: LocalBraket) -> None:
    key = str(uuid.uuid4())
    first = submit(api, key=key)
    retry = submit(api, key=key)

    assert first[0] == retry[0] == 201
    assert retry[2]["taskArn"] == first[2]["taskArn"]
    assert retry[1].get("Idempotent-Replayed") == "true"
    search = braket_client(braket).search_quantum_tasks(
        filters=[{"name": "quantumTaskArn", "operator": "EQUAL", "values": [first[2]["taskArn"]]}]
    )
    assert len(search["quantumTasks"]) == 1


def test_a_different_request_under_the_same_key_is_a_conflict(api: ModuleType) -> None:
    key = str(uuid.uuid4())
    assert submit(api, key=key)[0] == 201

    status, _, error = submit(api, key=key, shots=200)

    assert status == 409
    assert error["error"] == "IdempotencyKeyReused"


def test_two_callers_keys_never_collide(api: ModuleType) -> None:
    key = str(uuid.uuid4())
    ada = submit(api, key=key)
    bob = submit(api, key=key, caller=BOB, shots=300)

    assert ada[0] == bob[0] == 201
    assert ada[2]["taskArn"] != bob[2]["taskArn"]


def test_braket_refusing_a_task_leaves_nothing_behind(api: ModuleType, dynamodb: Any) -> None:
    key = str(uuid.uuid4())
    before = dynamodb.scan(TableName=os.environ["TASK_TABLE_NAME"], Select="COUNT")["Count"]

    status, _, error = submit(api, key=key, program="OPENQASM 3.0; qubit[40] q; h q;")

    assert status == 400
    assert error["error"] == "BraketRejected"
    assert error["details"]["braketError"] == "ValidationException"
    assert dynamodb.scan(TableName=os.environ["TASK_TABLE_NAME"], Select="COUNT")["Count"] == before
    # The key is free again: the fixed request goes through under it.
    assert submit(api, key=key)[0] == 201


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"shots": -1}, "body.shots"),
        ({"deviceArn": "sv1"}, "body.deviceArn"),
        ({"program": ""}, "body.program"),
        ({"tags": {"": "x"}}, "body.tags"),
        ({"extra": 1}, "body.extra"),
    ],
)
def test_invalid_requests_get_400_with_field_paths(api: ModuleType, fields: dict[str, Any], path: str) -> None:
    status, _, error = submit(api, **fields)

    assert status == 400
    assert error["error"] == "ValidationError"
    assert any(problem["path"].startswith(path) for problem in error["details"]["errors"])


def test_a_body_that_is_not_json_gets_400(api: ModuleType) -> None:
    status, _, error = call(api, "POST", "/tasks", body="{not json")

    assert status == 400
    assert set(error) == {"error", "message", "details"}


def test_a_device_off_the_allowlist_gets_400(api: ModuleType) -> None:
    status, _, error = submit(api, deviceArn="arn:aws:braket:::device/quantum-simulator/amazon/tn1")

    assert status == 400
    assert error["error"] == "DeviceNotAllowed"
    assert error["details"]["allowed"] == [SV1, DM1]


def test_a_program_over_the_limit_gets_413_before_braket(api: ModuleType, dynamodb: Any) -> None:
    program = "// " + "x" * (1_048_576) + "\n" + BELL

    status, _, error = submit(api, program=program)

    assert status == 413
    assert error["details"]["limitBytes"] == 1_048_576


def test_braket_throttling_is_429(api: ModuleType) -> None:
    client = boto3.client("braket", region_name=REGION)
    service = api.bind.__globals__["_services"][0]
    original = service.braket
    service.braket = BraketSubmissions(client_factory=lambda region: client)
    try:
        with Stubber(client) as stub:
            stub.add_client_error("create_quantum_task", "ThrottlingException", "Rate exceeded", 429)
            status, _, error = submit(api)
    finally:
        service.braket = original

    assert status == 429
    assert error["message"] == "Braket: Rate exceeded"


# --- GET /tasks/{id} ---


def test_an_unknown_task_is_404(api: ModuleType) -> None:
    status, _, error = call(api, "GET", f"/tasks/{uuid.uuid4()}")

    assert status == 404
    assert error["error"] == "TaskNotFound"


def test_queue_position_comes_from_braket_on_request(api: ModuleType, braket: LocalBraket) -> None:
    _, _, body = submit(api)
    braket_client(braket).get_quantum_task(quantumTaskArn=body["taskArn"])  # Braket has queued it
    table = TaskTable(os.environ["TASK_TABLE_NAME"])
    queued = table.get(body["taskArn"])
    assert queued is not None
    event = TaskEvent(
        "q1",
        queued.created_at,
        queued.task,
        Status.QUEUED,
        SV1,
        100,
        RESULTS_BUCKET,
        queued.output_s3_directory,
        queued.created_at,
    )
    Recorder(table, BraketTasks(1)).record(event)

    plain = call(api, "GET", f"/tasks/{body['taskId']}")[2]
    with_queue = call(api, "GET", f"/tasks/{body['taskId']}", query={"include": "queue"})[2]
    again = call(api, "GET", f"/tasks/{body['taskId']}", query={"include": "queue"})[2]

    assert (plain["queueInfo"], plain["queueInfoReadAt"]) == (None, None)
    assert with_queue["queueInfo"]["queue"] == "QUANTUM_TASKS_QUEUE"
    assert with_queue["queueInfo"]["position"] is not None
    assert again["queueInfoReadAt"] == with_queue["queueInfoReadAt"]  # the same read: Braket asked once
    assert again["queueInfo"] == with_queue["queueInfo"]


def test_a_task_that_is_not_queued_gets_braket_s_answer_without_a_call(api: ModuleType) -> None:
    arn = _insert(api, status=Status.RUNNING)  # Braket does not know it: a call would be 404

    status, _, view = call(api, "GET", f"/tasks/{TaskArn.parse(arn).task_id}", query={"include": "queue"})

    assert status == 200
    assert view["queueInfo"]["position"] == "None"
    assert view["queueInfo"]["message"].startswith("Task is in RUNNING status.")
    assert view["queueInfoReadAt"] is None


def test_braket_s_details_of_the_end_are_in_the_view_and_device_parameters_not_in_listings(
    api: ModuleType, braket: LocalBraket
) -> None:
    project = f"details-{uuid.uuid4().hex[:6]}"
    _, _, body = submit(api, tags={"project": project})
    record_end(api, braket, body["taskArn"])
    answer = braket_client(braket).get_quantum_task(quantumTaskArn=body["taskArn"])

    view = call(api, "GET", f"/tasks/{body['taskId']}")[2]
    listed = call(api, "GET", "/tasks", query={"tag": f"project={project}"})[2]["tasks"]

    assert view["deviceParameters"] == answer["deviceParameters"]
    assert json.loads(view["deviceParameters"])["paradigmParameters"]["qubitCount"] == 2
    assert view["actionMetadata"] == {"actionType": "braket.ir.openqasm.program"}  # no counts: not a program set
    assert [task["taskArn"] for task in listed] == [body["taskArn"]]
    assert listed[0]["deviceParameters"] is None
    assert listed[0]["actionMetadata"] == view["actionMetadata"]


# --- GET /tasks/{id}/result ---


def test_a_completed_result_has_counts_and_a_working_link(api: ModuleType, braket: LocalBraket) -> None:
    _, _, body = submit(api, shots=200)
    assert record_end(api, braket, body["taskArn"]) == "COMPLETED"

    status, _, result = call(api, "GET", f"/tasks/{body['taskId']}/result")

    assert status == 200
    assert (result["status"], result["kind"], result["shots"]) == ("COMPLETED", "gate-model", 200)
    assert set(result["counts"]) <= {"00", "11"}
    assert sum(result["counts"].values()) == 200
    assert result["measuredQubits"] == [0, 1]
    with urllib.request.urlopen(result["resultsUrl"], timeout=10) as response:
        document = json.loads(response.read())
    assert document["taskMetadata"]["id"] == body["taskArn"]


def test_an_exact_result_has_probabilities(api: ModuleType, braket: LocalBraket) -> None:
    program = "OPENQASM 3.0; qubit[2] q; h q[0]; cnot q[0], q[1]; #pragma braket result probability"
    _, _, body = submit(api, shots=0, program=program, deviceArn=DM1)  # SV1 takes Probability with shots > 0 only
    assert record_end(api, braket, body["taskArn"]) == "COMPLETED"

    result = call(api, "GET", f"/tasks/{body['taskId']}/result")[2]

    assert result["counts"] is None
    assert result["probabilities"] == pytest.approx({"00": 0.5, "11": 0.5})


def test_an_unfinished_task_has_no_result_yet(api: ModuleType, table_names: dict[str, str]) -> None:
    arn = _insert(api, status=Status.QUEUED)

    status, _, error = call(api, "GET", f"/tasks/{TaskArn.parse(arn).task_id}/result")

    assert status == 409
    assert error["details"]["status"] == "QUEUED"


def test_a_failed_task_gives_its_reason(api: ModuleType) -> None:
    arn = _insert(api, status=Status.FAILED, failure_reason="Device error: calibration")

    status, _, result = call(api, "GET", f"/tasks/{TaskArn.parse(arn).task_id}/result")

    assert status == 200
    assert (result["status"], result["failureReason"], result["counts"]) == (
        "FAILED",
        "Device error: calibration",
        None,
    )


def test_deleted_results_are_410(api: ModuleType, braket: LocalBraket, moto_endpoint: str) -> None:
    _, _, body = submit(api)
    record_end(api, braket, body["taskArn"])
    boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION).delete_object(
        Bucket=RESULTS_BUCKET, Key=f"tasks/{body['taskId']}/results.json"
    )

    status, _, error = call(api, "GET", f"/tasks/{body['taskId']}/result")

    assert status == 410
    assert "lifecycle" in error["message"]


def test_results_in_the_accounts_braket_buckets_are_read_and_elsewhere_only_if_listed(
    api: ModuleType, braket: LocalBraket, moto_endpoint: str
) -> None:
    client = braket_client(braket)
    action = json.dumps({"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": BELL})
    arns = {
        bucket: client.create_quantum_task(
            clientToken=str(uuid.uuid4()),
            action=action,
            deviceArn=SV1,
            shots=10,
            outputS3Bucket=bucket,
            outputS3KeyPrefix="sdk",
        )["quantumTaskArn"]
        for bucket in (OTHER_BUCKET, READABLE_BUCKET)
    }
    for arn in arns.values():
        record_end(api, braket, arn)

    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    task = TaskArn.parse(arns[READABLE_BUCKET])
    results = s3.get_object(Bucket=READABLE_BUCKET, Key=f"sdk/{task.task_id}/results.json")["Body"].read()
    listed = _insert(api, status=Status.COMPLETED, bucket=LISTED_BUCKET)
    s3.put_object(Bucket=LISTED_BUCKET, Key=f"tasks/{TaskArn.parse(listed).task_id}/results.json", Body=results)
    neither = _insert(api, status=Status.COMPLETED, bucket=f"research-results-{ACCOUNT}")

    by_braket_name = call(api, "GET", "/tasks/" + quote(arns[OTHER_BUCKET], safe="") + "/result")
    by_the_sdk = call(api, "GET", "/tasks/" + quote(arns[READABLE_BUCKET], safe="") + "/result")
    by_the_list = call(api, "GET", "/tasks/" + quote(listed, safe="") + "/result")
    refused = call(api, "GET", "/tasks/" + quote(neither, safe="") + "/result")

    assert [answer[0] for answer in (by_braket_name, by_the_sdk, by_the_list)] == [200, 200, 200]
    assert sum(by_braket_name[2]["counts"].values()) == sum(by_the_list[2]["counts"].values()) == 10
    assert refused[0] == 403
    assert f"research-results-{ACCOUNT}" in refused[2]["message"]
    assert "readableResultsBuckets" in refused[2]["message"]


# --- POST /tasks/{id}/cancel ---


def test_the_submitter_cancels(api: ModuleType, braket: LocalBraket) -> None:
    arn = _queued_in_braket(api, braket)

    status, _, body = call(api, "POST", f"/tasks/{TaskArn.parse(arn).task_id}/cancel")

    assert status == 202
    assert body == {"taskArn": arn, "status": "CANCELLING"}
    recorded = call(api, "GET", f"/tasks/{TaskArn.parse(arn).task_id}")[2]  # at once: before Braket's event
    assert recorded["status"] == "CANCELLING"
    stored = TaskTable(os.environ["TASK_TABLE_NAME"]).get(arn)
    assert stored is not None
    assert "task-api:CANCELLING" in stored.event_ids  # an observation, merged like any event
    assert wait_in_braket(braket, arn)["status"] == "CANCELLED"
    record_end(api, braket, arn)
    assert call(api, "GET", f"/tasks/{TaskArn.parse(arn).task_id}")[2]["status"] == "CANCELLED"


def test_someone_else_may_not_cancel_but_an_admin_session_may(api: ModuleType, braket: LocalBraket) -> None:
    arn = _queued_in_braket(api, braket)
    task_id = TaskArn.parse(arn).task_id

    refused = call(api, "POST", f"/tasks/{task_id}/cancel", caller=BOB)
    admin = call(
        api, "POST", f"/tasks/{task_id}/cancel", caller=f"arn:aws:sts::{ACCOUNT}:assumed-role/TrackerAdmin/ops"
    )

    assert refused[0] == 403
    assert refused[2]["details"]["submitter"] == ADA
    assert admin[0] == 202


def test_a_finished_task_cannot_be_cancelled(api: ModuleType, braket: LocalBraket) -> None:
    _, _, body = submit(api)
    record_end(api, braket, body["taskArn"])

    status, _, error = call(api, "POST", f"/tasks/{body['taskId']}/cancel")

    assert status == 409
    assert error["details"]["status"] == "COMPLETED"


# --- GET /tasks ---


def test_pages_cover_every_task_newest_first_one_query_each(api: ModuleType) -> None:
    project = f"paging-{uuid.uuid4().hex[:6]}"
    arns = [submit(api, tags={"project": project})[2]["taskArn"] for _ in range(5)]
    queries: list[str] = []
    client = api.dynamodb
    count = lambda request, **_: queries.append(request.headers["X-Amz-Target"].decode())  # noqa: E731
    client.meta.events.register("before-send.dynamodb", count)
    try:
        seen, token, pages = [], None, 0
        while True:
            query = {"tag": f"project={project}", "limit": "2"} | ({"next": token} if token else {})
            status, _, page = call(api, "GET", "/tasks", query=query)
            assert status == 200
            seen += [task["taskArn"] for task in page["tasks"]]
            pages += 1
            token = page["next"]
            if token is None:
                break
    finally:
        client.meta.events.unregister("before-send.dynamodb", count)

    assert seen == list(reversed(arns))
    assert pages == 3
    assert queries == ["DynamoDB_20120810.Query"] * pages


def test_filters_by_status_submitter_and_time(api: ModuleType) -> None:
    arn = _insert(api, status=Status.RUNNING, submitter=BOB)
    created = call(api, "GET", "/tasks/" + quote(arn, safe=""))[2]["createdAt"]

    running = call(api, "GET", "/tasks", query={"status": "RUNNING", "createdAfter": created})[2]["tasks"]
    bobs = call(api, "GET", "/tasks", query={"submitter": "me"}, caller=BOB)[2]["tasks"]
    before = call(api, "GET", "/tasks", query={"status": "RUNNING", "createdBefore": created})[2]["tasks"]

    assert arn in [task["taskArn"] for task in running]
    assert arn in [task["taskArn"] for task in bobs]
    assert all(task["submitter"] == BOB for task in bobs)
    assert arn not in [task["taskArn"] for task in before]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"status": "RUNNING", "device": SV1}, "UnsupportedFilter"),
        ({"tag": "team=qml"}, "UnsupportedFilter"),
        ({"next": "bm90IGEgdG9rZW4"}, "InvalidToken"),
        ({"limit": "101"}, "ValidationError"),
        ({"status": "DONE"}, "ValidationError"),
        ({"createdAfter": "last week"}, "ValidationError"),
    ],
)
def test_unsupported_listings_are_400_never_a_scan(api: ModuleType, query: dict[str, str], error: str) -> None:
    status, _, body = call(api, "GET", "/tasks", query=query)

    assert status == 400
    assert body["error"] == error


# --- helpers ---


def _insert(
    api: ModuleType,
    *,
    status: Status,
    submitter: str = ADA,
    failure_reason: str | None = None,
    bucket: str = RESULTS_BUCKET,
) -> str:
    """A task item as the pipeline leaves it in `status` (written with the recorder's data access)."""
    from tracker.domain import Enrichment, TaskRecord

    task = TaskArn.parse(f"arn:aws:braket:{REGION}:{ACCOUNT}:quantum-task/{uuid.uuid4()}")
    now = normalize_time(time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
    enrichment = Enrichment(complete=True, failure_reason=failure_reason) if status.finished else None
    record = TaskRecord(
        task=task,
        device_arn=SV1,
        shots=10,
        output_s3_bucket=bucket,
        output_s3_directory=f"tasks/{task.task_id}",
        created_at=now,
        status_times={Status.CREATED: now, status: now},
        last_event_at=now,
        event_ids=frozenset({"e1", "e2"}),
        ended_at=now if status.finished else None,
        enrichment=enrichment,
        submitter=submitter,
    )
    TaskTable(os.environ["TASK_TABLE_NAME"]).insert_first(record)
    return task.arn


def _queued_in_braket(api: ModuleType, braket: LocalBraket) -> str:
    """A task that is still waiting in Braket's queue (the service holds it for a second)."""
    _, _, body = submit(api)
    return str(body["taskArn"])


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded"])
def test_a_body_in_another_media_type_is_415(api: ModuleType, content_type: str) -> None:
    body = json.dumps({"deviceArn": SV1, "shots": 1, "program": BELL})

    status, _, error = call(api, "POST", "/tasks", body=body, headers={"Content-Type": content_type})

    assert status == 415
    assert error["error"] == "UnsupportedMediaType"


@pytest.mark.parametrize("query", [{"submitter": ""}, {"device": ""}, {"tag": "project="}, {"next": ""}])
def test_empty_filters_are_400_not_a_failed_query(api: ModuleType, query: dict[str, str]) -> None:
    status, _, error = call(api, "GET", "/tasks", query=query)

    assert status == 400
    assert error["error"] in {"ValidationError", "UnsupportedFilter"}


def test_a_qpu_of_another_region_runs_there_and_writes_to_that_regions_bucket(api: ModuleType) -> None:
    from tracker.api.service import TaskService
    from tracker.config import ApiConfig
    from tracker.data.idempotency import IdempotencyStore
    from tracker.data.results_store import ResultsStore
    from tracker.logic.submission import SubmitRequest

    garnet = "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet"
    north_bucket = f"amazon-braket-brakettasktracker-{ACCOUNT}-eu-north-1"
    config = ApiConfig.from_env(
        {
            **os.environ,
            "RESULTS_BUCKETS": json.dumps({REGION: RESULTS_BUCKET, "eu-north-1": north_bucket}),
            "DEVICE_ALLOWLIST": json.dumps([SV1, garnet]),
        }
    )
    clients: dict[str, Any] = {}

    def client(region: str) -> Any:
        clients[region] = boto3.client("braket", region_name=region)
        return clients[region]

    braket = BraketSubmissions(client_factory=client)
    service = TaskService(
        config,
        TaskTable(os.environ["TASK_TABLE_NAME"]),
        IdempotencyStore(os.environ["IDEMPOTENCY_TABLE_NAME"], 3600),
        braket,
        ResultsStore(),
    )
    arn = f"arn:aws:braket:eu-north-1:{ACCOUNT}:quantum-task/{uuid.uuid4()}"
    stub = Stubber(braket.client("eu-north-1"))
    stub.add_response(
        "create_quantum_task",
        {"quantumTaskArn": arn},
        {
            "clientToken": ANY,
            "deviceArn": garnet,
            "shots": 100,
            "action": ANY,
            "outputS3Bucket": north_bucket,
            "outputS3KeyPrefix": "tasks",
            "tags": ANY,
        },
    )
    with stub:
        submitted = service.submit(SubmitRequest(garnet, 100, BELL), ADA, None)

    assert submitted.task_arn == arn
    assert set(clients) == {"eu-north-1"}  # asked in the device's Region, not the API's
    item = TaskTable(os.environ["TASK_TABLE_NAME"]).get(arn)
    assert item is not None
    assert (item.output_s3_bucket, item.task.region) == (north_bucket, "eu-north-1")


# --- every boundary refuses bad input cleanly (issue 14) ---


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"shots": True}, "body.shots"),  # was a task with 1 shot
        ({"shots": "100"}, "body.shots"),
        ({"shots": 100.0}, "body.shots"),
        ({"inputs": {"theta": "1"}}, "body.inputs.theta"),
        ({"inputs": {"theta": True}}, "body.inputs.theta"),
        ({"inputs": {"theta": [1, "2"]}}, "body.inputs.theta"),
        ({"tags": {"project": 7}}, "body.tags.project"),
        ({"program": ["OPENQASM 3.0;"]}, "body.program"),
    ],
)
def test_the_request_model_is_strict_no_coercion(api: ModuleType, body: dict[str, Any], path: str) -> None:
    status, _, error = submit(api, **body)

    assert status == 400, error
    assert error["error"] == "ValidationError"
    assert any(problem["path"].startswith(path) for problem in error["details"]["errors"])


def test_numbers_that_json_cannot_hold_are_refused(api: ModuleType) -> None:
    body = json.dumps({"deviceArn": SV1, "shots": 10, "program": "x", "inputs": {"theta": float("nan")}})
    assert "NaN" in body  # Python's json writes it; JSON has no such number

    status, _, error = call(api, "POST", "/tasks", body=body)

    assert status == 400 and error["error"] == "ValidationError"


def test_a_device_that_is_not_an_arn_is_named_with_the_form_not_a_regex(api: ModuleType) -> None:
    status, _, error = submit(api, deviceArn="foo")

    assert status == 400
    assert "arn:aws:braket:<region" in error["message"]
    assert "[a-z" not in error["message"]


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "Application/Json; Charset=UTF-8", "application/json"])
def test_media_types_are_case_insensitive(api: ModuleType, content_type: str) -> None:
    body = json.dumps({"deviceArn": SV1, "shots": 1, "program": BELL})

    status, _, answer = call(api, "POST", "/tasks", body=body, headers={"Content-Type": content_type})

    assert status == 201, answer


@pytest.mark.parametrize("key", ["braket-tracker:submitter", "braket-tracker:anything", "Braket-Tracker:Submitter"])
def test_the_trackers_tag_prefix_is_reserved(api: ModuleType, key: str) -> None:
    """A caller whose ARN is over 256 characters gets no submitter tag: it could have forged one."""
    long_caller = f"arn:aws:sts::{ACCOUNT}:assumed-role/{'r' * 64}/{'s' * 200}"

    status, _, error = submit(api, caller=long_caller, tags={key: ADA})

    assert status == 400
    assert error["error"] == "ValidationError"
    assert "reserved" in error["message"]


def test_an_id_recorded_in_two_regions_is_409_with_both_arns(api: ModuleType) -> None:
    task_id = str(uuid.uuid4())
    arns = sorted(_insert_as(api, f"arn:aws:braket:{region}:{ACCOUNT}:quantum-task/{task_id}") for region in REGIONS)

    answers = [
        call(api, "GET", f"/tasks/{task_id}"),
        call(api, "GET", f"/tasks/{task_id}/result"),
        call(api, "POST", f"/tasks/{task_id}/cancel"),
    ]

    for status, _, error in answers:
        assert status == 409
        assert error["error"] == "AmbiguousTaskId"
        assert error["details"]["taskArns"] == arns
    assert call(api, "GET", "/tasks/" + quote(arns[0], safe=""))[0] == 200  # an ARN is never ambiguous


def test_an_arn_with_a_trailing_newline_is_not_a_task_name(api: ModuleType) -> None:
    arn = _insert(api, status=Status.RUNNING)

    status, _, error = call(api, "GET", "/tasks/" + quote(arn + "\n", safe=""))

    assert status == 400 and error["error"] == "ValidationError"


def test_filter_values_are_bounded_in_bytes_not_a_failed_query(api: ModuleType) -> None:
    """1,500 characters is 3,000 bytes: over DynamoDB's 2,048 for a key, which it refuses (a 503 here)."""
    status, _, error = call(api, "GET", "/tasks", query={"submitter": "\u00e9" * 1500})

    assert status == 400 and error["error"] == "ValidationError"
    assert error["details"]["errors"][0]["path"] == "query.submitter"
    assert call(api, "GET", "/tasks", query={"submitter": "\u00e9" * 1024})[0] == 200  # 2,048 bytes


def test_a_date_alone_filters_from_midnight_utc(api: ModuleType) -> None:
    status, _, page = call(api, "GET", "/tasks", query={"createdAfter": "2019-01-01", "limit": "1"})

    assert status == 200 and len(page["tasks"]) == 1


@pytest.mark.parametrize("after", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "2026-11-17T08:00"])
def test_times_that_overflow_or_lack_a_zone_are_400_not_500(api: ModuleType, after: str) -> None:
    status, _, error = call(api, "GET", "/tasks", query={"createdAfter": after})

    assert status == 400 and error["error"] == "ValidationError"
    assert error["details"]["errors"][0]["path"] == "query.createdAfter"


def test_a_body_nested_too_deep_for_the_parser_is_400_not_500(api: ModuleType) -> None:
    status, _, error = call(api, "POST", "/tasks", body="[" * 100_000 + "]" * 100_000)

    assert status == 400 and error["error"] == "ValidationError"


REGIONS = ("us-east-1", "eu-north-1")


def _insert_as(api: ModuleType, arn: str) -> str:
    from tracker.domain import TaskRecord

    task = TaskArn.parse(arn)
    now = normalize_time(time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
    record = TaskRecord(
        task=task,
        device_arn=SV1,
        shots=10,
        output_s3_bucket=RESULTS_BUCKET,
        output_s3_directory=f"tasks/{task.task_id}",
        created_at=now,
        status_times={Status.CREATED: now},
        last_event_at=now,
        event_ids=frozenset({"e1"}),
        submitter=ADA,
    )
    TaskTable(os.environ["TASK_TABLE_NAME"]).insert_first(record)
    return arn

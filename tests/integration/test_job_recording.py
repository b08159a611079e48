"""Job events through the recorder's handler against moto server: the same queue as task events,
the jobs table, GetJob at first sight and at the end, rejections, and any input at the boundary."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import Recorder
from tests.integration.test_recorder_boundary import ADVERSARIAL_STRINGS, _paths, json_values
from tests.integration.test_recorder_handler import stored
from tests.support.braket_jobs import DocumentedJobs
from tests.support.events import all_fixture_events, job_arn, job_state_change, load_fixture, state_change, task_arn
from tracker.data.braket_jobs import BraketJobs
from tracker.jobs import recording
from tracker.models.job_item import from_item

FIXTURES = all_fixture_events("Braket Job State Change")
UNKNOWN_FIELD = load_fixture("job-lifecycle-unknown-field.json")


@pytest.fixture
def jobs(recorder_module: ModuleType) -> Iterator[DocumentedJobs]:
    fake = DocumentedJobs()
    job_recorder = recording.job_recorder()
    original = job_recorder.braket
    job_recorder.braket = BraketJobs(100, client_factory=lambda region: fake)
    yield fake
    job_recorder.braket = original


def job_item(dynamodb: Any, table_names: dict[str, str], arn: str) -> dict[str, Any] | None:
    return stored(dynamodb, table_names["jobArn"], {"jobArn": arn})


def rejected(dynamodb: Any, table_names: dict[str, str], message_id: str) -> dict[str, Any] | None:
    return stored(dynamodb, table_names["messageId"], {"messageId": message_id})


def lifecycle(arn: str) -> list[dict[str, Any]]:
    return [
        job_state_change(arn, "QUEUED", "2026-11-20T09:00:00Z"),
        job_state_change(arn, "RUNNING", "2026-11-20T09:00:41Z"),
        job_state_change(arn, "COMPLETED", "2026-11-20T09:06:12Z", ended_at="2026-11-20T09:06:11.120Z"),
    ]


def test_the_fixture_lifecycle_becomes_a_plain_job_item_with_two_getjob_calls(
    recorder: Recorder, jobs: DocumentedJobs, dynamodb: Any, table_names: dict[str, str]
) -> None:
    fresh = job_arn()
    old = UNKNOWN_FIELD[0]["detail"]["jobArn"]
    events = [json.loads(json.dumps(e).replace(old, fresh)) for e in UNKNOWN_FIELD]
    for event in events:
        event["id"] = str(uuid.uuid4())

    jobs.status = "QUEUED"
    answers = [recorder.deliver([json.dumps(events[0])])]
    jobs.status = "COMPLETED"
    answers.append(recorder.deliver([json.dumps(e) for e in events[1:]]))

    assert answers == [{"batchItemFailures": []}] * 2
    assert jobs.get_calls == [fresh, fresh]  # first sight (QUEUED) and the end
    item = job_item(dynamodb, table_names, fresh)
    assert item is not None
    assert {k: item[k] for k in ("status", "jobName", "deviceArn", "instanceType", "outputS3Path")} == {
        "status": "COMPLETED",
        "jobName": "vqe-h2-bond-0-74",
        "deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
        "instanceType": "ml.m5.large",
        "outputS3Path": "s3://amazon-braket-us-east-1-012345678901/jobs/vqe-h2-bond-0-74/1763629199120/data",
    }
    assert item["createdAt"] == "2026-11-20T08:59:59.120Z"  # GetJob's
    assert item["startedAt"] == "2026-11-20T09:00:40.120Z" and item["endedAt"] == "2026-11-20T09:06:11.120Z"
    assert item["hyperParameters"] == {"iterations": "10", "stepsize": "0.1"}
    assert item["billableDuration"] == Decimal(331000)
    assert item["unknownDetail"] == {"jobName": '"vqe-h2-bond-0-74"'}
    assert item["taskCounts"] == {"COMPLETED": 0, "FAILED": 0, "CANCELLED": 0}
    assert item["enriched"] is True and item["awaitingNotification"] == "us-east-1"
    assert "unfinishedRegion" not in item


def test_task_and_job_events_share_a_batch(
    recorder: Recorder, jobs: DocumentedJobs, dynamodb: Any, table_names: dict[str, str]
) -> None:
    job, task = job_arn(), task_arn()
    jobs.status = "RUNNING"

    recorder.deliver([json.dumps(lifecycle(job)[1]), json.dumps(state_change(task, "CREATED", "2026-11-20T09:00:42Z"))])

    assert job_item(dynamodb, table_names, job)["status"] == "RUNNING"  # type: ignore[index]
    assert stored(dynamodb, table_names["taskArn"], {"taskArn": task})["status"] == "CREATED"  # type: ignore[index]


def test_shuffled_and_repeated_events_give_the_same_item(
    recorder: Recorder, jobs: DocumentedJobs, dynamodb: Any, table_names: dict[str, str]
) -> None:
    first, second = job_arn(), job_arn()
    ordered = lifecycle(first)
    same = [json.loads(json.dumps(e).replace(first, second)) for e in ordered]

    recorder.deliver([json.dumps(e) for e in ordered])
    recorder.deliver([json.dumps(same[i]) for i in (2, 0, 2)])
    recorder.deliver([json.dumps(same[i]) for i in (1, 0)])

    a, b = job_item(dynamodb, table_names, first), job_item(dynamodb, table_names, second)
    assert a is not None and b is not None
    ignored = {"jobArn", "jobId", "eventIds", "detailsReadAt", "version", "lastEventAt"}
    assert {k: v for k, v in a.items() if k not in ignored} == {k: v for k, v in b.items() if k not in ignored}


def test_a_throttled_getjob_records_the_end_for_the_reconciler(
    recorder: Recorder, jobs: DocumentedJobs, dynamodb: Any, table_names: dict[str, str]
) -> None:
    arn = job_arn()
    jobs.throttle = True

    recorder.deliver([json.dumps(lifecycle(arn)[2])])

    item = job_item(dynamodb, table_names, arn)
    assert item is not None
    assert (item["status"], item["enriched"], item["unfinishedRegion"]) == ("COMPLETED", False, "us-east-1")


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(job_state_change(job_arn(), "SUCCEEDED", "2026-11-20T09:00:00Z")),
        json.dumps(job_state_change(job_arn(), "QUEUED", "2026-11-20T09:00:00Z") | {"time": "2090-01-01T00:00:00Z"}),
        json.dumps(
            job_state_change("arn:aws:braket:us-east-1:012345678901:job/a\nb", "QUEUED", "2026-11-20T09:00:00Z")
        ),
    ],
)
def test_a_malformed_job_event_is_rejected_with_its_reason(
    recorder: Recorder, jobs: DocumentedJobs, dynamodb: Any, table_names: dict[str, str], body: str
) -> None:
    batch = recorder.deliver([body])

    assert batch == {"batchItemFailures": []}
    assert jobs.get_calls == []


# -- hypothesis: any message at the boundary -----------------------------------------------------------


@st.composite
def mutated_job_event(draw: st.DrawFn) -> str:
    event = copy.deepcopy(draw(st.sampled_from(FIXTURES)))
    event = json.loads(json.dumps(event).replace(event["detail"]["jobArn"].rsplit("/", 1)[-1], str(uuid.uuid4())))
    event["id"] = str(uuid.uuid4())
    for _ in range(draw(st.integers(0, 3))):
        *parents, last = draw(st.sampled_from(_paths(event)))
        target = event
        for part in parents:
            target = target[part]
        mutation = draw(st.sampled_from(["status", "delete", "json", "adversarial", "type"]))
        if mutation == "status" and isinstance(event.get("detail"), dict):
            event["detail"]["status"] = draw(st.sampled_from(["QUEUED", "RUNNING", "CANCELLING", "FAILED", "X"]))
        elif mutation == "delete" and isinstance(target, dict):
            del target[last]
        elif mutation == "json":
            target[last] = draw(json_values)
        elif mutation == "adversarial":
            target[last] = draw(st.sampled_from(ADVERSARIAL_STRINGS))
        elif mutation == "type":
            target[last] = draw(st.sampled_from([1, -1, 10**30, 1.5, True, None, [], {}]))
    return json.dumps(event, ensure_ascii=draw(st.booleans()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(mutated_job_event(), min_size=1, max_size=3))
def test_any_job_message_ends_recorded_or_rejected(
    recorder: Recorder, jobs: DocumentedJobs, dynamodb: Any, table_names: dict[str, str], batch: list[str]
) -> None:
    answer = recorder.module.lambda_handler  # the handler reports no failure for input that cannot succeed
    from tests.support.events import sqs_batch
    from tests.support.lambda_context import FakeLambdaContext

    event = sqs_batch(batch)
    assert answer(event, FakeLambdaContext()) == {"batchItemFailures": []}
    for record, body in zip(event["Records"], batch, strict=True):
        if rejected(dynamodb, table_names, record["messageId"]) is not None:
            continue
        arn = json.loads(body)["detail"]["jobArn"]
        item = job_item(dynamodb, table_names, arn)
        assert item is not None, body
        assert from_item(item).job.arn == arn  # readable back
        assert len(json.dumps(item, default=str).encode()) < 100_000

"""The recorder's boundary against moto server (issue 14): the parser is the only gate.

Whatever a message holds, it ends as a recorded item or a rejected row: no exception caused by
the input escapes, and no such message is left for SQS to redeliver into the dead-letter queue.
Cases the issue found, then hypothesis: arbitrary JSON, and arbitrary mutations of the real
fixtures (tests/events/), through the handler.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.stub import Stubber
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import Recorder
from tests.support.events import all_fixture_events, sqs_batch, state_change, task_arn
from tests.support.lambda_context import FakeLambdaContext
from tracker.domain import MAX_EVENTS_PER_TASK
from tracker.models.event import InvalidEvent, parse_task_event

PARAMETER_ID = "5f0c3a52-8d3e-4c6b-9a1e-2b7d4e6f8a90"  # fixed, so every collection names the tests alike

pytestmark = pytest.mark.integration


def deliver(recorder: Recorder, bodies: list[str]) -> dict[str, Any]:
    """Deliver one batch; every message must be settled (recorded or rejected), none left to retry."""
    event = sqs_batch(bodies)
    response = recorder.module.lambda_handler(event, FakeLambdaContext())
    assert response == {"batchItemFailures": []}, "a message was left for redelivery"
    return event


def rejected_row(dynamodb: Any, table_names: dict[str, str], message_id: str) -> dict[str, Any] | None:
    item = dynamodb.get_item(
        TableName=table_names["messageId"], Key={"messageId": {"S": message_id}}, ConsistentRead=True
    ).get("Item")
    return None if item is None else {name: next(iter(value.values())) for name, value in item.items()}


def task_item(dynamodb: Any, table_names: dict[str, str], arn: str) -> dict[str, Any] | None:
    return dynamodb.get_item(  # type: ignore[no-any-return]
        TableName=table_names["taskArn"], Key={"taskArn": {"S": arn}}, ConsistentRead=True
    ).get("Item")


def assert_settled(recorder: Recorder, dynamodb: Any, table_names: dict[str, str], bodies: list[str]) -> None:
    """Deliver `bodies`: each one is either in its task's item or in a rejected row."""
    batch = deliver(recorder, bodies)
    for record in batch["Records"]:
        row = rejected_row(dynamodb, table_names, record["messageId"])
        try:
            parsed = parse_task_event(record["body"])
        except InvalidEvent:
            assert row is not None, f"an invalid event was neither rejected nor retried: {record['body'][:200]}"
            event("rejected")
            continue
        item = task_item(dynamodb, table_names, parsed.task.arn)
        recorded = item is not None and parsed.event_id in item.get("eventIds", {}).get("SS", [])
        assert recorded or row is not None, f"a valid event is neither recorded nor rejected: {record['body'][:200]}"
        event("recorded" if recorded else "rejected after parsing")


# -- the cases the issue found -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("detail.createdAt", "9999-12-31T23:59:59-01:00", "createdAt"),
        ("detail.createdAt", "0001-01-01T00:00:00+01:00", "createdAt"),
        ("time", "9999-12-31T23:59:59-01:00", "time"),
        ("detail.createdAt", "0999-01-01T00:00:00Z", "createdAt"),
        ("detail.deviceArn", "arn:aws:braket:::device/qpu/x/" + "y" * 3000, "deviceArn"),
        ("detail.quantumTaskArn", task_arn(PARAMETER_ID) + "\n", "quantumTaskArn"),
    ],
)
def test_poison_goes_to_the_rejected_table_not_to_the_dead_letter_queue(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str], *, path: str, value: str, reason: str
) -> None:
    body = state_change(task_arn(), "COMPLETED", "2026-11-20T08:00:05Z")
    target = body
    *parents, name = path.split(".")
    for parent in parents:
        target = target[parent]
    target[name] = value

    event = deliver(recorder, [json.dumps(body)])

    row = rejected_row(dynamodb, table_names, event["Records"][0]["messageId"])
    assert row is not None and reason in row["reason"]
    assert task_item(dynamodb, table_names, body["detail"]["quantumTaskArn"].strip()) is None


def test_a_multibyte_body_over_400_kb_is_kept_cut_in_bytes(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    body = json.dumps({"detail": "\u20ac" * 200_000}, ensure_ascii=False)  # 200,000 characters, 600,000 bytes

    event = deliver(recorder, [body])

    row = rejected_row(dynamodb, table_names, event["Records"][0]["messageId"])
    assert row is not None and row["bodyTruncated"] is True
    assert 299_997 <= len(row["body"].encode()) <= 300_000
    assert body.startswith(row["body"])


def test_a_run_that_seems_to_end_before_it_started_runs_for_zero_seconds(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    """RUNNING at +5 s, then COMPLETED ending at +2 s, in order (the one-write path): not -3 s."""
    arn = task_arn()
    created = "2026-11-20T08:00:00.000Z"
    events = [
        state_change(arn, "CREATED", "2026-11-20T08:00:00Z", created_at=created),
        state_change(arn, "RUNNING", "2026-11-20T08:00:05Z", created_at=created),
        state_change(arn, "COMPLETED", "2026-11-20T08:00:06Z", created_at=created, ended_at="2026-11-20T08:00:02Z"),
    ]

    deliver(recorder, [json.dumps(e) for e in events])

    item = task_item(dynamodb, table_names, arn)
    assert item is not None
    assert (Decimal(item["queueSeconds"]["N"]), Decimal(item["runSeconds"]["N"])) == (2, 0)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_one_event_id_with_two_bodies_is_merged_whichever_comes_first(
    recorder: Recorder,
    dynamodb: Any,
    table_names: dict[str, str],
    *,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    order: tuple[int, int],
) -> None:
    arn, event_id = task_arn(), str(uuid.uuid4())
    bodies = [
        state_change(arn, "QUEUED", "2026-11-20T08:00:02Z", event_id=event_id),
        state_change(arn, "RUNNING", "2026-11-20T08:00:03Z", event_id=event_id),
    ]
    deliver(recorder, [json.dumps(state_change(arn, "CREATED", "2026-11-20T08:00:01Z"))])

    for index in order:
        deliver(recorder, [json.dumps(bodies[index])])

    item = task_item(dynamodb, table_names, arn)
    assert item is not None
    assert item["status"] == {"S": "RUNNING"}
    assert set(item["statusTimes"]["M"]) == {"CREATED", "QUEUED", "RUNNING"}
    assert item["eventCount"] == {"N": "2"}
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert any(m.get("ConflictingEvents") == [1.0] for m in metrics)
    warnings = [r for r in caplog.records if "different body" in r.getMessage()]
    assert [getattr(r, "event_id", None) for r in warnings] == [event_id]


def test_a_task_with_too_many_events_rejects_the_extra_ones(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str]
) -> None:
    arn = task_arn()
    events = [state_change(arn, "QUEUED", "2026-11-20T08:00:02Z") for _ in range(MAX_EVENTS_PER_TASK + 1)]

    batches = [deliver(recorder, [json.dumps(e) for e in events[i : i + 10]]) for i in range(0, len(events), 10)]

    item = task_item(dynamodb, table_names, arn)
    assert item is not None and item["eventCount"] == {"N": str(MAX_EVENTS_PER_TASK)}
    row = rejected_row(dynamodb, table_names, batches[-1]["Records"][-1]["messageId"])
    assert row is not None and "too many" in row["reason"]


# -- hypothesis: arbitrary input through the handler ------------------------------------------------

FIXTURES = all_fixture_events()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
ADVERSARIAL_STRINGS = [
    "",
    "\n",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "0999-01-01T00:00:00Z",
    "2026-11-20T08:00:00",
    "2090-01-01T00:00:00Z",
    "COMPLETED\n",
    "\u0661\u0662\u0663",
    "\x00",
    "\u20ac" * 700,
    "y" * 3000,
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


STATUSES = ["CREATED", "QUEUED", "RUNNING", "CANCELLING", "COMPLETED", "FAILED", "CANCELLED"]
valid_times = st.datetimes(
    min_value=datetime(2019, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC)
).map(lambda t: t.isoformat())


@st.composite
def mutated_fixture(draw: st.DrawFn) -> str:
    """A real fixture for a fresh task, with none to three of its values changed, removed or mangled:
    some changes keep it valid (another status, time or shot count), most do not."""
    event = copy.deepcopy(draw(st.sampled_from(FIXTURES)))
    old_id = event["detail"]["quantumTaskArn"].rsplit("/", 1)[-1]
    event = json.loads(json.dumps(event).replace(old_id, str(uuid.uuid4())))
    event["id"] = str(uuid.uuid4())
    for _ in range(draw(st.integers(0, 3))):
        *parents, last = draw(st.sampled_from(_paths(event)))
        target = event
        for part in parents:
            target = target[part]
        current = target[last]
        mutation = draw(
            st.sampled_from(["valid", "valid", "valid", "delete", "json", "adversarial", "suffix", "repeat", "type"])
        )
        if mutation == "valid" and isinstance(target, dict) and "detail" in event and isinstance(event["detail"], dict):
            name = draw(st.sampled_from(["status", "createdAt", "endedAt", "shots", "time", "outputS3Directory"]))
            holder = event if name == "time" else event["detail"]
            holder[name] = draw(
                {
                    "status": st.sampled_from(STATUSES),
                    "shots": st.integers(0, 10**6).map(str),
                    "outputS3Directory": st.text(min_size=1, max_size=30).filter(
                        lambda t: all(ord(c) >= 0x20 and not 0xD800 <= ord(c) <= 0xDFFF for c in t)
                    ),
                }.get(name, valid_times)
            )
        elif mutation == "delete" and isinstance(target, dict):
            del target[last]
        elif mutation == "json":
            target[last] = draw(json_values)
        elif mutation == "adversarial":
            target[last] = draw(st.sampled_from(ADVERSARIAL_STRINGS))
        elif mutation == "suffix" and isinstance(current, str):
            target[last] = current + draw(st.sampled_from(["\n", " ", "\u00e9", "Z", "+25:00", "\x7f"]))
        elif mutation == "repeat" and isinstance(current, str):
            target[last] = current * draw(st.integers(2, 400))
        elif mutation == "type":
            target[last] = draw(st.sampled_from([1, -1, 10**30, 1.5, True, None, [], {}]))
    return json.dumps(event, ensure_ascii=draw(st.booleans()))


bodies = st.lists(
    st.one_of(mutated_fixture(), mutated_fixture(), json_values.map(json.dumps), st.text(min_size=1, max_size=50)),
    min_size=1,
    max_size=3,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=bodies)
def test_any_message_ends_recorded_or_rejected(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str], batch: list[str]
) -> None:
    assert_settled(recorder, dynamodb, table_names, batch)


RETRIED = ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize("code", RETRIED)
def test_throttling_and_outages_are_still_retried_not_rejected(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str], code: str
) -> None:
    """A batch whose every message failed fails the invocation: SQS redelivers all of it."""
    client = recorder.module.recorder.table._client
    event = sqs_batch([json.dumps(state_change(task_arn(), "CREATED", "2026-11-20T08:00:01Z"))])
    with Stubber(client) as stub, pytest.raises(BatchProcessingError, match="All records failed"):
        stub.add_client_error("put_item", code, "try again", 500 if code == "InternalServerError" else 400)
        recorder.module.lambda_handler(event, FakeLambdaContext())

    assert rejected_row(dynamodb, table_names, event["Records"][0]["messageId"]) is None

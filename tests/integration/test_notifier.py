"""The notifier against moto server: the task table's stream in, one SNS message per task end out,
received through real SNS -> SQS subscriptions with filter policies."""

from __future__ import annotations

import importlib
import itertools
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from tests.integration.conftest import Recorder
from tests.integration.test_recorder_properties import as_eventbridge, fresh_task
from tests.support.app import SynthesizedApp
from tests.support.events import state_change, task_arn
from tests.support.failures import missing_resource
from tests.support.lambda_context import FakeLambdaContext
from tests.support.strategies import deliveries, task_events
from tests.support.streams import FilteredStream
from tracker.domain import Status, TaskEvent, normalize_time, parse_time
from tracker.logic.merge import fold
from tracker.logic.notification import notification_id

pytestmark = pytest.mark.integration
FINISHED = {"COMPLETED", "FAILED", "CANCELLED"}


@pytest.fixture(scope="session")
def topic_arn(moto_endpoint: str) -> str:
    return boto3.client("sns").create_topic(Name=f"notifications-{uuid.uuid4().hex[:6]}")["TopicArn"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def notifier_module(recorder_module: ModuleType, topic_arn: str) -> ModuleType:
    os.environ["NOTIFICATION_TOPIC_ARN"] = topic_arn
    return importlib.import_module("tracker.notifier.handler")


class Subscriber:
    """An SQS queue subscribed to the topic, as a program subscribes (optionally with a filter policy)."""

    def __init__(self, topic_arn: str, filter_policy: dict[str, Any] | None = None, raw: bool = False) -> None:
        self.sqs, sns = boto3.client("sqs"), boto3.client("sns")
        self.url = self.sqs.create_queue(QueueName=f"subscriber-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = {"RawMessageDelivery": str(raw).lower()}
        if filter_policy:
            attributes["FilterPolicy"] = json.dumps(filter_policy)
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)

    def drain(self) -> list[dict[str, Any]]:
        received = []
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return received


@pytest.fixture
def stream(table_names: dict[str, str], synthesized: SynthesizedApp, recorder_module: ModuleType) -> FilteredStream:
    return FilteredStream(table_names["taskArn"], synthesized, "Notifier")


@pytest.fixture
def everything(topic_arn: str) -> Iterator[Subscriber]:
    subscriber = Subscriber(topic_arn)
    yield subscriber


def notify(notifier_module: ModuleType, records: list[dict[str, Any]]) -> dict[str, Any]:
    return notifier_module.lambda_handler({"Records": records}, FakeLambdaContext())  # type: ignore[no-any-return]


def lifecycle(arn: str, end: str = "COMPLETED") -> list[str]:
    return [
        json.dumps(state_change(arn, "CREATED", "2026-11-20T08:00:01Z")),
        json.dumps(state_change(arn, "QUEUED", "2026-11-20T08:00:02Z")),
        json.dumps(state_change(arn, "RUNNING", "2026-11-20T08:00:05Z")),
        json.dumps(state_change(arn, end, "2026-11-20T08:00:09Z", ended_at="2026-11-20T08:00:08.750Z")),
    ]


def test_a_finished_task_is_notified_once_with_its_document(
    recorder: Recorder, notifier_module: ModuleType, stream: FilteredStream, everything: Subscriber
) -> None:
    arn = task_arn()
    recorder.deliver(lifecycle(arn))

    records = stream.records({arn})
    # The move into COMPLETED, then Braket's details added to it (the recorder writes and pushes an end
    # before asking Braket, docs/latency.md): the second is the one announced.
    assert [r["eventName"] for r in records] == ["MODIFY", "MODIFY"]
    assert notify(notifier_module, records) == {"batchItemFailures": []}
    assert notify(notifier_module, records) == {"batchItemFailures": []}  # a retry of the same batch

    (message,) = everything.drain()
    document = json.loads(message["Message"])
    assert message["Subject"] == "Braket task COMPLETED: sv1, 1,000 shots, ran 3.8 s"
    assert document["notificationId"] == f"{arn}#COMPLETED"
    assert (document["type"], document["version"], document["status"]) == (
        "braket-task-tracker.task-finished",
        "1",
        "COMPLETED",
    )
    item = recorder.module.recorder.table.get(arn)
    assert item is not None and item.notified_at is not None


def test_filter_policies_choose_what_a_subscriber_receives(
    recorder: Recorder, notifier_module: ModuleType, stream: FilteredStream, topic_arn: str, everything: Subscriber
) -> None:
    failures_only = Subscriber(topic_arn, {"status": ["FAILED"]})
    on_sv1 = Subscriber(topic_arn, {"device": ["sv1"], "region": ["us-west-2"]})
    completed, failed = task_arn(), task_arn(region="us-west-2")
    recorder.deliver(lifecycle(completed) + lifecycle(failed, end="FAILED"))

    notify(notifier_module, stream.records({completed, failed}))

    assert [json.loads(m["Message"])["taskArn"] for m in failures_only.drain()] == [failed]
    assert [json.loads(m["Message"])["taskArn"] for m in on_sv1.drain()] == [failed]
    assert len(everything.drain()) == 2


def test_unfinished_tasks_are_not_notified(
    recorder: Recorder, notifier_module: ModuleType, stream: FilteredStream, everything: Subscriber
) -> None:
    arn = task_arn()
    recorder.deliver(lifecycle(arn)[:3])

    assert stream.records({arn}) == []
    assert everything.drain() == []


def test_a_publish_failure_fails_the_record_for_a_retry_and_nothing_is_marked(
    recorder: Recorder, notifier_module: ModuleType, stream: FilteredStream, everything: Subscriber
) -> None:
    doomed, fine = task_arn(), task_arn()
    recorder.deliver(lifecycle(doomed) + lifecycle(fine))
    records = stream.records({doomed, fine})
    topic = notifier_module.notifier.topic
    missing_topic = topic.topic_arn.rsplit(":", 1)[0] + ":no-such-topic"

    # A real SNS error (NotFound) for the doomed task only.
    with missing_resource(topic, "publish", "topic_arn", missing_topic, lambda n: n.document["taskArn"] == doomed):
        response = notify(notifier_module, records)

    # The doomed task's record that asked for the announcement: the write that added Braket's details.
    failed = [r for r in records if r["dynamodb"]["Keys"]["taskArn"]["S"] == doomed][-1]
    assert response == {"batchItemFailures": [{"itemIdentifier": failed["dynamodb"]["SequenceNumber"]}]}
    doomed_item, fine_item = (recorder.module.recorder.table.get(arn) for arn in (doomed, fine))
    assert doomed_item is not None and doomed_item.notified_at is None
    assert fine_item is not None and fine_item.notified_at is not None
    assert [json.loads(m["Message"])["taskArn"] for m in everything.drain()] == [fine]


@dataclass
class Pipeline:
    recorder: Recorder
    notifier: ModuleType
    stream: FilteredStream
    subscriber: Subscriber


@pytest.fixture
def pipeline(
    recorder: Recorder, notifier_module: ModuleType, stream: FilteredStream, everything: Subscriber
) -> Pipeline:
    return Pipeline(recorder, notifier_module, stream, everything)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), generated=task_events())
def test_exactly_one_message_per_finished_task_and_none_for_unfinished(
    pipeline: Pipeline, data: st.DataObject, generated: list[TaskEvent]
) -> None:
    events = fresh_task(generated)
    arn = events[0].task.arn
    tail = pipeline.stream.tail()  # this example's records, not the stream's whole past (it grows each example)
    for event in data.draw(deliveries(events)):
        pipeline.recorder.deliver([as_eventbridge(event)])
    records = tail.records({arn})

    # The mapping may deliver a batch more than once (retries, bisection): deliver it twice.
    # (Lambda never invokes with an empty batch: every record may have been filtered out.)
    for _ in range(2 if records else 0):
        notify(pipeline.notifier, records)

    received = [json.loads(m["Message"]) for m in pipeline.subscriber.drain()]
    final = fold(events)
    assert final is not None
    if final.status.value in FINISHED:
        assert [r["notificationId"] for r in received] == [notification_id(final)]
    else:
        assert received == []


def test_a_late_event_after_the_notification_keeps_the_mark(
    recorder: Recorder, notifier_module: ModuleType, stream: FilteredStream, everything: Subscriber
) -> None:
    arn = task_arn()
    created, queued, running, completed = lifecycle(arn)
    recorder.deliver([created, running, completed])
    notify(notifier_module, stream.records({arn}))
    marked = recorder.module.recorder.table.get(arn)
    assert marked is not None and marked.notified_at is not None

    recorder.deliver([queued])  # late: merged into the finished item

    item = recorder.module.recorder.table.get(arn)
    assert item is not None
    assert item.event_count == 4
    assert item.notified_at == marked.notified_at
    raw = boto3.client("dynamodb").get_item(
        TableName=recorder.module.recorder.table.table_name, Key={"taskArn": {"S": arn}}, ConsistentRead=True
    )["Item"]
    assert "awaitingNotification" not in raw
    assert len(everything.drain()) == 1


def test_a_mark_that_fails_after_the_publish_does_not_send_again(
    recorder: Recorder, notifier_module: ModuleType, stream: FilteredStream, everything: Subscriber
) -> None:
    arn = task_arn()
    recorder.deliver(lifecycle(arn))
    records = stream.records({arn})
    table = notifier_module.notifier.table

    # A real DynamoDB error after a real publish.
    with missing_resource(table, "mark_announced", "table_name", "no-such-table"):
        response = notify(notifier_module, records)

    assert response == {"batchItemFailures": []}  # no retry, so no second message
    assert len(everything.drain()) == 1
    item = recorder.module.recorder.table.get(arn)
    assert item is not None and item.notified_at is None  # left for reconciliation


# --- corrections (issue 14): a finished status that changes is announced once more, as a correction ---


def test_a_completed_task_that_failed_earlier_is_corrected_once(
    recorder: Recorder, notifier_module: ModuleType, stream: FilteredStream, everything: Subscriber
) -> None:
    arn = task_arn()
    recorder.deliver(lifecycle(arn))
    notify(notifier_module, stream.records({arn}))
    failed_earlier = json.dumps(
        state_change(arn, "FAILED", "2026-11-20T08:00:07Z", ended_at="2026-11-20T08:00:06.500Z")
    )

    recorder.deliver([failed_earlier])  # the merge rules: the earlier end wins, so the task is FAILED
    records = stream.records({arn})
    notify(notifier_module, records)
    notify(notifier_module, records)  # a retried batch
    recorder.deliver([failed_earlier, json.dumps(state_change(arn, "FAILED", "2026-11-20T08:00:07Z"))])
    notify(notifier_module, stream.records({arn}))  # a duplicate, and another FAILED event

    first, correction = (json.loads(m["Message"]) for m in everything.drain())
    assert (first["status"], first["correction"], first["previousStatus"]) == ("COMPLETED", False, None)
    assert (correction["status"], correction["correction"], correction["previousStatus"]) == (
        "FAILED",
        True,
        "COMPLETED",
    )
    assert correction["notificationId"] == f"{arn}#FAILED#2026-11-20T08:00:07.000Z"  # the state it announces
    assert correction["runSeconds"] == 1.5  # RUNNING at 08:00:05, the earlier end at 08:00:06.5
    item = recorder.module.recorder.table.get(arn)
    assert item is not None and set(item.announced) == {Status.COMPLETED, Status.FAILED}
    raw = boto3.client("dynamodb").get_item(
        TableName=recorder.module.recorder.table.table_name, Key={"taskArn": {"S": arn}}, ConsistentRead=True
    )["Item"]
    assert "awaitingNotification" not in raw


def test_a_final_status_that_returns_to_one_announced_before_is_corrected_again(
    recorder: Recorder, notifier_module: ModuleType, stream: FilteredStream, everything: Subscriber
) -> None:
    """COMPLETED, then FAILED with an earlier time, then COMPLETED with an even earlier one: the table
    ends COMPLETED, and so does the topic, with three messages that each went out once."""
    arn = task_arn()
    recorder.deliver(lifecycle(arn))  # COMPLETED at 08:00:09
    notify(notifier_module, stream.records({arn}))
    recorder.deliver([json.dumps(state_change(arn, "FAILED", "2026-11-20T08:00:07Z"))])
    notify(notifier_module, stream.records({arn}))
    recorder.deliver([json.dumps(state_change(arn, "COMPLETED", "2026-11-20T08:00:06Z", event_id="again"))])
    records = stream.records({arn})
    notify(notifier_module, records)
    notify(notifier_module, records)  # a retried batch sends nothing more

    received = [json.loads(m["Message"]) for m in everything.drain()]
    assert [(r["status"], r["previousStatus"]) for r in received] == [
        ("COMPLETED", None),
        ("FAILED", "COMPLETED"),
        ("COMPLETED", "FAILED"),
    ]
    assert [r["notificationId"] for r in received] == [
        f"{arn}#COMPLETED",
        f"{arn}#FAILED#2026-11-20T08:00:07.000Z",
        f"{arn}#COMPLETED#2026-11-20T08:00:06.000Z",
    ]
    item = recorder.module.recorder.table.get(arn)
    assert item is not None and item.status is item.last_announced is Status.COMPLETED


def test_a_correction_is_a_subject_and_an_attribute_subscribers_can_filter_on(
    recorder: Recorder, notifier_module: ModuleType, stream: FilteredStream, topic_arn: str, everything: Subscriber
) -> None:
    corrections = Subscriber(topic_arn, {"previousStatus": [{"exists": True}]})
    arn = task_arn()
    recorder.deliver(lifecycle(arn))
    notify(notifier_module, stream.records({arn}))
    recorder.deliver([json.dumps(state_change(arn, "CANCELLED", "2026-11-20T08:00:06Z"))])
    notify(notifier_module, stream.records({arn}))

    (message,) = corrections.drain()
    assert message["Subject"] == "Correction: Braket task CANCELLED, not COMPLETED: sv1, 1,000 shots, ran 1.5 s"
    assert len(everything.drain()) == 2


def test_an_end_that_changes_while_it_is_announced_is_corrected_at_once(
    recorder: Recorder, notifier_module: ModuleType, everything: Subscriber
) -> None:
    """The recorder writes FAILED between the notifier's read and its mark: the mark is merged into
    the new item, which awaits its correction, and the same call sends it."""
    arn = task_arn()
    recorder.deliver(lifecycle(arn))
    notifier = notifier_module.notifier
    publish = notifier.topic.publish

    def publish_then_fail_earlier(notification: Any) -> str:
        message_id: str = publish(notification)
        if notification.document["status"] == "COMPLETED":
            recorder.deliver([json.dumps(state_change(arn, "FAILED", "2026-11-20T08:00:06Z"))])
        return message_id

    notifier.topic.publish = publish_then_fail_earlier
    try:
        result = notifier.notify(arn)
    finally:
        del notifier.topic.publish

    assert result.sent and result.corrects is Status.COMPLETED
    assert [json.loads(m["Message"])["status"] for m in everything.drain()] == ["COMPLETED", "FAILED"]
    assert notifier.notify(arn).sent is False


@st.composite
def ends_that_disagree(draw: st.DrawFn) -> list[TaskEvent]:
    """A task's events with one or two more ends, of any finished status, at any time."""
    events = draw(task_events())
    base = events[0]
    for index in range(draw(st.integers(1, 2))):
        status = draw(st.sampled_from([Status.COMPLETED, Status.FAILED, Status.CANCELLED]))
        when = normalize_time(parse_time(base.created_at) + timedelta(seconds=draw(st.integers(1, 5000))))
        events.append(replace(base, event_id=f"end-{index}", status=status, time=when, ended_at=when))
    return events


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), generated=ends_that_disagree())
def test_notified_after_every_delivery_the_last_message_is_the_final_status(
    pipeline: Pipeline, data: st.DataObject, generated: list[TaskEvent]
) -> None:
    """The tracker never contradicts itself: every message after the first is a correction of the one
    before, the last one names the task's final status (also when it returned to a status announced
    earlier: three ends reported), and each message went out once (no two share a notification id)."""
    events = fresh_task(generated)
    arn = events[0].task.arn
    tail = pipeline.stream.tail()
    for event in data.draw(deliveries(events)):
        pipeline.recorder.deliver([as_eventbridge(event)])
        if records := tail.records({arn}):
            notify(pipeline.notifier, records)

    received = [json.loads(m["Message"]) for m in pipeline.subscriber.drain()]
    final = fold(events)
    assert final is not None
    statuses = [r["status"] for r in received]
    note_event(f"{len(received)} message(s)")
    ids = [r["notificationId"] for r in received]
    assert len(ids) == len(set(ids))
    assert all(a != b for a, b in itertools.pairwise(statuses))
    assert [r["correction"] for r in received] == [index > 0 for index in range(len(received))]
    assert [r["previousStatus"] for r in received[1:]] == statuses[:-1]
    if final.status.value not in FINISHED:
        assert statuses == []
    else:
        assert statuses[-1] == final.status.value
        if final.status.value in statuses[:-1]:
            note_event("the final status returned to one announced before: announced again")

"""A task submitted to the local Braket service is recorded by the deployed pipeline."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from local.tracker import LocalTracker
from tests.e2e.conftest import FINISHED, REGION, RESULTS_BUCKET, Inbox, read_item, submit, wait_for

pytestmark = pytest.mark.e2e


def test_bell_pair_is_recorded_through_its_whole_lifecycle(tracker: LocalTracker) -> None:
    arn = submit(tracker)

    # The end is written (and pushed) first, Braket's details just after it; an earlier status of the
    # same batch may be written after the end (results never depend on the order): wait for all four.
    item = wait_for(lambda: (i := read_item(tracker, arn)) and "enriched" in i and i["eventCount"] == 4 and i)

    assert item["status"] == "COMPLETED"
    assert set(item["statusTimes"]) == {"CREATED", "QUEUED", "RUNNING", "COMPLETED"}
    assert item["eventCount"] == 4
    assert item["region"] == REGION
    assert item["deviceName"] == "sv1"
    assert item["shots"] == 1000
    assert item["enriched"] is True
    assert item["queueSeconds"] >= 0 and item["runSeconds"] >= 0
    assert "unfinishedRegion" not in item


def test_results_uri_points_at_the_real_results_json(tracker: LocalTracker) -> None:
    arn = submit(tracker)
    item = wait_for(lambda: (i := read_item(tracker, arn)) and i["status"] == "COMPLETED" and i)

    key = item["resultsUri"].removeprefix(f"s3://{RESULTS_BUCKET}/")
    result = json.loads(tracker.client("s3").get_object(Bucket=RESULTS_BUCKET, Key=key)["Body"].read())

    assert result["braketSchemaHeader"]["name"] == "braket.task_result.gate_model_task_result"
    assert result["taskMetadata"]["id"] == arn
    counts = Counter("".join(map(str, shot)) for shot in result["measurements"])
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 1000


def test_a_malformed_braket_event_on_the_bus_lands_in_the_rejected_table(tracker: LocalTracker) -> None:
    detail = {"quantumTaskArn": "not-an-arn", "status": "COMPLETED"}
    tracker.client("events").put_events(
        Entries=[{"Source": "aws.braket", "DetailType": "Braket Task State Change", "Detail": json.dumps(detail)}]
    )
    dynamodb = tracker.client("dynamodb")
    table = tracker.output("RejectedEventsTableName")

    rejected = wait_for(lambda: dynamodb.scan(TableName=table)["Items"], timeout=30)

    assert any("not-an-arn" in item["body"]["S"] and "quantumTaskArn" in item["reason"]["S"] for item in rejected)


def test_events_of_other_sources_are_not_captured(tracker: LocalTracker) -> None:
    sqs = tracker.client("sqs")
    before = sqs.get_queue_attributes(
        QueueUrl=tracker.output("DeadLetterQueueUrl"), AttributeNames=["ApproximateNumberOfMessages"]
    )
    tracker.client("events").put_events(
        Entries=[{"Source": "aws.batch", "DetailType": "Braket Task State Change", "Detail": "{}"}]
    )
    arn = submit(tracker)  # a control that does arrive
    wait_for(lambda: (i := read_item(tracker, arn)) and i["status"] in FINISHED)

    rejected = tracker.client("dynamodb").scan(TableName=tracker.output("RejectedEventsTableName"))["Items"]
    assert not any("aws.batch" in item["body"]["S"] for item in rejected)
    assert before["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_finished_task_sends_one_notification_to_a_subscriber(tracker: LocalTracker) -> None:
    inbox = Inbox(tracker)
    arn = submit(tracker)
    wait_for(lambda: (i := read_item(tracker, arn)) and i.get("notifiedAt"))

    documents = [d for d in inbox.drain() if d["taskArn"] == arn]

    assert [d["notificationId"] for d in documents] == [f"{arn}#COMPLETED"]
    assert documents[0]["resultsUri"] == read_item(tracker, arn)["resultsUri"]  # type: ignore[index]
    assert "awaitingNotification" not in read_item(tracker, arn)  # type: ignore[operator]

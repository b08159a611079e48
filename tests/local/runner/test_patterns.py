"""FilterCriteria on DynamoDB stream records, judged by moto's EventBridge pattern engine.

The golden records are Lambda DynamoDB stream records of the task table (DynamoDB JSON images);
the patterns are the ones a notifier would use: a task that finishes, seen as a MODIFY from an
unfinished status into a finished one, or as an INSERT that is already finished.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.runner.patterns import FilterCriteria

FINISHED = ["COMPLETED", "FAILED", "CANCELLED"]
FINISHES = json.dumps(
    {
        "eventName": ["MODIFY"],
        "dynamodb": {
            "NewImage": {"status": {"S": FINISHED}},
            "OldImage": {"status": {"S": [{"anything-but": FINISHED}]}},
        },
    }
)
INSERTED_FINISHED = json.dumps({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": FINISHED}}}})
ARN = "arn:aws:braket:us-east-1:123456789012:quantum-task/834b21ed-77a7-4b36-a90c-c776afc9a71e"
STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/Tasks/stream/2026-11-24T22:25:38.639"


def image(status: str, events: int) -> dict[str, Any]:
    return {
        "taskArn": {"S": ARN},
        "status": {"S": status},
        "eventCount": {"N": str(events)},
        "statusTimes": {"M": {status: {"S": "2026-11-20T08:00:02.000Z"}}},
    }


def record(name: str, new: str | None, old: str | None) -> dict[str, Any]:
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": 1795559139,
        "Keys": {"taskArn": {"S": ARN}},
        "SequenceNumber": "1100000000017454423009",
        "SizeBytes": 312,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new:
        change["NewImage"] = image(new, 2)
    if old:
        change["OldImage"] = image(old, 1)
    return {
        "eventID": "0a9fd848aac74d79a886a629cc36dd18",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": change,
        "eventSourceARN": STREAM,
    }


@pytest.mark.parametrize(
    ("golden", "finishes", "inserted_finished"),
    [
        (record("MODIFY", "COMPLETED", "RUNNING"), True, False),
        (record("MODIFY", "FAILED", "QUEUED"), True, False),
        (record("MODIFY", "CANCELLED", "CANCELLING"), True, False),
        (record("MODIFY", "COMPLETED", "COMPLETED"), False, False),  # a late event on a finished task
        (record("MODIFY", "RUNNING", "QUEUED"), False, False),
        (record("INSERT", "COMPLETED", None), False, True),  # first seen already finished
        (record("INSERT", "CREATED", None), False, False),
        (record("REMOVE", None, "COMPLETED"), False, False),
    ],
)
def test_golden_stream_records(golden: dict[str, Any], finishes: bool, inserted_finished: bool) -> None:
    assert FilterCriteria([FINISHES]).matches(golden) is finishes
    assert FilterCriteria([INSERTED_FINISHED]).matches(golden) is inserted_finished
    assert FilterCriteria([FINISHES, INSERTED_FINISHED]).matches(golden) is (finishes or inserted_finished)


def test_no_filters_pass_everything() -> None:
    assert FilterCriteria([]).matches(record("REMOVE", None, "COMPLETED"))


def test_the_pattern_reads_dynamodb_json_not_plain_values() -> None:
    plain = json.dumps({"dynamodb": {"NewImage": {"status": FINISHED}}})
    assert not FilterCriteria([plain]).matches(record("INSERT", "COMPLETED", None))


def test_sqs_filters_see_a_json_body_as_json() -> None:
    criteria = FilterCriteria([json.dumps({"body": {"detail": {"status": ["COMPLETED"]}}})])
    base = {"messageId": "m", "eventSource": "aws:sqs"}
    assert criteria.matches_sqs({**base, "body": json.dumps({"detail": {"status": "COMPLETED"}})})
    assert not criteria.matches_sqs({**base, "body": json.dumps({"detail": {"status": "RUNNING"}})})
    assert not criteria.matches_sqs({**base, "body": "not json"})

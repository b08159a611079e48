"""What the parsers accept always fits DynamoDB (issue 14): the largest task item the bounds allow is
below the 400 KB item limit, and its key and index key values below 2,048 bytes (sort keys 1,024).

DynamoDB counts an item as the UTF-8 bytes of its attribute names and values (numbers: up to 21
bytes; maps and lists: 3 bytes plus 1 per element; see the developer guide's "Item sizes").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tracker.constants import TASK_INDEXES
from tracker.data.braket_tasks import (
    MAX_ASSOCIATIONS,
    MAX_DETAIL_BYTES,
    MAX_DEVICE_PARAMETERS_BYTES,
    MAX_TAG_KEY,
    MAX_TAG_VALUE,
    MAX_TAGS,
    QUEUE_INFO_KEYS,
    enrichment_from,
)
from tracker.domain import MAX_EVENTS_PER_TASK, Status, TaskArn, TaskRecord
from tracker.models.event import MAX_EVENT_ID_LENGTH, MAX_S3_DIRECTORY_BYTES
from tracker.models.item import to_item

ITEM_LIMIT = 400 * 1024
WIDE = "\U0001f600"  # four bytes in UTF-8


def size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bool):
        return 1
    if isinstance(value, int | Decimal):
        return 21
    if isinstance(value, dict):
        return 3 + sum(len(k.encode()) + size(v) + 1 for k, v in value.items())
    if isinstance(value, set | frozenset | list | tuple):
        return 3 + sum(size(v) + 1 for v in value)
    raise TypeError(type(value))


def largest_record() -> TaskRecord:
    task = TaskArn.parse("arn:aws-abcdefghijklmno:braket:" + "r" * 32 + ":012345678901:quantum-task/" + "t" * 128)
    braket = enrichment_from(
        {
            "failureReason": WIDE * 5000,
            "jobArn": WIDE * 5000,
            "numSuccessfulShots": 10**9,
            "tags": {f"{i:03d}" + WIDE * (MAX_TAG_KEY - 3): WIDE * MAX_TAG_VALUE for i in range(MAX_TAGS + 10)},
            "deviceParameters": "p" * MAX_DEVICE_PARAMETERS_BYTES,
            "actionMetadata": {"actionType": "a" * 128, "programCount": 2**53 - 1, "executableCount": 2**53 - 1},
            "associations": [
                {"arn": f"arn:aws:braket:{'r' * 32}:012345678901:{i:03d}" + "x" * 897, "type": "T" * 64}
                for i in range(MAX_ASSOCIATIONS + 5)
            ],
        }
    )
    time = "2026-11-20T08:00:00.000Z"
    return TaskRecord(
        task=task,
        device_arn="arn:aws-us-gov-abcdefgh:braket:" + "a" * 32 + "::device/" + "d" * 200,
        shots=10**9,
        output_s3_bucket="b" * 63,
        output_s3_directory=WIDE * (MAX_S3_DIRECTORY_BYTES // 4),
        created_at=time,
        status_times=dict.fromkeys(Status, time),
        last_event_at=time,
        event_ids=frozenset(f"{i:03d}" + "e" * (MAX_EVENT_ID_LENGTH - 3) for i in range(MAX_EVENTS_PER_TASK)),
        ended_at=time,
        enrichment=braket,
        submitter="arn:aws:sts::012345678901:assumed-role/" + "r" * 64 + "/" + "s" * 64,
        notified_at=time,
        notifications=dict.fromkeys((Status.COMPLETED, Status.FAILED, Status.CANCELLED), time),
        checked_at=time,
        queue_info=dict.fromkeys(QUEUE_INFO_KEYS, WIDE * (MAX_DETAIL_BYTES // 4)),  # as BraketSubmissions bounds it
        queue_info_read_at=time,
    )


def test_the_largest_item_the_parsers_allow_is_far_below_400_kb() -> None:
    record = largest_record()
    assert record.enrichment is not None
    assert len(record.enrichment.tags) == MAX_TAGS
    assert len(record.enrichment.failure_reason.encode()) <= MAX_DETAIL_BYTES  # type: ignore[union-attr]
    assert record.enrichment.device_parameters is not None
    assert len(record.enrichment.associations) == MAX_ASSOCIATIONS

    item = to_item(record, promoted_tag_keys=[next(iter(record.enrichment.tags))])

    total = sum(len(name.encode()) + size(value) for name, value in item.items())
    assert total < ITEM_LIMIT / 2, f"{total:,} bytes"


def test_every_key_and_index_key_of_the_largest_item_fits() -> None:
    record = largest_record()
    assert record.enrichment is not None
    promoted = next(iter(record.enrichment.tags))
    item = to_item(record, promoted_tag_keys=[promoted])

    partition_keys = {"taskArn", f"tag:{promoted}"} | {pk for _, pk, _ in TASK_INDEXES}
    sort_keys = {sk for _, _, sk in TASK_INDEXES if sk}
    assert all(len(item[name].encode()) <= 2048 for name in partition_keys if name in item)
    assert all(len(item[name].encode()) <= 1024 for name in sort_keys)
    assert len(("task#" + item["taskArn"]).encode()) <= 1024  # the connections table's sort key

"""The recording invariant end to end: through the handler, against moto server.

Whatever the order, duplication and batching of a task's events, the stored item equals the
item of the pure merge over the set of distinct events.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import DEVICE_PARAMETERS, RESERVATION, Recorder
from tests.support.strategies import deliveries, task_events
from tracker.domain import ActionMetadata, Enrichment, TaskArn, TaskEvent
from tracker.logic.merge import fold
from tracker.models.item import to_item

# What the integration suite's Braket double answers for every task.
DOCUMENTED_ENRICHMENT = Enrichment(
    complete=True,
    tags={"team": "qml"},
    num_successful_shots=1000,
    device_parameters=DEVICE_PARAMETERS,
    action_metadata=ActionMetadata("braket.ir.openqasm.program"),
    associations=({"arn": RESERVATION, "type": "RESERVATION_TIME_WINDOW_ARN"},),
)
_deserialize = TypeDeserializer().deserialize


def as_eventbridge(event: TaskEvent) -> str:
    detail: dict[str, Any] = {
        "quantumTaskArn": event.task.arn,
        "status": event.status.value,
        "deviceArn": event.device_arn,
        "shots": str(event.shots),
        "outputS3Bucket": event.output_s3_bucket,
        "outputS3Directory": event.output_s3_directory,
        "createdAt": event.created_at,
        "eventName": "INSERT" if event.status.value == "CREATED" else "MODIFY",
    }
    if event.ended_at:
        detail["endedAt"] = event.ended_at
    return json.dumps(
        {
            "version": "0",
            "id": event.event_id,
            "detail-type": "Braket Task State Change",
            "source": "aws.braket",
            "account": event.task.account,
            "time": event.time,
            "region": event.task.region,
            "resources": [event.task.arn],
            "detail": detail,
        }
    )


def fresh_task(events: list[TaskEvent]) -> list[TaskEvent]:
    """The same events for a task id never used before (hypothesis may replay an example)."""
    arn = f"arn:aws:braket:{events[0].task.region}:012345678901:quantum-task/{uuid.uuid4()}"
    task = TaskArn.parse(arn)
    return [replace(e, task=task, event_id=f"{task.task_id[:8]}-{e.event_id}") for e in events]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), generated=task_events())
def test_stored_item_is_the_merge_of_the_distinct_events(
    recorder: Recorder, dynamodb: Any, table_names: dict[str, str], data: st.DataObject, generated: list[TaskEvent]
) -> None:
    events = fresh_task(generated)
    delivered = data.draw(deliveries(events))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(delivered) - 1), max_size=3))) if len(delivered) > 1 else []

    for start, end in zip([0, *cuts], [*cuts, len(delivered)], strict=True):
        response = recorder.deliver([as_eventbridge(e) for e in delivered[start:end]])
        assert response == {"batchItemFailures": []}

    expected = fold(sorted(events, key=lambda e: e.event_id), DOCUMENTED_ENRICHMENT)
    assert expected is not None
    item = dynamodb.get_item(
        TableName=table_names["taskArn"], Key={"taskArn": {"S": events[0].task.arn}}, ConsistentRead=True
    )["Item"]
    assert {name: _deserialize(value) for name, value in item.items()} == to_item(expected)

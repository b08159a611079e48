"""GetQuantumTask's shape from the tracker's records, and the board's keeping rule, as properties."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from braket_tracker import quantum_task
from braket_tracker.board import Entry
from braket_tracker.live import FINISHED, RANK
from hypothesis import given
from hypothesis import strategies as st

from tests.client.fakes import item, task_arn

STATUSES = list(RANK)
ACTION = json.dumps({"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": "x"})


def test_a_created_task_is_described_by_its_create_request() -> None:
    arn = task_arn("4c1b")
    at = datetime(2026, 11, 24, 10, tzinfo=UTC)
    params = {
        "deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
        "shots": 10,
        "outputS3Bucket": "amazon-braket-us-east-1-123456789012",
        "outputS3KeyPrefix": "tasks",
        "action": ACTION,
        "deviceParameters": "{}",
        "associations": [{"arn": "arn:aws:braket:us-east-1:123456789012:reservation/r", "type": "RESERVATION"}],
    }

    fields = quantum_task.from_create(arn, params, at)

    assert fields["outputS3Directory"] == "tasks/4c1b"  # where Braket writes results.json
    assert fields["actionMetadata"] == {"actionType": "braket.ir.openqasm.program"}
    assert (fields["createdAt"], fields["tags"], fields["deviceParameters"]) == (at, {}, "{}")
    assert fields["associations"] == params["associations"]
    assert "actionMetadata" not in quantum_task.from_create(arn, {**params, "action": "not json"}, at)


def test_queue_info_is_braket_s_while_queued_and_its_not_queued_answer_otherwise() -> None:
    read = {"queue": "QUANTUM_TASKS_QUEUE", "position": ">2000", "queuePriority": "Normal", "message": None}

    assert quantum_task.queue_info("QUEUED", None, read) == {k: v for k, v in read.items() if v is not None}
    assert quantum_task.queue_info("RUNNING", "arn:aws:braket:us-east-1:1:job/j")["queuePriority"] == "Priority"
    assert quantum_task.queue_info("RUNNING", None)["position"] == "None"  # the SDK reads "None" as None
    assert "position" not in quantum_task.queue_info("QUEUED", None)  # unknown, not made up
    being_read = {"queue": "QUANTUM_TASKS_QUEUE", "message": "The queue position is being read from Braket"}
    assert quantum_task.queue_info("QUEUED", None, being_read)["queuePriority"] == "Normal"  # the SDK reads it


def test_response_metadata_is_botocore_s_shape_with_the_answer_s_date() -> None:
    at = datetime(2026, 11, 24, 10, 0, 5, tzinfo=UTC)

    metadata = quantum_task.response_metadata(at, source="live", headers={"X-Amzn-RequestId": "r-1"})

    assert metadata["RequestId"] == metadata["HTTPHeaders"]["x-amzn-requestid"] == "r-1"
    assert parsedate_to_datetime(metadata["HTTPHeaders"]["date"]) == at
    assert metadata["HTTPHeaders"]["x-braket-tracker-source"] == "live"
    assert all(name == name.lower() for name in metadata["HTTPHeaders"])


optional_fields = st.fixed_dictionaries(
    {},
    optional={
        "endedAt": st.just("2026-11-24T10:00:09.000Z"),
        "failureReason": st.text(max_size=20),
        "numSuccessfulShots": st.integers(0, 100),
        "jobArn": st.just("arn:aws:braket:us-east-1:123456789012:job/j"),
        "queueSeconds": st.floats(0, 100),
        "deviceParameters": st.just("{}"),
        "actionMetadata": st.just({"actionType": "braket.ir.openqasm.program_set", "programCount": 2}),
        "associations": st.just([{"arn": "arn:aws:braket:us-east-1:123456789012:reservation/r", "type": "T"}]),
        "enriched": st.booleans(),
    },
)


@given(status=st.sampled_from(STATUSES), extra=optional_fields)
def test_every_item_field_is_either_braket_s_or_the_tracker_s(status: str, extra: dict[str, object]) -> None:
    recorded = item(task_arn(), status, **extra)

    fields, own = quantum_task.from_tracker(recorded), quantum_task.tracker_fields(recorded)

    assert not set(fields) & set(own)
    assert set(recorded) - {"taskArn"} <= set(fields) | set(own)
    assert all(isinstance(fields[key], datetime) and fields[key].tzinfo for key in quantum_task.TIMES if key in fields)
    assert set(quantum_task.REQUIRED) <= set(fields)


@given(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=8), st.randoms())
def test_the_board_keeps_the_highest_status_whatever_the_order(statuses: list[str], random: object) -> None:
    ends = {status for status in statuses if status in FINISHED}
    shuffled = list(statuses)
    random.shuffle(shuffled)  # type: ignore[attr-defined]

    kept = []
    for order in (statuses, shuffled):
        entry = Entry({}, "CREATED", "session", 0.0)
        for status in order:
            entry.merge({}, status, "live")
        kept.append(entry.status)

    if len(ends) <= 1:  # one end, or none: the order does not matter
        assert kept[0] == kept[1] == max(statuses, key=RANK.__getitem__)
    else:  # two different ends cannot happen in Braket; the first one seen is final
        assert kept[0] == next(status for status in statuses if status in FINISHED)

"""The notification of a task's end: subject, text, versioned document and filterable attributes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.support.events import load_fixture, state_change, task_arn
from tracker.config import ConfigError, NotifierConfig
from tracker.domain import ActionMetadata, Enrichment, Status, TaskRecord
from tracker.logic.merge import fold
from tracker.logic.notification import MAX_ATTRIBUTES, SUBJECT_LIMIT, build
from tracker.models.event import parse_task_event
from tracker.models.item import awaits_notification, to_item

ARN = task_arn("a3e1f6d2-7c44-4f0b-8b1e-3d5c9e2f7a41", region="eu-north-1")


def finished(end: str = "COMPLETED", enrichment: Enrichment | None = None, shots: str = "1000") -> TaskRecord:
    events = [
        state_change(ARN, "CREATED", "2026-11-20T08:00:01Z", shots=shots),
        state_change(ARN, "RUNNING", "2026-11-20T08:00:04Z", shots=shots),
        state_change(ARN, end, "2026-11-20T08:00:07Z", shots=shots, ended_at="2026-11-20T08:00:06.100Z"),
    ]
    record = fold([parse_task_event(e) for e in events], enrichment or Enrichment(complete=True))
    assert record is not None
    return record


def test_subject_reads_well_in_an_inbox() -> None:
    assert build(finished()).subject == "Braket task COMPLETED: sv1, 1,000 shots, ran 2.1 s"


def test_subject_of_a_failure_without_a_run_gives_the_reason_and_stays_within_the_limit() -> None:
    event = parse_task_event(load_fixture("task-state-change-failed.json"))
    record = fold([event], Enrichment(complete=True, failure_reason="x" * 300))
    assert record is not None

    subject = build(record).subject

    assert subject.startswith("Braket task FAILED: dm1, 0 shots, xxx")
    assert len(subject) == SUBJECT_LIMIT and subject.endswith("...")


def test_text_body_has_what_a_person_needs() -> None:
    text = build(finished("FAILED", Enrichment(complete=True, failure_reason="Device error"))).text

    for expected in (
        ARN,
        "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
        "Shots:       1,000",
        "Created:     2026-11-20T08:00:00.250Z",
        "Ended:       2026-11-20T08:00:06.100Z",
        "Queued for:  3.8 s",
        "Ran for:     2.1 s",
        "Failure:     Device error",
        "https://eu-north-1.console.aws.amazon.com/braket/home?region=eu-north-1#/tasks/arn%3Aaws%3Abraket",
        f"Notification id: {ARN}#FAILED",
    ):
        assert expected in text
    assert "results.json" not in text  # a failed task has no results


def test_completed_text_links_the_results() -> None:
    assert (
        f"s3://amazon-braket-eu-north-1-012345678901/tasks/{ARN.rsplit('/', 1)[1]}/results.json"
        in build(finished()).text
    )


def test_document_is_versioned_and_carries_every_attribute() -> None:
    record = replace(
        finished(enrichment=Enrichment(complete=True, tags={"team": "qml"})), submitter="arn:aws:iam::1:user/a"
    )

    document = build(record).document

    assert (document["type"], document["version"]) == ("braket-task-tracker.task-finished", "1")
    assert document["notificationId"] == f"{ARN}#COMPLETED"
    assert (document["status"], document["region"], document["deviceName"]) == ("COMPLETED", "eu-north-1", "sv1")
    assert (document["tags"], document["submitter"], document["runSeconds"]) == (
        {"team": "qml"},
        "arn:aws:iam::1:user/a",
        2.1,
    )


def test_per_protocol_message_gives_email_text_and_programs_the_document() -> None:
    notification = build(finished())

    message = json.loads(notification.message())

    assert message["email"] == notification.text
    for protocol in ("default", "sqs", "lambda", "https", "email-json"):
        assert json.loads(message[protocol]) == notification.document


def test_attributes_fit_sns_limits_and_carry_tags_as_one_string_array() -> None:
    tags = {f"k{i}": f"v{i}" for i in range(30)}
    record = replace(finished(enrichment=Enrichment(complete=True, tags=tags)), submitter="alice")

    attributes = build(record).attributes

    assert len(attributes) <= MAX_ATTRIBUTES
    assert attributes["status"] == {"DataType": "String", "StringValue": "COMPLETED"}
    assert attributes["device"]["StringValue"] == "sv1"
    assert attributes["region"]["StringValue"] == "eu-north-1"
    assert attributes["submitter"]["StringValue"] == "alice"
    assert attributes["tags"]["DataType"] == "String.Array"
    assert "k0=v0" in json.loads(attributes["tags"]["StringValue"])
    assert all(value["StringValue"] for value in attributes.values())  # SNS refuses empty values


def test_attributes_leave_out_what_is_unknown() -> None:
    attributes = build(finished()).attributes

    assert "submitter" not in attributes and "tags" not in attributes


def test_an_unfinished_task_has_no_notification() -> None:
    record = fold([parse_task_event(state_change(ARN, "QUEUED", "2026-11-20T08:00:01Z"))])
    assert record is not None

    with pytest.raises(ValueError, match="has not finished"):
        build(record)


def test_notifier_config_names_what_is_missing_or_wrong() -> None:
    with pytest.raises(ConfigError, match="NOTIFICATION_TOPIC_ARN"):
        NotifierConfig.from_env({"TASK_TABLE_NAME": "t"})
    with pytest.raises(ConfigError, match="must be a topic ARN"):
        NotifierConfig.from_env({"TASK_TABLE_NAME": "t", "NOTIFICATION_TOPIC_ARN": "topic"})


def test_subject_is_printable_ascii_whatever_the_failure_reason() -> None:
    reason = "Program rejected: gate \u2018rx\u2019 unsupported on Forte-1\x07\nsee d\u00e9tails"
    record = finished("FAILED", Enrichment(complete=True, failure_reason=reason))
    record = replace(record, status_times={k: v for k, v in record.status_times.items() if k.value != "RUNNING"})

    subject = build(record).subject

    assert (
        subject == "Braket task FAILED: sv1, 1,000 shots, Program rejected: gate rx unsupported on Forte-1 see details"
    )
    assert all(" " <= c < "\x7f" for c in subject) and len(subject) < 100


# -- corrections (issue 14) ----------------------------------------------------------------------------


def corrected() -> TaskRecord:
    """COMPLETED, then FAILED with an earlier end: the merge rules make it FAILED."""
    failed = state_change(ARN, "FAILED", "2026-11-20T08:00:06Z", ended_at="2026-11-20T08:00:05.500Z")
    record = fold([parse_task_event(failed)], Enrichment(complete=True, failure_reason="Device error"))
    assert record is not None
    base = finished()
    return replace(
        base,
        status_times={**base.status_times, **record.status_times},
        ended_at="2026-11-20T08:00:05.500Z",
        notifications={Status.COMPLETED: "2026-11-20T08:00:08.000Z"},
        notified_at="2026-11-20T08:00:08.000Z",
    )


def test_a_correction_says_so_and_names_the_status_it_corrects() -> None:
    record = corrected()
    assert (record.status, record.last_announced) == (Status.FAILED, Status.COMPLETED)

    notification = build(record, record.last_announced)

    assert notification.subject == "Correction: Braket task FAILED, not COMPLETED: sv1, 1,000 shots, ran 1.5 s"
    assert notification.text.startswith("Correction: your Amazon Braket quantum task failed.\nAn earlier message")
    assert notification.notification_id == f"{ARN}#FAILED#2026-11-20T08:00:06.000Z"  # the state it announces
    assert (notification.document["correction"], notification.document["previousStatus"]) == (True, "COMPLETED")
    assert notification.attributes["previousStatus"] == {"DataType": "String", "StringValue": "COMPLETED"}
    assert len(notification.attributes) <= MAX_ATTRIBUTES


def test_a_first_end_is_not_a_correction() -> None:
    notification = build(finished())

    assert (notification.document["correction"], notification.document["previousStatus"]) == (False, None)
    assert "previousStatus" not in notification.attributes
    assert not notification.subject.startswith("Correction")


def test_an_item_notified_before_corrections_existed_announced_its_status() -> None:
    legacy = replace(finished(), notified_at="2026-11-20T08:00:08.000Z")

    assert legacy.announced == {Status.COMPLETED: "2026-11-20T08:00:08.000Z"}
    assert not awaits_notification(legacy)
    assert awaits_notification(replace(corrected(), notifications={}, notified_at=legacy.notified_at)) is False


def test_a_changed_final_status_awaits_its_announcement_again() -> None:
    record = corrected()

    assert awaits_notification(record)
    assert to_item(record)["awaitingNotification"] == "eu-north-1"
    assert not awaits_notification(replace(record, notifications={**record.notifications, Status.FAILED: "x"}))
    silent = replace(record, origin="backfill", notifications={}, notified_at=None)
    assert not awaits_notification(silent)  # a backfilled task is silent unless it was announced


def test_the_document_has_what_the_sdk_reads_at_an_end_but_not_the_device_parameters() -> None:
    reservation = "arn:aws:braket:eu-north-1:012345678901:reservation/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    enrichment = Enrichment(
        complete=True,
        device_parameters="{" + '"x": 1,' * 6000 + '"y": 2}',
        action_metadata=ActionMetadata("braket.ir.openqasm.program"),
        associations=({"arn": reservation, "type": "RESERVATION_TIME_WINDOW_ARN"},),
    )

    document = build(finished("FAILED", enrichment)).document
    plain = build(finished()).document

    assert document["actionMetadata"] == {"actionType": "braket.ir.openqasm.program"}
    assert document["associations"] == [{"arn": reservation, "type": "RESERVATION_TIME_WINDOW_ARN"}]
    assert "deviceParameters" not in document
    assert (plain["actionMetadata"], plain["associations"]) == (None, None)

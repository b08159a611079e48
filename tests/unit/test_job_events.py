"""The job state change parser: strict about what is relied on, keeping what it does not know."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.events import all_fixture_events, job_arn, job_state_change, load_fixture, state_change, task_arn
from tracker.job_domain import JobStatus
from tracker.models.event import InvalidEvent
from tracker.models.job_event import MAX_DETAIL_BYTES, is_job_event, parse_job_event

NOW = datetime(2026, 11, 21, tzinfo=UTC)
JOBS = all_fixture_events("Braket Job State Change")
UNKNOWN_FIELD = load_fixture("job-lifecycle-unknown-field.json")


def test_the_fixtures_hold_a_job_lifecycle_and_no_task_fixture_is_a_job() -> None:
    assert [e["detail"]["status"] for e in UNKNOWN_FIELD] == ["QUEUED", "RUNNING", "COMPLETED"]
    assert all(e["detail-type"] == "Braket Task State Change" for e in all_fixture_events())


@pytest.mark.parametrize("event", JOBS, ids=lambda e: f"{e['detail']['status']}-{e['id'][-4:]}")
def test_every_job_fixture_parses_from_json_text(event: dict[str, Any]) -> None:
    parsed = parse_job_event(json.dumps(event), NOW)

    assert parsed.event_id == event["id"]
    assert parsed.job.arn == event["detail"]["jobArn"]
    assert parsed.job.job_id == event["detail"]["jobArn"].rsplit("/", 1)[-1]
    assert parsed.status is JobStatus(event["detail"]["status"])
    assert parsed.started_at == event["detail"].get("startedAt")


def test_unknown_fields_are_kept_as_canonical_json_and_hints_are_read() -> None:
    parsed = parse_job_event(UNKNOWN_FIELD[2], NOW)

    assert parsed.unknown == {"jobName": '"vqe-h2-bond-0-74"'}
    assert parsed.ended_at == "2026-11-20T09:06:11.873Z"


def test_a_hint_that_is_not_a_time_is_kept_as_sent_not_refused() -> None:
    event = job_state_change(job_arn(), "RUNNING", "2026-11-20T09:00:41Z", started_at="yesterday")

    parsed = parse_job_event(event, NOW)

    assert parsed.started_at is None
    assert parsed.unknown == {"startedAt": '"yesterday"'}


def test_ended_at_is_ignored_on_an_unfinished_status() -> None:
    event = job_state_change(job_arn(), "RUNNING", "2026-11-20T09:00:41Z", endedAt="2026-11-20T09:00:41.000Z")

    assert parse_job_event(event, NOW).ended_at is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: e["detail"].update(status="SUCCEEDED"), "not one of"),
        (lambda e: e["detail"].update(status="COMPLETED\n"), "not one of"),
        (lambda e: e["detail"].pop("status"), "not one of"),
        (lambda e: e["detail"].update(jobArn=task_arn()), "not a Braket job ARN"),
        (lambda e: e["detail"].update(jobArn=e["detail"]["jobArn"] + "\n"), "not a Braket job ARN"),
        (lambda e: e["detail"].update(jobArn=e["detail"]["jobArn"][:-36] + "x" * 65), "not a Braket job ARN"),
        (lambda e: e["detail"].update(jobArn=7), "jobArn"),
        (lambda e: e.update(time="2090-01-01T00:00:00Z"), "outside"),
        (lambda e: e.update(time="0999-01-01T00:00:00Z"), "time"),
        (lambda e: e.update(id="an id with spaces"), "event id"),
        (lambda e: e.update(source="aws.batch"), "source"),
        (lambda e: e.update(detail=[]), "detail"),
        (lambda e: e["detail"].update(huge="x" * MAX_DETAIL_BYTES), "bytes"),
        (lambda e: e["detail"].update({f"field{i}": i for i in range(40)}), "at most"),
        (lambda e: e["detail"].update(big="y" * 9000), "unknown fields take"),
        (lambda e: e["detail"].update({"\ud800": 1}), "field name"),
    ],
)
def test_what_is_relied_on_is_strict(change: Any, reason: str) -> None:
    event = job_state_change(job_arn(), "COMPLETED", "2026-11-20T09:06:12Z")
    change(event)

    with pytest.raises(InvalidEvent, match=reason):
        parse_job_event(event, NOW)
    with pytest.raises(InvalidEvent):
        parse_job_event(json.dumps(event), NOW)


def test_is_job_event_dispatches_on_the_detail_type_only() -> None:
    assert is_job_event(json.dumps(UNKNOWN_FIELD[0]))
    assert not is_job_event(json.dumps(state_change(task_arn(), "QUEUED", "2026-11-20T08:00:00Z")))
    task_naming_jobs = state_change(task_arn(), "QUEUED", "2026-11-20T08:00:00Z")
    task_naming_jobs["detail"]["note"] = "Braket Job State Change"
    assert not is_job_event(json.dumps(task_naming_jobs))
    assert not is_job_event('"Braket Job State Change"')
    assert not is_job_event("[" * 100_000 + "Braket Job State Change")

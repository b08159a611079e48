"""Reconciliation's pure parts: an API observation as an event, the back-off, the sweep window, and
the rate limiter (with a fake clock: no timed tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.strategies import deliveries, task_events
from tracker.data.braket_api import RateLimiter
from tracker.domain import Status, TaskEvent
from tracker.logic.merge import fold, merge
from tracker.logic.reconcile import (
    MAX_CHECK_INTERVAL,
    InvalidObservation,
    check_due,
    is_news,
    observed_event,
    sweep_window,
)
from tracker.models.item import to_item

ARN = "arn:aws:braket:eu-north-1:012345678901:quantum-task/5a9c3e2f-0d7e-4a53-9f6a-3f0b8d2c1e77"
NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


def answer(status: str, **overrides: Any) -> dict[str, Any]:
    """A GetQuantumTask response as boto3 returns it (times are datetimes, shots an int)."""
    response: dict[str, Any] = {
        "quantumTaskArn": ARN,
        "status": status,
        "deviceArn": "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet",
        "shots": 100,
        "outputS3Bucket": "amazon-braket-eu-north-1-012345678901",
        "outputS3Directory": "tasks/5a9c3e2f-0d7e-4a53-9f6a-3f0b8d2c1e77",
        "createdAt": datetime(2026, 11, 24, 9, 0, 0, 123000, tzinfo=UTC),
    }
    if status in ("COMPLETED", "FAILED", "CANCELLED"):
        response["endedAt"] = datetime(2026, 11, 24, 11, 0, 5, 456000, tzinfo=UTC)
    return response | overrides


def test_a_finished_status_is_an_event_at_the_tasks_end() -> None:
    event = observed_event(answer("COMPLETED"), NOW, "reconciler")
    assert event.event_id == "braket-api:COMPLETED"
    assert event.time == event.ended_at == "2026-11-24T11:00:05.456Z"
    assert event.created_at == "2026-11-24T09:00:00.123Z"
    assert event.task.region == "eu-north-1"  # from the ARN
    assert (event.status, event.shots, event.origin) == (Status.COMPLETED, 100, "reconciler")


def test_created_is_at_creation_and_other_statuses_when_seen() -> None:
    assert observed_event(answer("CREATED"), NOW, "backfill").time == "2026-11-24T09:00:00.123Z"
    running = observed_event(answer("RUNNING"), NOW, "reconciler")
    assert (running.time, running.ended_at) == ("2026-11-24T12:00:00.000Z", None)
    # Never before createdAt, whatever the observer's clock says.
    early = observed_event(answer("QUEUED"), NOW - timedelta(days=1), "reconciler")
    assert early.time == "2026-11-24T09:00:00.123Z"


def test_a_summary_without_an_end_time_is_still_finished_when_seen() -> None:
    summary = answer("FAILED")
    del summary["endedAt"]
    event = observed_event(summary, NOW, "backfill")
    assert (event.time, event.ended_at) == ("2026-11-24T12:00:00.000Z", None)


@pytest.mark.parametrize(
    "broken",
    [{"status": "LOST"}, {"quantumTaskArn": "arn:aws:s3:::bucket"}, {"shots": None}, {"createdAt": "yesterday"}],
)
def test_an_unusable_answer_is_an_invalid_observation(broken: dict[str, Any]) -> None:
    with pytest.raises(InvalidObservation):
        observed_event(answer("RUNNING") | broken, NOW, "reconciler")


def test_only_news_is_written() -> None:
    assert is_news(None, Status.CREATED)
    assert is_news(Status.QUEUED, Status.RUNNING)
    assert is_news(Status.RUNNING, Status.COMPLETED)
    assert not is_news(Status.RUNNING, Status.RUNNING)
    assert not is_news(Status.RUNNING, Status.QUEUED)  # seen late
    assert not is_news(Status.COMPLETED, Status.FAILED)  # a finished task never changes


def test_back_off_grows_with_the_tasks_silence() -> None:
    stale = timedelta(minutes=15)
    hour_silent = "2026-11-24T11:00:00.000Z"
    assert check_due(hour_silent, None, NOW, stale)  # never checked
    assert not check_due(hour_silent, "2026-11-24T11:50:00.000Z", NOW, stale)  # 10 min ago < 15
    assert check_due(hour_silent, "2026-11-24T11:45:00.000Z", NOW, stale)
    days_silent = "2026-11-22T12:00:00.000Z"  # queued for two days: every 6 hours
    assert not check_due(days_silent, "2026-11-24T07:00:00.000Z", NOW, stale)
    assert check_due(days_silent, normalize(NOW - MAX_CHECK_INTERVAL), NOW, stale)


def normalize(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_the_sweep_searches_from_the_watermark_to_stale_after_ago() -> None:
    window = sweep_window("2026-11-24T11:40:00.000Z", NOW, timedelta(minutes=15))
    assert (window.start, window.end) == (datetime(2026, 11, 24, 11, 40, tzinfo=UTC), NOW - timedelta(minutes=15))
    assert not window.empty
    assert sweep_window("2026-11-24T11:50:00.000Z", NOW, timedelta(minutes=15)).empty


@given(st.data())
def test_an_observation_merges_like_an_event_and_twice_changes_nothing(data: st.DataObject) -> None:
    """Whatever events arrived, in any order, an observed status never moves the task backwards,
    and observing it again (a second reconciler run, a second backfill) writes the same item."""
    events: list[TaskEvent] = data.draw(task_events())
    delivered = data.draw(deliveries(events))
    record = fold(delivered)
    assert record is not None
    status = data.draw(st.sampled_from(list(Status)))
    observed = observed_event(
        {
            "quantumTaskArn": record.task.arn,
            "status": status.value,
            "deviceArn": record.device_arn,
            "shots": record.shots,
            "outputS3Bucket": record.output_s3_bucket,
            "outputS3Directory": record.output_s3_directory,
            "createdAt": record.created_at,
            "endedAt": "2026-11-20T09:00:00.000Z" if status.finished else None,
        },
        NOW,
        "reconciler",
    )
    once = merge(record, observed)
    assert once.status.rank >= record.status.rank
    assert once.origin == record.origin  # the item keeps where it came from
    assert to_item(merge(once, observed)) == to_item(once)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_rate_limiter_spaces_requests_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    for _ in range(21):
        limiter.acquire()
    # The first goes at once; the next 20 wait 0.1 s each: 10 requests per second.
    assert clock.now - 100.0 == pytest.approx(2.0)
    assert max(clock.slept) == pytest.approx(0.1)


def test_the_rate_limiter_lets_an_idle_burst_through_and_rejects_nonsense() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5, burst=3, clock=clock, sleep=clock.sleep)
    clock.now += 60  # idle: the bucket is full, but holds at most `burst`
    for _ in range(3):
        limiter.acquire()
    assert clock.slept == []
    limiter.acquire()
    assert clock.slept == [pytest.approx(0.2)]
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_an_observation_from_before_braket_or_the_future_is_unusable() -> None:
    """The same window as events (issue 14): the reconciler and the backfill go through it too."""
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    for created in (datetime(999, 1, 1, tzinfo=UTC), datetime(2090, 1, 1, tzinfo=UTC)):
        with pytest.raises(InvalidObservation):
            observed_event(
                {
                    "quantumTaskArn": "arn:aws:braket:us-east-1:012345678901:quantum-task/6d477c29",
                    "status": "QUEUED",
                    "deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
                    "shots": 10,
                    "outputS3Bucket": "amazon-braket-us-east-1-012345678901",
                    "outputS3Directory": "tasks/x",
                    "createdAt": created,
                },
                now,
                "reconciler",
            )

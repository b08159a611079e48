"""The reconciler's job passes and the job backfill against moto server: a stale job healed by GetJob, a
finished job without Braket's details described, a job whose every event was lost found by SearchJobs
(and notified once), and a backfill that imports silently and writes nothing the second time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from ops.backfill import Checkpoints
from ops.backfill_jobs import JobBackfill
from tests.integration.conftest import Recorder
from tests.integration.test_job_recording import job_item, jobs  # noqa: F401 (a fixture)
from tests.integration.test_notifier import Subscriber, topic_arn  # noqa: F401 (a fixture)
from tests.integration.test_reconciler import reconcile, reconciler_module  # noqa: F401 (a fixture)
from tests.support.braket_jobs import CREATED, DocumentedJobs
from tests.support.events import job_arn, job_state_change
from tracker.data.braket_jobs import BraketJobs

pytestmark = pytest.mark.integration
REGION = "eu-west-2"  # one of the reconciler tests' Regions (tests/integration/test_reconciler.py)


@pytest.fixture
def braket_jobs(reconciler_module: ModuleType) -> Iterator[DocumentedJobs]:  # noqa: F811
    fake = DocumentedJobs()
    recorder = reconciler_module.jobs.recorder
    original = recorder.braket
    recorder.braket = BraketJobs(100, client_factory=lambda region: fake)
    yield fake
    recorder.braket = original


def test_a_stale_job_is_healed_and_one_without_details_described(  # noqa: PLR0917 (fixtures)
    reconciler_module: ModuleType,  # noqa: F811
    braket_jobs: DocumentedJobs,
    recorder: Recorder,
    jobs: DocumentedJobs,  # noqa: F811
    dynamodb: Any,
    table_names: dict[str, str],
) -> None:
    stale, undescribed = job_arn(region=REGION), job_arn(region=REGION)
    jobs.status = "RUNNING"
    recorder.deliver([json.dumps(job_state_change(stale, "RUNNING", "2026-11-20T09:00:41Z"))])
    jobs.throttle = True  # the end recorded without GetJob's answer
    recorder.deliver([json.dumps(job_state_change(undescribed, "COMPLETED", "2026-11-20T09:06:12Z"))])
    assert job_item(dynamodb, table_names, undescribed)["enriched"] is False  # type: ignore[index]
    inbox = Subscriber(reconciler_module.config.topic_arn, {"kind": ["job"]})
    braket_jobs.statuses = {stale: "COMPLETED", undescribed: "COMPLETED"}

    summary = reconcile(reconciler_module)

    assert summary["jobs"]["errors"] == 0, summary
    for arn in (stale, undescribed):
        item = job_item(dynamodb, table_names, arn)
        assert item is not None
        assert (item["status"], item["enriched"], "unfinishedRegion" in item) == ("COMPLETED", True, False)
    # the stale job's end came from the reconciler: it is notified by the reconciler's notify pass only once
    # its grace has passed (the stream notifies it in a deployment); nothing is asked twice
    asked = len(braket_jobs.get_calls)
    reconcile(reconciler_module)
    assert len(braket_jobs.get_calls) == asked
    assert all(json.loads(m["Message"])["kind"] == "job" for m in inbox.drain())


def test_a_job_whose_every_event_was_lost_is_found_by_the_sweep_and_notified_once(
    reconciler_module: ModuleType,  # noqa: F811
    braket_jobs: DocumentedJobs,
    dynamodb: Any,
    table_names: dict[str, str],
) -> None:
    lost = job_arn(region=REGION)
    now = datetime.now(UTC)
    braket_jobs.jobs = [
        {
            "jobArn": lost,
            "jobName": "lost-vqe",
            "status": "COMPLETED",
            "device": "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
            "createdAt": now - timedelta(hours=1),
            "startedAt": now - timedelta(minutes=59),
            "endedAt": now - timedelta(minutes=50),
        }
    ]
    inbox = Subscriber(reconciler_module.config.topic_arn, {"kind": ["job"]})

    now_window = {"staleAfterMinutes": 0}  # the state table (the tracker) was made moments ago: sweep up to now
    first = reconcile(reconciler_module, now_window)
    second = reconcile(reconciler_module, now_window)

    assert first["jobs"]["found"] == 1 and second["jobs"]["found"] == 0
    item = job_item(dynamodb, table_names, lost)
    assert item is not None
    assert (item["status"], item["origin"], item["enriched"], item["jobName"]) == (
        "COMPLETED",
        "reconciler",
        True,
        "vqe-h2-bond-0-74",  # GetJob's answer (the fake's name), which a finished job is described by
    )
    assert [json.loads(m["Message"])["jobArn"] for m in inbox.drain()] == [lost]
    assert braket_jobs.search_calls[0]["filters"][0]["name"] == "createdAt"


def test_the_job_backfill_imports_silently_once(dynamodb: Any, table_names: dict[str, str]) -> None:
    fake = DocumentedJobs()
    old = [job_arn(region=REGION), job_arn(region=REGION)]
    fake.jobs = [
        {"jobArn": arn, "jobName": "old", "status": "COMPLETED", "device": "local:braket/default", "createdAt": CREATED}
        for arn in old
    ]
    lines: list[str] = []
    backfill = JobBackfill.for_tables(
        table_names["jobArn"], table_names["name"], 100, report=lines.append, client_factory=lambda region: fake
    )
    since = CREATED - timedelta(days=1)

    until, window = CREATED + timedelta(days=1), timedelta(days=2)  # one window: the double ignores the filter
    first = backfill.run(REGION, since, until, window, restart=True)
    second = backfill.run(REGION, since, until, window, restart=True)

    assert (first.found, first.recorded, first.errors) == (2, 2, 0)
    assert (second.recorded, second.unchanged) == (0, 2)
    for arn in old:
        item = job_item(dynamodb, table_names, arn)
        assert item is not None
        assert (item["origin"], item["status"], "awaitingNotification" in item) == ("backfill", "COMPLETED", False)
    assert Checkpoints(table_names["name"], dynamodb).load(f"jobs#{REGION}", since) is not None

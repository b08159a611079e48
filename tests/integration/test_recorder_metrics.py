"""The recorder's task metrics as CloudWatch reads them: embedded-metric (EMF) documents on stdout,
with the names and dimensions the dashboard graphs (stacks/dashboard.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Recorder
from tests.support.events import state_change, task_arn
from tracker import constants


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every EMF document the handler printed."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def points(documents: list[dict[str, Any]], name: str) -> list[tuple[dict[str, str], list[float]]]:
    """(dimensions, values) of each document that carries metric `name`."""
    found = []
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        if any(metric["Name"] == name for metric in directive["Metrics"]):
            assert directive["Namespace"] == constants.METRICS_NAMESPACE
            (dimension_names,) = directive["Dimensions"]
            values = document[name] if isinstance(document[name], list) else [document[name]]
            found.append(({key: document[key] for key in dimension_names}, values))
    return found


def lifecycle(arn: str, device: str) -> list[dict[str, Any]]:
    return [
        state_change(arn, "CREATED", "2026-11-20T08:00:01Z", device_arn=device),
        state_change(arn, "QUEUED", "2026-11-20T08:00:02Z", device_arn=device),
        state_change(arn, "RUNNING", "2026-11-20T08:00:12Z", device_arn=device),
        state_change(arn, "COMPLETED", "2026-11-20T08:00:15Z", ended_at="2026-11-20T08:00:14.750Z", device_arn=device),
    ]


def test_an_in_order_lifecycle_emits_status_counts_and_its_end_per_device(
    recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    device = "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet"

    recorder.deliver([json.dumps(e) for e in lifecycle(task_arn(), device)])

    # Still one write each, and Braket's details written after the end (detailsAfterEnd, docs/latency.md).
    assert recorder.requests == ["PutItem", "UpdateItem", "UpdateItem", "UpdateItem", "PutItem"]
    documents = emitted(capsys)
    service = {"service": constants.RECORDER_SERVICE}
    by_status = points(documents, constants.METRIC_TASKS_BY_STATUS)
    assert sorted(d["status"] for d, _ in by_status) == ["COMPLETED", "CREATED", "QUEUED", "RUNNING"]
    assert all(dims == service | {"status": dims["status"]} and values == [1.0] for dims, values in by_status)
    garnet = service | {"device": "Garnet"}
    assert points(documents, constants.METRIC_TASKS_ENDED) == [(garnet, [1.0])]
    assert points(documents, constants.METRIC_QUEUE_TIME) == [(garnet, [11.75])]  # from createdAt 08:00:00.250
    assert points(documents, constants.METRIC_RUN_TIME) == [(garnet, [2.75])]
    ((dims, (delay,)),) = points(documents, constants.METRIC_RECORD_DELAY)
    assert dims == service
    assert delay > 0


def test_shuffled_and_redelivered_events_count_one_end(recorder: Recorder, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    events = lifecycle(task_arn(), "arn:aws:braket:::device/quantum-simulator/amazon/sv1")

    recorder.deliver([json.dumps(events[i]) for i in (3, 0, 3)])
    recorder.deliver([json.dumps(events[i]) for i in (2, 1, 3, 0)])

    documents = emitted(capsys)
    assert points(documents, constants.METRIC_TASKS_ENDED) == [({"service": "task-recorder", "device": "sv1"}, [1.0])]
    # The end came before RUNNING: the item had no run time at its end, so none is emitted.
    assert points(documents, constants.METRIC_RUN_TIME) == []
    statuses = sorted(d["status"] for d, _ in points(documents, constants.METRIC_TASKS_BY_STATUS))
    assert statuses == ["COMPLETED"]  # the end recorded first; the earlier statuses came late

"""The Braket developer guide's task workflow, verbatim, with the unmodified SDK in local mode: once with
a plain AwsSession, once with TrackerSession (the one-line change). Braket's requests are counted at the
local Braket service, per access key: with TrackerSession the researcher's key signs no GetQuantumTask.

The guide: "Tracking quantum tasks from the Amazon Braket SDK",
https://docs.aws.amazon.com/braket/latest/developerguide/braket-monitor-tasks-sdk.html (its circuit,
`device.run(circ, s3_location, shots=1000)`, the `while status != 'COMPLETED'` loop, cancel, the
metadata's shots and `['ResponseMetadata']['HTTPHeaders']['date']`, and `AwsQuantumTask(arn=task_id)`
for a task of an earlier session). The one addition: each loop has a deadline, so that a failure
cannot hang the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
import pytest

pytest.importorskip("braket.aws", reason="amazon-braket-sdk (the [sdk] extra) is not installed")

from braket.aws import AwsDevice, AwsQuantumTask
from braket.circuits import Circuit
from braket_tracker import TrackedTask, TrackerClient, TrackerSession

from local.aws import CREDENTIALS
from local.tracker import LocalTracker
from tests.e2e.conftest import RANK, RESULTS_BUCKET, SV1, read_item, wait_for

pytestmark = pytest.mark.e2e
RESEARCHER = CREDENTIALS[0]  # the access key the researcher's SDK signs with (the functions have their own)
DEADLINE = 180  # seconds: the workflow takes about 5; a loaded 2-core CI machine, far more

FRESH_PROCESS = """
import json, sys
from braket.aws import AwsQuantumTask
task_id = sys.argv[1]
if sys.argv[2] == "tracker":
    from braket_tracker import TrackerSession
    task_load = AwsQuantumTask(arn=task_id, aws_session=TrackerSession(), poll_interval_seconds=0.05)
else:
    task_load = AwsQuantumTask(arn=task_id)
print(json.dumps(dict(task_load.result().measurement_counts)))
"""


@pytest.fixture(scope="module")
def environment(tracker: LocalTracker) -> dict[str, str]:
    return tracker.environment()


@pytest.fixture
def researcher(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The researcher's shell: AWS_* and BRAKET_TRACKER_* pointing at local mode."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BRAKET_ENDPOINT", raising=False)
    yield environment


def request_counts(tracker: LocalTracker) -> dict[str, Any]:
    """GET <braket endpoint>/_local/request-counts: {"total": {op: n}, "byAccessKey": {key: {op: n}}},
    what the local Braket service answered, counted by the access key that signed each request."""
    assert tracker.braket is not None
    with urllib.request.urlopen(f"{tracker.braket.url}/_local/request-counts", timeout=10) as response:
        counts: dict[str, Any] = json.loads(response.read())
    assert "byAccessKey" in counts, counts
    return counts


def researcher_requests(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    old, new = before["byAccessKey"].get(RESEARCHER, {}), after["byAccessKey"].get(RESEARCHER, {})
    return {operation: count - old.get(operation, 0) for operation, count in new.items()}


def the_guides_workflow(tracker: LocalTracker, monkeypatch: pytest.MonkeyPatch, **aws_session: Any) -> dict[str, Any]:
    """The guide's code, as a researcher runs it; `aws_session` is {} or {"aws_session": TrackerSession()}."""
    s3_location = (RESULTS_BUCKET, "guide")
    seen: list[str] = []
    deadline = time.monotonic() + DEADLINE

    # create a circuit, specify the device and run the circuit
    circ = Circuit().rx(0, 0.15).ry(1, 0.2).cnot(0, 2)
    device = AwsDevice("arn:aws:braket:::device/quantum-simulator/amazon/sv1", **aws_session)
    task = device.run(circ, s3_location, shots=1000)

    # get ID and status of submitted task
    task_id = task.id
    status = task.state()
    seen.append(status)
    # wait for job to complete
    while status != "COMPLETED":
        status = task.state()
        if status != seen[-1]:
            seen.append(status)
        assert time.monotonic() < deadline, seen

    # cancel quantum task (another one: this one has completed; it waits in the queue until cancelled)
    assert tracker.braket is not None
    with monkeypatch.context() as patch:
        patch.setattr(tracker.braket.service, "queue_delay", 60)
        queued = device.run(circ, s3_location, shots=1000)
        queued.cancel()
        cancelled_status = queued.state()

    # get the metadata of the quantum task
    metadata = task.metadata()
    # example of metadata
    shots = metadata["shots"]
    date = metadata["ResponseMetadata"]["HTTPHeaders"]["date"]

    return {
        "task_id": task_id,
        "seen": seen,
        "cancelled": cancelled_status,
        "metadata": metadata,
        "shots": shots,
        "date": date,
        "counts": dict(task.result().measurement_counts),
    }


def in_a_fresh_process(task_id: str, side: str, environment: dict[str, str]) -> dict[str, int]:
    """`AwsQuantumTask(arn=task_id).result()` in a new Python process (a new kernel, days later)."""
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, task_id, side],
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def check_the_guides_answers(run: dict[str, Any]) -> None:
    assert run["task_id"].startswith("arn:aws:braket:us-east-1:123456789012:quantum-task/")
    assert run["seen"][-1] == "COMPLETED"
    assert [RANK[status] for status in run["seen"]] == sorted(RANK[status] for status in run["seen"])
    assert run["shots"] == 1000
    assert parsedate_to_datetime(run["date"]).tzinfo is not None  # "Sun, 06 Dec 2026 16:36:43 GMT"
    assert isinstance(run["metadata"]["createdAt"], datetime)
    assert sum(run["counts"].values()) == 1000
    assert set(run["counts"]) <= {"000", "010", "101", "111", "001", "011", "100", "110"}


def test_the_guides_workflow_with_a_plain_aws_session(
    tracker: LocalTracker, researcher: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = request_counts(tracker)

    run = the_guides_workflow(tracker, monkeypatch)
    later = in_a_fresh_process(run["task_id"], "plain", researcher)

    check_the_guides_answers(run)
    assert run["cancelled"] in {"CANCELLING", "CANCELLED"}
    assert later == run["counts"]
    # The comparison's other side: the same code polls Braket, with the researcher's key.
    assert researcher_requests(before, request_counts(tracker)).get("GetQuantumTask", 0) > 0


def test_the_guides_workflow_with_tracker_session_makes_no_get_quantum_task(
    tracker: LocalTracker, researcher: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = request_counts(tracker)
    session = TrackerSession()  # the one-line change: the tracker from BRAKET_TRACKER_API_URL / _LIVE_URL

    run = the_guides_workflow(tracker, monkeypatch, aws_session=session)
    later = in_a_fresh_process(run["task_id"], "tracker", researcher)
    session.close()

    check_the_guides_answers(run)
    assert run["seen"][0] == "CREATED"  # what the session did, answered at once
    assert run["cancelled"] == "CANCELLING"  # at once, before the tracker has recorded it
    assert later == run["counts"]
    assert run["metadata"]["ResponseMetadata"]["HTTPHeaders"]["x-braket-tracker-source"] in {"live", "api"}
    counted = researcher_requests(before, request_counts(tracker))
    assert counted.get("CreateQuantumTask") == 2  # submitting and cancelling still go to Braket
    assert counted.get("CancelQuantumTask") == 1
    assert counted.get("GetQuantumTask", 0) == 0  # no poll reached Braket, in this process or the fresh one


def test_run_batch_and_tasks_in_another_region_make_no_get_quantum_task(
    tracker: LocalTracker, researcher: dict[str, str]
) -> None:
    """The SDK's copies of the session (run_batch's, with its own connection pool) and a researcher
    whose session is in another Region than the tracker's stack (us-west-2: its events reach the
    tracker through that Region's forwarder). A device in another Region is the same copy_session
    path; the local Braket service offers only the on-demand simulators, which have no Region, so it
    is tested in tests/client/test_sdk_session.py (an IonQ device from a us-west-2 session)."""
    west_bucket = "amazon-braket-us-west-2-123456789012"
    assert tracker.moto is not None
    tracker.moto.client("s3", "us-west-2").create_bucket(
        Bucket=west_bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    before = request_counts(tracker)
    session = TrackerSession()
    west = TrackerSession(boto_session=boto3.Session(region_name="us-west-2"), tracker=session.tracker)

    batch = AwsDevice(SV1, aws_session=session).run_batch(
        [Circuit().h(0).cnot(0, 1)] * 6, (RESULTS_BUCKET, "batch"), shots=50, poll_interval_seconds=0.05
    )
    elsewhere = AwsDevice(SV1, aws_session=west).run(
        Circuit().x(0), (west_bucket, "west"), shots=20, poll_interval_seconds=0.05
    )
    results = batch.results()
    counts = elsewhere.result().measurement_counts
    from_home = AwsQuantumTask(elsewhere.id, aws_session=session, poll_interval_seconds=0.05).result()
    session.close()
    west.close()
    counted = researcher_requests(before, request_counts(tracker))

    assert isinstance(batch._aws_session, TrackerSession)
    assert [sum(result.measurement_counts.values()) for result in results] == [50] * 6
    assert elsewhere.id.startswith("arn:aws:braket:us-west-2:")
    assert dict(counts) == dict(from_home.measurement_counts) == {"1": 20}
    assert counted.get("CreateQuantumTask") == 7
    assert counted.get("GetQuantumTask", 0) == 0


@pytest.fixture(scope="module")
def finished_task(tracker: LocalTracker, environment: dict[str, str]) -> str:
    """A task run with the SDK (outside the tracker's API), recorded and enriched by the tracker."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        device = AwsDevice("arn:aws:braket:::device/quantum-simulator/amazon/sv1")
        task = device.run(Circuit().h(0).cnot(0, 1), (RESULTS_BUCKET, "compare"), shots=100)
        task.result()
    wait_for(lambda: (read_item(tracker, task.id) or {}).get("enriched"), DEADLINE)
    return str(task.id)


@pytest.fixture(scope="module")
def three_answers(finished_task: str, environment: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The same task's metadata: from Braket (plain AwsSession), TrackedTask, and TrackerSession."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        client = TrackerClient()
        session = TrackerSession()
        answers = {
            "braket": AwsQuantumTask(finished_task).metadata(),
            "TrackedTask": TrackedTask.from_arn(finished_task, client).metadata(),
            "TrackerSession": AwsQuantumTask(finished_task, aws_session=session).metadata(),
        }
        session.close()
    return answers


@pytest.mark.parametrize("side", ["TrackedTask", "TrackerSession"])
def test_metadata_matches_get_quantum_tasks_key_by_key(three_answers: dict[str, dict[str, Any]], side: str) -> None:
    braket, ours = three_answers["braket"], three_answers[side]

    assert set(ours) - {"tracker"} == set(braket)
    for key in set(braket) - {"ResponseMetadata"}:
        assert type(ours[key]) is type(braket[key]) or isinstance(ours[key], datetime), key
        assert ours[key] == braket[key], key
    assert json.loads(ours["deviceParameters"])["paradigmParameters"]["qubitCount"] == 2  # Braket's, kept whole
    assert ours["actionMetadata"] == {"actionType": "braket.ir.openqasm.program"}
    assert set(ours["ResponseMetadata"]) == set(braket["ResponseMetadata"]) - {"HostId"}
    assert {"date", "content-type", "x-amzn-requestid"} <= set(ours["ResponseMetadata"]["HTTPHeaders"])
    assert ours["ResponseMetadata"]["HTTPStatusCode"] == braket["ResponseMetadata"]["HTTPStatusCode"] == 200

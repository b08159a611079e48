"""The Python client and the `braket-tracker` CLI against local mode: the signed Task API served by
the runner, the deployed function, the local Braket service and the recording pipeline.

Waiting goes over the live-updates WebSocket API that the runner serves from the template (no
Braket call, no reading of the Task API); one test shows the fallback, for a client with no live URL.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from braket_tracker import (
    Forbidden,
    LiveUpdatesUnavailableWarning,
    StackNotFound,
    TaskNotFound,
    TaskResult,
    TrackedTask,
    TrackerClient,
)
from braket_tracker.cli import main
from braket_tracker.errors import TaskAlreadyFinished
from braket_tracker.settings import resolve

from local.aws import CREDENTIALS
from local.tracker import LocalTracker
from tests.e2e.conftest import BELL_PAIR, FINISHED, REGION, SV1, read_item, submit, wait_for

pytestmark = pytest.mark.e2e
CLI = Path(sys.executable).parent / "braket-tracker"


def aws_session(secret: str = CREDENTIALS[1]) -> Any:
    return boto3.Session(aws_access_key_id=CREDENTIALS[0], aws_secret_access_key=secret, region_name=REGION)


@pytest.fixture(scope="module")
def api_url(tracker: LocalTracker) -> str:
    assert tracker.runner is not None
    return tracker.runner.api_endpoints()[0].url


@pytest.fixture(scope="module")
def live_url(tracker: LocalTracker) -> str:
    return tracker.live_updates_url()


@pytest.fixture(scope="module")
def client(api_url: str, live_url: str) -> TrackerClient:
    return TrackerClient(api_url=api_url, live_url=live_url, session=aws_session(), sdk_results=False)


@pytest.fixture(scope="module")
def sdk_client(api_url: str, live_url: str) -> TrackerClient:
    return TrackerClient(api_url=api_url, live_url=live_url, session=aws_session(), sdk_results=True)


class ApiCalls:
    """The Task API requests a client sends, by method and path."""

    def __init__(self, client: TrackerClient) -> None:
        self.calls: list[tuple[str, str]] = []
        original = client.api.request

        def counted(method: str, path: str, **kwargs: Any) -> Any:
            self.calls.append((method, path))
            return original(method, path, **kwargs)

        client.api.request = counted  # type: ignore[method-assign]


@pytest.fixture
def project() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def test_submit_state_metadata_and_result_as_with_the_sdk(api_url: str, live_url: str, tracker: LocalTracker) -> None:
    client = TrackerClient(api_url=api_url, live_url=live_url, session=aws_session(), sdk_results=False)
    task = client.submit(BELL_PAIR, "sv1", 200, tags={"project": "client"})
    first_state = task.state()
    calls = ApiCalls(client)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = task.result(timeout=120)
        task.result(timeout=120)  # cached: no second wait
    waited_with = list(calls.calls)
    metadata = task.metadata()

    assert task.id.startswith(f"arn:aws:braket:{REGION}:123456789012:quantum-task/")
    assert first_state in {"CREATED", "QUEUED", "RUNNING", "COMPLETED"}
    # the end was pushed over the live channel: no fallback warning (a ResourceWarning from some other
    # object's socket, collected meanwhile, is not this client's)
    assert [type(w.message) for w in caught if not issubclass(w.category, ResourceWarning)] == []
    # No polling: waiting sent the Task API nothing; the one request read the result once it ended.
    assert len(waited_with) == 1
    assert waited_with[0][0] == "GET"
    assert waited_with[0][1].endswith("/result")
    assert isinstance(result, TaskResult)
    assert result.status == "COMPLETED"
    assert sum(result.measurement_counts.values()) == 200
    assert set(result.measurement_counts) <= {"00", "11"}
    assert result.measured_qubits == [0, 1]
    assert metadata["status"] == task.state() == "COMPLETED"
    assert metadata["shots"] == 200
    assert metadata["tags"]["project"] == "client"
    own = metadata["tracker"]  # the tracker's own fields, beside GetQuantumTask's
    assert own["resultsUri"] == f"s3://{metadata['outputS3Bucket']}/{metadata['outputS3Directory']}/results.json"
    assert {"CREATED", "COMPLETED"} <= set(own["statusTimes"])
    assert own["submitter"] == tracker.client("sts").get_caller_identity()["Arn"]


def test_without_a_live_channel_waiting_reads_the_api_and_says_so_once(api_url: str) -> None:
    client = TrackerClient(api_url=api_url, session=aws_session(), sdk_results=False)  # no live URL
    tasks = [client.submit(BELL_PAIR, SV1, 50) for _ in range(2)]
    calls = ApiCalls(client)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [task.result(timeout=120) for task in tasks]

    assert [type(w.message) for w in caught] == [LiveUpdatesUnavailableWarning]
    assert [result.status for result in results] == ["COMPLETED", "COMPLETED"]
    assert any(method == "GET" and not path.endswith("/result") for method, path in calls.calls)


def test_from_arn_after_a_restart_gives_the_sdk_result(
    client: TrackerClient, sdk_client: TrackerClient, api_url: str
) -> None:
    pytest.importorskip("braket.tasks", reason="amazon-braket-sdk (the [sdk] extra) is not installed")
    from braket.tasks import GateModelQuantumTaskResult

    arn = client.submit(BELL_PAIR, SV1, 300).id
    rebuilt = TrackedTask.from_arn(arn, sdk_client)  # a new kernel: only the ARN survived
    result = rebuilt.result(timeout=120)

    assert isinstance(result, GateModelQuantumTaskResult)
    assert result.task_metadata.id == arn
    assert sum(result.measurement_counts.values()) == 300
    assert set(result.measurement_counts) <= {"00", "11"}


def test_a_task_submitted_straight_to_braket_is_waited_for_and_read(
    client: TrackerClient, tracker: LocalTracker
) -> None:
    braket = tracker.client("braket")  # as the SDK submits: no tracker involved
    action = {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": BELL_PAIR}
    arn = braket.create_quantum_task(
        action=json.dumps(action),
        deviceArn=SV1,
        shots=150,
        outputS3Bucket=tracker.output("ResultsBucketName"),  # a bucket the Task API reads
        outputS3KeyPrefix="sdk",
    )["quantumTaskArn"]

    result = TrackedTask.from_arn(arn, client).result(timeout=120)  # may start before its first event
    recorded = TrackedTask.from_arn(arn, client).item()

    assert result.status == "COMPLETED"
    assert sum(result.counts.values()) == 150
    assert (recorded["origin"], recorded.get("submitter")) == ("event", None)
    assert recorded["outputS3Directory"].startswith("sdk/")


def test_results_in_the_account_s_braket_bucket_are_read_and_elsewhere_forbidden_with_the_reason(
    client: TrackerClient, tracker: LocalTracker
) -> None:
    arn = submit(tracker)  # with boto3, to the SDK's default bucket: amazon-braket-<region>-<account>
    wait_for(lambda: (read_item(tracker, arn) or {}).get("status") in FINISHED)
    elsewhere = f"arn:aws:braket:{REGION}:123456789012:quantum-task/{uuid.uuid4()}"
    now = datetime.now(UTC)
    detail = {  # a task whose results are in a bucket neither Braket-named nor listed: as Braket reports it
        "quantumTaskArn": elsewhere,
        "status": "COMPLETED",
        "deviceArn": SV1,
        "shots": "10",
        "outputS3Bucket": "research-results-123456789012",
        "outputS3Directory": f"tasks/{elsewhere.rsplit('/', 1)[-1]}",
        "createdAt": (now - timedelta(seconds=2)).isoformat(),
        "endedAt": now.isoformat(),
        "eventName": "MODIFY",
    }
    entry = {"Source": "aws.braket", "DetailType": "Braket Task State Change", "Detail": json.dumps(detail)}
    assert tracker.client("events").put_events(Entries=[{**entry, "Resources": [elsewhere]}])["FailedEntryCount"] == 0
    wait_for(lambda: read_item(tracker, elsewhere))

    read = TrackedTask.from_arn(arn, client).result(sdk=False)
    with pytest.raises(Forbidden) as raised:
        TrackedTask.from_arn(elsewhere, client).result()

    assert (read.status, sum(read.counts.values())) == ("COMPLETED", 1000)
    assert "research-results-123456789012" in raised.value.message
    assert "readableResultsBuckets" in raised.value.message


def test_cancel_list_and_a_conflict(
    client: TrackerClient, project: str, tracker: LocalTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tracker.braket is not None
    monkeypatch.setattr(tracker.braket.service, "queue_delay", 60)  # the task waits in the queue until cancelled
    task = client.submit(BELL_PAIR, "sv1", 100, tags={"project": project})

    assert task.cancel() == "CANCELLING"
    elsewhere = TrackedTask.from_arn(task.id, TrackerClient(api_url=client.endpoints.api_url, session=aws_session()))
    # another client, at once: the Task API recorded the cancel on the item (the local Braket service's
    # CANCELLED event may already be recorded too)
    assert elsewhere.state() in {"CANCELLING", "CANCELLED"}
    assert "task-api:CANCELLING" in (read_item(tracker, task.id) or {}).get("eventIds", set())
    ended = task.wait(timeout=120)
    with pytest.raises(TaskAlreadyFinished):
        task.cancel()
    by_tag = [t.id for t in client.list(tag=("project", project))]
    mine = [t.id for t in client.list(submitter="me", limit=50)]
    cancelled = [t.id for t in client.list(status="CANCELLED", limit=100)]

    assert ended.status == "CANCELLED"
    assert by_tag == [task.id]
    assert task.id in mine
    assert task.id in cancelled


def test_unknown_tasks_and_bad_credentials(client: TrackerClient, api_url: str) -> None:
    with pytest.raises(TaskNotFound):
        client.task(str(uuid.uuid4()))
    with pytest.raises(Forbidden, match="signature"):
        TrackerClient(api_url=api_url, session=aws_session(secret="wrong")).task("x")


def test_a_stack_name_resolves_from_cloudformation(tracker: LocalTracker, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in tracker.environment().items():
        monkeypatch.setenv(name, value)

    endpoints = resolve(aws_session(), stack_name=tracker.stack_name)
    with pytest.raises(StackNotFound, match="no stack 'NoSuchTracker' in us-east-1"):
        resolve(aws_session(), stack_name="NoSuchTracker")

    assert endpoints.api_url == tracker.output("TaskApiUrl")  # the host it has in AWS; local mode serves it elsewhere
    assert endpoints.region == REGION


# -- the CLI, as an installed console script ---------------------------------------------------


@pytest.fixture(scope="module")
def cli_env(tracker: LocalTracker, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BRAKET_TRACKER_"))}
    return env | tracker.environment() | {"BRAKET_TRACKER_API_URL": api_url}


def run(env: dict[str, str], *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *argv], env=env, input=stdin, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.fixture
def program(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "bell.qasm"
    path.write_text(BELL_PAIR)
    yield path


def test_cli_submit_wait_show_list_result(cli_env: dict[str, str], program: Path, project: str) -> None:
    submitted = run(cli_env, "-o", "json", "submit", str(program), "--device", "sv1", "--shots", "120",
                    "--tag", f"project={project}", "--wait")  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    result = json.loads(submitted.stdout)
    arn = result["taskArn"]
    shown = run(cli_env, "-o", "json", "show", arn)
    listed = run(cli_env, "-o", "json", "list", "--tag", f"project={project}")
    table = run(cli_env, "list", "--submitter", "me", "--limit", "5")
    again = run(cli_env, "result", arn.rsplit("/", 1)[-1])

    assert result["status"] == "COMPLETED"
    assert sum(result["counts"].values()) == 120
    assert "live updates unavailable" not in submitted.stderr  # --wait listened on the live channel
    assert json.loads(shown.stdout)["status"] == "COMPLETED"
    assert [t["taskArn"] for t in json.loads(listed.stdout)] == [arn]
    assert table.returncode == 0
    assert arn.rsplit("/", 1)[-1] in table.stdout
    assert again.returncode == 0
    assert "measured qubits: [0, 1]" in again.stdout


def in_process(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, str]:
    """The CLI's main() in this process: no interpreter start-up between two commands."""
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def test_cli_cancel_watch_and_exit_codes(
    cli_env: dict[str, str], program: Path, monkeypatch: pytest.MonkeyPatch, tracker: LocalTracker
) -> None:
    assert tracker.braket is not None
    monkeypatch.setattr(tracker.braket.service, "queue_delay", 60)  # the task waits in the queue until cancelled
    submitted = in_process(cli_env, monkeypatch, "submit", str(program), "--device", "sv1", "--shots", "50")
    arn = submitted[1].strip()
    cancelled = in_process(cli_env, monkeypatch, "cancel", arn)  # at once, while it waits in the queue
    watched = run(cli_env, "watch", arn)
    result = run(cli_env, "-o", "json", "result", arn)
    cancel_again = run(cli_env, "cancel", arn)
    unknown = run(cli_env, "show", str(uuid.uuid4()))
    forbidden = run(cli_env | {"AWS_SECRET_ACCESS_KEY": "wrong"}, "list")
    bad = run(cli_env, "submit", "-", "--device", "sv1", "--shots", "-1", stdin=BELL_PAIR)

    assert (submitted[0], cancelled[0]) == (0, 0), submitted[2] + cancelled[2]
    assert cancelled[1].strip() == f"{arn} CANCELLING"
    assert watched.returncode == 1  # it ended CANCELLED
    assert "CANCELLED" in watched.stdout
    assert (result.returncode, json.loads(result.stdout)["status"]) == (1, "CANCELLED")
    assert cancel_again.returncode == 7
    assert "TaskAlreadyFinished" in cancel_again.stderr
    assert unknown.returncode == 3
    assert "TaskNotFound" in unknown.stderr
    assert forbidden.returncode == 4
    assert "signature" in forbidden.stderr
    assert bad.returncode == 2
    assert "shots" in bad.stderr

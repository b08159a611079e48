"""The unmodified Amazon Braket SDK against local mode, through the endpoints `make up` exports.

Each test checks Braket's answer to one of the SDK's workflows, and that local mode still serves afterwards.
Braket's answers come from Braket's documentation and the SDK's own integration tests (cited per test).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from braket.aws import AwsDevice, AwsQuantumJob, AwsQuantumTask, AwsSession
from braket.circuits import Circuit, FreeParameter, Observable, ResultType
from braket_tracker import TrackerClient

from local.faults import FaultPlan
from local.tracker import LocalTracker
from tests.e2e.conftest import DM1, SV1, read_item, start, wait_for

pytestmark = pytest.mark.e2e

TN1 = "arn:aws:braket:::device/quantum-simulator/amazon/tn1"
POLL = {"poll_interval_seconds": 0.1, "poll_timeout_seconds": 300}


@pytest.fixture(scope="module")
def local_mode(cdk_out: Path) -> Iterator[LocalTracker]:
    """One local mode for this module, with the process environment `make up` tells a researcher to export."""
    tracker = start(cdk_out, FaultPlan())
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        for name, value in tracker.environment().items():
            patch.setenv(name, value)
        yield tracker
    tracker.stop()


@pytest.fixture
def session(local_mode: LocalTracker) -> AwsSession:
    return AwsSession()


def ghz(qubits: int, noise: float = 0.0) -> Circuit:
    circuit = Circuit().h(0)
    for qubit in range(qubits - 1):
        circuit.cnot(qubit, qubit + 1)
        if noise:
            circuit.depolarizing(qubit + 1, noise)
    return circuit


def still_serving(tracker: LocalTracker) -> None:
    """Braket answers and simulates, and the tracker's API (the runner, moto) answers."""
    bell = AwsDevice(SV1).run(ghz(2), shots=10, **POLL).result()
    assert set(bell.measurement_counts) <= {"00", "11"}
    assert next(TrackerClient(api_url=tracker.environment()["BRAKET_TRACKER_API_URL"]).list(limit=1), None)


def test_dm1_and_sv1_tasks_at_12_qubits_and_more_run_at_once_and_are_recorded(local_mode: LocalTracker) -> None:
    # Two noisy DM1 tasks at once used to abort the whole of local mode (numba's workqueue layer).
    dm1, sv1 = AwsDevice(DM1), AwsDevice(SV1)
    noisy = dm1.run_batch([ghz(12, noise=0.01), ghz(12, noise=0.02)], shots=100, max_parallel=2, **POLL)
    wide = sv1.run_batch([ghz(14), ghz(16)], shots=100, max_parallel=2, **POLL)

    results = noisy.results() + wide.results()

    assert not noisy.unsuccessful and not wide.unsuccessful
    for result in results:
        qubits = len(result.measured_qubits)
        common = {bits for bits, _ in result.measurement_counts.most_common(2)}
        assert qubits in {12, 14, 16} and common == {"0" * qubits, "1" * qubits}
    for task in noisy.tasks + wide.tasks:
        wait_for(lambda task=task: (item := read_item(local_mode, task.id)) and item["status"] == "COMPLETED")
    still_serving(local_mode)


def test_a_simulation_that_dies_fails_its_task_with_a_reason(local_mode: LocalTracker) -> None:
    assert local_mode.braket is not None
    simulators = local_mode.braket.service.simulators
    task = AwsDevice(DM1).run(ghz(12, noise=0.01), shots=10, **POLL)
    pid = wait_for(lambda: simulators.pids().get(task.id), timeout=120, interval=0.01)

    os.kill(pid, signal.SIGKILL)

    assert task.result() is None  # the SDK's answer for a FAILED task
    metadata = task.metadata()
    assert metadata["status"] == "FAILED"
    assert "worker process" in metadata["failureReason"] and "SIGKILL" in metadata["failureReason"]
    wait_for(lambda: (item := read_item(local_mode, task.id)) and item["status"] == "FAILED")
    still_serving(local_mode)


@pytest.mark.parametrize("device_arn", [SV1, DM1])
def test_result_types_with_shots_are_computed_from_the_measurements(local_mode: LocalTracker, device_arn: str) -> None:
    # Braket's results.json lists each requested result type with its value (the SDK then reads them).
    circuit = (
        ghz(2)
        .expectation(Observable.Z() @ Observable.Z(), target=[0, 1])
        .variance(Observable.Z(), target=0)
        .sample(Observable.Z(), target=1)
        .probability(target=[0, 1])
    )

    result = AwsDevice(device_arn).run(circuit, shots=1000, **POLL).result()

    assert len(result.result_types) == len(result.values) == 4
    assert result.get_value_by_result_type(ResultType.Expectation(Observable.Z() @ Observable.Z(), [0, 1])) == 1.0
    assert 0.8 < result.get_value_by_result_type(ResultType.Variance(Observable.Z(), 0)) <= 1.0
    samples = result.get_value_by_result_type(ResultType.Sample(Observable.Z(), 1))
    assert len(samples) == 1000 and set(samples) == {1, -1}
    probability = result.get_value_by_result_type(ResultType.Probability([0, 1]))
    assert probability[1] == probability[2] == 0 and probability[0] + probability[3] == pytest.approx(1)
    still_serving(local_mode)


def test_tn1_is_served_with_its_capabilities(local_mode: LocalTracker) -> None:
    tn1 = AwsDevice(TN1)

    result = tn1.run(ghz(3).expectation(Observable.Z() @ Observable.Z(), target=[0, 2]), shots=100, **POLL).result()

    assert (tn1.name, tn1.properties.paradigm.qubitCount) == ("TN1", 50)
    assert tn1.properties.service.shotsRange == (1, 100_000)  # braket-simulator-tn1.html: shots must be > 0
    supported = {rt.name for rt in tn1.properties.action["braket.ir.openqasm.program"].supportedResultTypes}
    assert supported == {"Sample", "Expectation", "Variance"}
    assert result.values == [1.0] and result.task_metadata.deviceId == TN1
    with pytest.raises(ClientError, match=r"ValidationException.*outside the range"):
        tn1.run(ghz(2).expectation(Observable.Z(), target=0), shots=0)
    still_serving(local_mode)


def test_device_documents_advertise_braket_and_refuse_what_local_mode_cannot_run(local_mode: LocalTracker) -> None:
    sv1, dm1 = AwsDevice(SV1), AwsDevice(DM1)

    with pytest.raises(ClientError) as too_wide:
        sv1.run(ghz(30), shots=10)

    assert (sv1.properties.paradigm.qubitCount, dm1.properties.paradigm.qubitCount) == (34, 17)
    assert too_wide.value.response["Error"]["Code"] == "ValidationException"
    assert "local mode simulates at most 26" in too_wide.value.response["Error"]["Message"]
    still_serving(local_mode)


def test_adjoint_gradient_on_sv1_gives_braket_s_values(local_mode: LocalTracker) -> None:
    # amazon-braket-sdk test/integ_tests/test_adjoint_gradient.py: SV1's answers for these circuits.
    theta = FreeParameter("theta")
    observable = (-2 * Observable.Y()) @ (3 * Observable.I()) + 0.75 * Observable.Y() @ Observable.Z()
    circuit = Circuit().rx(0, theta).adjoint_gradient(observable, target=[[0, 1], [2, 3]], parameters=["theta"])

    result = AwsDevice(SV1).run(circuit, shots=0, inputs={"theta": 0.2}, **POLL).result()

    (value,) = result.values
    assert value["expectation"] == pytest.approx(1.1920159847703675, rel=1e-12)
    assert value["gradient"]["theta"] == pytest.approx(5.880399467047451, rel=1e-9)
    assert result.result_types[0].type.observable == "-6 * y @ i + 0.75 * y @ z"
    with pytest.raises(ClientError, match="AdjointGradient on SV1 needs shots = 0"):
        AwsDevice(SV1).run(circuit, shots=10, inputs={"theta": 0.2})
    still_serving(local_mode)


def test_partial_measurement_is_refused_as_sv1_refuses_it(local_mode: LocalTracker) -> None:
    # amazon-braket-sdk test/integ_tests/test_measure.py::test_unsupported_devices, word for word.
    circuit = Circuit().h(0).cnot(0, 1).h(2).measure([0, 1])
    expected = re.escape(
        "An error occurred (ValidationException) when calling the CreateQuantumTask operation: Device requires all "
        "qubits in the program to be measured. This may be caused by declaring non-contiguous qubits or measuring "
        "partial qubits"
    )

    with pytest.raises(ClientError, match=expected):
        AwsDevice(SV1).run(circuit, shots=1000)
    still_serving(local_mode)


def test_tags_of_a_task(local_mode: LocalTracker, session: AwsSession) -> None:
    task = AwsDevice(SV1).run(ghz(2), shots=10, tags={"project": "qml"}, **POLL)
    braket = session.braket_client

    braket.tag_resource(resourceArn=task.id, tags={"owner": "ada"})
    braket.untag_resource(resourceArn=task.id, tagKeys=["project"])

    assert braket.list_tags_for_resource(resourceArn=task.id)["tags"] == {"owner": "ada"}
    assert task.metadata()["tags"] == {"owner": "ada"}
    still_serving(local_mode)


def test_the_stack_outputs_name_the_local_endpoints(local_mode: LocalTracker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRAKET_TRACKER_API_URL")
    monkeypatch.delenv("BRAKET_TRACKER_LIVE_URL")
    task = AwsDevice(SV1).run(ghz(2), shots=10, **POLL)
    task.result()

    client = TrackerClient(stack_name=local_mode.stack_name)
    shown = subprocess.run(
        [sys.executable, "-m", "braket_tracker", "--stack", local_mode.stack_name, "--output", "json", "show", task.id],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert client.endpoints.api_url == local_mode.environment()["BRAKET_TRACKER_API_URL"]
    assert client.endpoints.live_url == local_mode.environment()["BRAKET_TRACKER_LIVE_URL"]
    assert wait_for(lambda: client.get(task.id)["status"] == "COMPLETED")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["taskArn"] == task.id


def test_request_counts_tell_the_tracker_s_calls_from_the_researcher_s(local_mode: LocalTracker) -> None:
    assert local_mode.runner is not None
    counts_url = f"{local_mode.environment()['AWS_ENDPOINT_URL_BRAKET']}/_local/request-counts"
    functions = {credentials.access_key for credentials in local_mode.runner.function_credentials.values()}
    request_counts(counts_url, "DELETE")

    task = AwsDevice(SV1).run(ghz(2), shots=10, **POLL)
    task.result()
    wait_for(lambda: (item := read_item(local_mode, task.id)) and item.get("enriched") is not None)
    counts = request_counts(counts_url)

    researcher = counts["byAccessKey"]["testing"]
    tracker = [ops for key, ops in counts["byAccessKey"].items() if key in functions]
    assert researcher["CreateQuantumTask"] == 1 and researcher["GetQuantumTask"] >= 1
    assert any(ops.get("GetQuantumTask") for ops in tracker)  # the recorder reads the finished task once
    every_key: Counter[str] = Counter()
    for ops in counts["byAccessKey"].values():
        every_key.update(ops)
    assert counts["total"] == dict(every_key)


def test_run_batch_of_100_tasks_on_sv1_completes(local_mode: LocalTracker) -> None:
    started = time.monotonic()

    batch = AwsDevice(SV1).run_batch([ghz(2)] * 100, shots=10, max_parallel=100, poll_interval_seconds=1)
    results = batch.results()

    assert not batch.unsuccessful and len(results) == 100
    assert all(set(result.measurement_counts) <= {"00", "11"} for result in results)
    assert time.monotonic() - started < 300
    assert AwsQuantumTask(batch.tasks[0].id).state() == "COMPLETED"  # a fresh handle reads it from Braket
    still_serving(local_mode)


# A hybrid job (local/braket/jobs/): AwsQuantumJob.create(device, source_module) with the SDK's defaults finds the
# execution role (IAM ListRoles), creates the default bucket, uploads the source, and the local service runs it
# as Braket's job container would. The job's tasks run on the local SV1, signed with the job role's key.
ROLE_KEY = "AmazonBraketJobsExecutionRole"  # the job signs with its role's credentials, named after the role
ITERATIONS = 5  # two tasks each: the parameter-shift gradient of <Z>
VARIATIONAL = '''
    import math

    from braket.aws import AwsDevice
    from braket.circuits import Circuit
    from braket.jobs import save_job_result
    from braket.jobs.environment_variables import get_job_device_arn
    from braket.jobs.metrics import log_metric


    def expectations(device, angles, shots):
        """<Z> after rx(angle), one task per angle."""
        batch = device.run_batch([Circuit().rx(0, a) for a in angles], shots=shots, poll_interval_seconds=0.1)
        counts = [result.measurement_counts for result in batch.results()]
        return [(c.get("0", 0) - c.get("1", 0)) / shots for c in counts]


    def main(iterations: int, shots: int):
        device = AwsDevice(get_job_device_arn())
        theta, history = 0.5, []
        for iteration in range(iterations):
            plus, minus = expectations(device, [theta + math.pi / 2, theta - math.pi / 2], shots)
            theta -= 0.8 * (plus - minus) / 2
            history.append(theta)
            print(f"iteration {iteration}: theta {theta:.3f}", flush=True)
            log_metric(metric_name="theta", value=theta, iteration_number=iteration)
        save_job_result({"theta": theta, "history": history})
'''


def test_a_hybrid_job_runs_with_the_sdk_s_defaults_and_its_tasks_carry_the_job(
    local_mode: LocalTracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "vqe.py").write_text(textwrap.dedent(VARIATIONAL))
    monkeypatch.chdir(tmp_path)  # job.result() downloads model.tar.gz into the working folder
    counts_url = f"{local_mode.environment()['AWS_ENDPOINT_URL_BRAKET']}/_local/request-counts"
    before = request_counts(counts_url)

    job = AwsQuantumJob.create(
        SV1,
        source_module=str(tmp_path / "vqe.py"),
        entry_point="vqe:main",
        hyperparameters={"iterations": ITERATIONS, "shots": 100},
    )
    job.logs(wait=True, poll_interval_seconds=0.2)  # wait_until_complete=True, tailing sooner than every 5 s
    tailed = capsys.readouterr().out
    result = job.result(poll_interval_seconds=0.2)

    assert job.state() == "COMPLETED"
    assert len(result["history"]) == ITERATIONS and result["theta"] == result["history"][-1]
    assert result["theta"] > 0.5  # each step went down the gradient of <Z>
    for iteration in range(ITERATIONS):
        assert f"iteration {iteration}: theta" in tailed
    job.logs(poll_interval_seconds=0)  # read again afterwards, without the pause before the read
    assert "Code Run Finished" in capsys.readouterr().out
    metrics = job.metrics()  # Logs Insights over the job's log streams
    by_iteration = sorted(zip(metrics["iteration_number"], metrics["theta"], strict=True))
    assert by_iteration == list(enumerate(result["history"]))
    tasks = job.get_tasks()
    assert len(tasks) == 2 * ITERATIONS
    assert {task.metadata()["jobArn"] for task in tasks} == {job.arn}
    assert {task.state() for task in tasks} == {"COMPLETED"}
    after = request_counts(counts_url)

    def delta(key: str, operation: str) -> int:
        old = before["byAccessKey"].get(key, {}).get(operation, 0)
        return int(after["byAccessKey"].get(key, {}).get(operation, 0)) - int(old)

    assert delta(ROLE_KEY, "CreateQuantumTask") == 2 * ITERATIONS  # the job's own key, not the researcher's
    assert delta("testing", "CreateQuantumTask") == 0 and delta("testing", "CreateJob") == 1
    still_serving(local_mode)


def request_counts(url: str, method: str = "GET") -> dict[str, Any]:
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as response:
        return dict(json.loads(response.read()))

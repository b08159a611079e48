"""Simulations run in worker processes of their own: a worker that dies fails only its task, with a reason,
and the service keeps serving; cancelling a running task kills its simulation."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

from local.braket import LocalBraket
from tests.local.braket.conftest import DM1, EventSink, create_task, statuses, wait_for

# A noisy 12-qubit GHZ circuit on DM1: seconds of simulation, long enough to act while it runs.
SLOW = "\n".join(
    ["OPENQASM 3.0; bit[12] b; qubit[12] q; h q[0];"]
    + [f"cnot q[{i}], q[{i + 1}]; #pragma braket noise depolarizing(0.01) q[{i + 1}]" for i in range(11)]
    + ["b = measure q;"]
)


def running_worker(service: LocalBraket, arn: str, timeout: float = 30) -> int:
    """The pid of the worker process simulating the task, once it is."""
    deadline = time.monotonic() + timeout
    while (pid := service.service.simulators.pids().get(arn)) is None:
        assert time.monotonic() < deadline, f"{arn} never started running"
        time.sleep(0.01)
    return pid


def test_a_worker_that_dies_fails_its_task_with_a_reason_and_the_service_keeps_serving(
    braket: Callable[..., Any], local_braket: LocalBraket, sinks: dict[str, EventSink]
) -> None:
    client = braket()
    arn = create_task(client, SLOW, device=DM1, shots=10)

    os.kill(running_worker(local_braket, arn), signal.SIGKILL)
    task = wait_for(client, arn, timeout=30)

    assert task["status"] == "FAILED"
    assert "worker process" in task["failureReason"] and "SIGKILL" in task["failureReason"]
    events = sinks["us-east-1"].wait_for_status(arn, "FAILED")
    assert statuses(events) == ["CREATED", "QUEUED", "RUNNING", "FAILED"]
    assert wait_for(client, create_task(client, device=DM1), timeout=30)["status"] == "COMPLETED"


def test_cancelling_a_running_task_stops_its_simulation(
    braket: Callable[..., Any], local_braket: LocalBraket, sinks: dict[str, EventSink]
) -> None:
    client = braket()
    arn = create_task(client, SLOW, device=DM1, shots=10)
    pid = running_worker(local_braket, arn)

    answer = client.cancel_quantum_task(quantumTaskArn=arn, clientToken="cancel-running")
    task = wait_for(client, arn, timeout=30)

    assert answer["cancellationStatus"] == "CANCELLING"
    assert task["status"] == "CANCELLED"
    assert statuses(sinks["us-east-1"].wait_for_status(arn, "CANCELLED")) == [
        "CREATED",
        "QUEUED",
        "RUNNING",
        "CANCELLING",
        "CANCELLED",
    ]
    assert pid not in local_braket.service.simulators.pids().values()

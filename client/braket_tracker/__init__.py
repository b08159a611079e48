"""The Braket Task Tracker's Python client: the Braket SDK's task interface, answered by the tracker.

With the Braket SDK (the `sdk` extra), keep its code and pass one session:

from braket.aws import AwsDevice
from braket_tracker import TrackerSession

device = AwsDevice("arn:aws:braket:::device/quantum-simulator/amazon/sv1", aws_session=TrackerSession())
task = device.run(circuit, shots=1000, poll_interval_seconds=0.05)  # each poll reads memory
print(task.result().measurement_counts)  # no GetQuantumTask: the tracker answered

Or the tracker's own client, for what the SDK has no word for (listing, watching, the account's tasks):

from braket_tracker import TrackerClient

tracker = TrackerClient(stack_name="BraketTaskTracker")
task = tracker.submit(open("bell.qasm").read(), device="sv1", shots=1000)
print(task.id, task.state())
print(task.result().measurement_counts)
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

from braket_tracker.client import TrackerClient
from braket_tracker.errors import (
    ApiError,
    ApiUnreachable,
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    LiveChannelUnavailable,
    LiveUpdatesUnavailableWarning,
    MissingCredentials,
    ServerError,
    StackNotFound,
    TaskNotFound,
    Throttled,
    TrackerError,
    WaitTimeout,
)
from braket_tracker.live import TaskUpdate
from braket_tracker.results import TaskResult
from braket_tracker.task import TrackedTask


def __getattr__(name: str) -> Any:
    """TrackerSession imports the Braket SDK (the `sdk` extra): only when it is asked for."""
    if name == "TrackerSession":
        from braket_tracker.sdk_session import TrackerSession  # noqa: PLC0415

        return TrackerSession
    raise AttributeError(f"module 'braket_tracker' has no attribute {name!r}")


__all__ = [
    "ApiError",
    "ApiUnreachable",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "LiveChannelUnavailable",
    "LiveUpdatesUnavailableWarning",
    "MissingCredentials",
    "ServerError",
    "StackNotFound",
    "TaskNotFound",
    "TaskResult",
    "TaskUpdate",
    "Throttled",
    "TrackedTask",
    "TrackerClient",
    "TrackerError",
    "TrackerSession",
    "WaitTimeout",
]

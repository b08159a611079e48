"""The Braket Task Tracker's Python client: the Braket SDK's task interface, answered by the tracker.

from braket_tracker import TrackerClient

tracker = TrackerClient(stack_name="BraketTaskTracker")
task = tracker.submit(open("bell.qasm").read(), device="sv1", shots=1000)
print(task.id, task.state())
print(task.result().measurement_counts)
"""

from __future__ import annotations

__version__ = "0.1.0"

from braket_tracker.client import TrackedTask, TrackerClient
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
    "WaitTimeout",
]

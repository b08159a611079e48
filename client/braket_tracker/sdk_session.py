"""TrackerSession: the Braket SDK's own AwsSession, whose GetQuantumTask the tracker answers.

    from braket.aws import AwsDevice, AwsQuantumTask
    from braket_tracker import TrackerSession

    session = TrackerSession()  # the one-line change
    device = AwsDevice("arn:aws:braket:::device/quantum-simulator/amazon/sv1", aws_session=session)
    task = device.run(circuit, s3_location, shots=1000, poll_interval_seconds=0.05)
    task.result()  # the SDK polls every 50 ms, and each poll reads memory: no GetQuantumTask

How (docs/sdk-session.md has the spike behind the choice):
- botocore's own event hooks on the session's Braket client, the mechanism of botocore's Stubber:
  `before-call` answers GetQuantumTask from the session's TaskBoard (or lets it through to Braket, where
  the board says so); `after-call` tells the board what CreateQuantumTask and CancelQuantumTask did,
  and what a GetQuantumTask let through answered. Every other operation goes to Braket, as with a
  plain AwsSession, and the SDK's own code (its retries, `braket.tracking.Tracker`'s events) runs as is.
- The SDK copies a session with `AwsSession.copy_session(session, ...)`, on the base class (run_batch,
  and devices or tasks in another Region), which builds a plain AwsSession. The first TrackerSession
  wraps that method once, for the process: the copy of a TrackerSession is a TrackerSession on the
  same board; the copy of any other session is exactly what the SDK builds.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse
from braket.aws import AwsSession  # type: ignore[import-untyped,unused-ignore]

from braket_tracker.board import TaskBoard
from braket_tracker.client import TrackerClient
from braket_tracker.job_session import answer_jobs_through, job_board

_PARAMS = "braket_tracker.params"
_ANSWERED = "braket_tracker.answered"
_WRAP_LOCK = threading.Lock()


class TrackerSession(AwsSession):  # type: ignore[misc,unused-ignore]
    """An `AwsSession` whose GetQuantumTask is answered by the Braket Task Tracker.

    Takes AwsSession's arguments, and `tracker` (a TrackerClient; by default one configured from
    the environment, or the stack `BraketTaskTracker`, with this session's boto3 session). Pass
    `poll_interval_seconds=0.05` to `device.run(...)` or `AwsQuantumTask(...)`: a poll reads memory.
    """

    def __init__(
        self,
        boto_session: Any = None,
        braket_client: Any = None,
        config: Any = None,
        default_bucket: str | None = None,
        *,
        tracker: TrackerClient | None = None,
        board: TaskBoard | None = None,
    ) -> None:
        self._board = board
        super().__init__(
            boto_session=boto_session, braket_client=braket_client, config=config, default_bucket=default_bucket
        )
        if self._board is None:
            self._board = TaskBoard(tracker or TrackerClient(session=self.boto_session))
        _keep_copies_on_the_tracker()

    @property
    def board(self) -> TaskBoard:
        """What this session (and its copies) know of their tasks."""
        assert self._board is not None
        return self._board

    @property
    def tracker(self) -> TrackerClient:
        """The tracker's client: list, watch and the whole account's tasks (TrackedTask)."""
        return self.board.client

    @property
    def braket_client(self) -> Any:
        return self._braket_client

    @braket_client.setter
    def braket_client(self, client: Any) -> None:
        """AwsSession sets its client in __init__ and again in add_braket_user_agent: both get the hooks."""
        self._braket_client = client
        _answer_through(client, self)

    def copy_for(self, plain: AwsSession) -> TrackerSession:
        """A TrackerSession like `plain` (a copy the SDK made of this session), on the same board."""
        return TrackerSession(
            boto_session=plain.boto_session,
            config=plain.braket_client.meta.config,
            default_bucket=self._default_bucket if self._custom_default_bucket else None,
            board=self.board,
        )

    def close(self) -> None:
        """Close the live channel (the session's copies share it)."""
        self.board.close()
        job_board(self.board).close()


# -- botocore's event hooks ----------------------------------------------------------------------


def _answer_through(client: Any, session: TrackerSession) -> None:
    events = client.meta.events
    for operation in ("GetQuantumTask", "CreateQuantumTask", "CancelQuantumTask"):
        events.register(f"before-parameter-build.braket.{operation}", _keep_params, unique_id=f"{_PARAMS}.{operation}")
    hooks: dict[str, Callable[..., Any]] = {
        "before-call.braket.GetQuantumTask": _answer,
        "after-call.braket.GetQuantumTask": _braket_answered,
        "after-call.braket.CreateQuantumTask": _created,
        "after-call.braket.CancelQuantumTask": _cancelled,
    }
    for event, hook in hooks.items():
        events.register(event, functools.partial(hook, session), unique_id=f"braket_tracker.{event}")
    answer_jobs_through(client, session)  # hybrid jobs: GetJob answered by the tracker too (job_session.py)


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS] = dict(params)


def _answer(session: TrackerSession, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    """GetQuantumTask's answer from the board; None lets the request go to Braket."""
    answer = session.board.answer(str(context[_PARAMS]["quantumTaskArn"]))
    if answer is None:
        return None
    context[_ANSWERED] = True
    headers = answer["ResponseMetadata"]["HTTPHeaders"]
    return AWSResponse(url="", status_code=200, headers=headers, raw=None), answer


def _braket_answered(
    session: TrackerSession, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
) -> None:
    if not context.get(_ANSWERED) and http_response.status_code < 300:
        session.board.braket_answered(parsed)


def _created(
    session: TrackerSession, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
) -> None:
    if http_response.status_code < 300:
        session.board.created(str(parsed["quantumTaskArn"]), context[_PARAMS])


def _cancelled(
    session: TrackerSession, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
) -> None:
    if http_response.status_code < 300:
        session.board.cancelled(str(context[_PARAMS]["quantumTaskArn"]), str(parsed["cancellationStatus"]))


# -- the SDK's copies ----------------------------------------------------------------------------


def _keep_copies_on_the_tracker() -> None:
    """Wrap AwsSession.copy_session, once per process: a TrackerSession's copy is a TrackerSession."""
    with _WRAP_LOCK:
        original = AwsSession.copy_session
        if getattr(original, "braket_tracker_wrapped", False):
            return

        @functools.wraps(original)
        def copy_session(self: Any, region: str | None = None, max_connections: int | None = None) -> Any:
            copy = original(self, region, max_connections)
            if isinstance(self, TrackerSession) and not isinstance(copy, TrackerSession):
                return self.copy_for(copy)
            return copy

        copy_session.braket_tracker_wrapped = True  # type: ignore[attr-defined]
        AwsSession.copy_session = copy_session

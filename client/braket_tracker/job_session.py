"""TrackerSession's hybrid jobs: the SDK's GetJob answered by the tracker (issue 18), so that the unmodified
`AwsQuantumJob(arn, aws_session=TrackerSession())` waits, and reads `state()`, `metadata()` and `result()`,
with no GetJob (GetJob's quota is 5 requests/s per account and Region; `result()` polls it every 5 s).

The same mechanism as tasks (sdk_session.py): botocore's `before-call` on the session's Braket client answers
GetJob from the session's JobBoard, or lets it through to Braket where the board says so; `after-call` tells
the board what CreateJob and CancelJob did (CancelJob goes to Braket, as the researcher's own call: the
tracker's cancel route is for admin principals). Where an answer comes from, in order:
- what the session did: a job it created reads QUEUED, one it cancelled CANCELLING, until the tracker says more;
- the live channel: every unfinished job asked about is followed (`subscribeJobs`), each push moves it on;
- the Task API (GET /jobs/{id}): a job's first read, and while the live channel is down, at most one read per
  job every FALLBACK_READ_SECONDS (the SDK's own interval);
- Braket: a job the tracker has never recorded (one GetJob, then the tracker), and a finished job whose
  output location the tracker lacks (once: `result()` reads it).
Pass `poll_interval_seconds=0.05` to `result()` to wake within the push path, not 5 s later.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.awsrequest import AWSResponse

from braket_tracker.board import TaskBoard
from braket_tracker.client import TrackerClient
from braket_tracker.errors import ApiUnreachable, LiveChannelUnavailable, ServerError, TaskNotFound, Throttled
from braket_tracker.job_live import JOB_FINISHED, JOB_RANK, JobChannel, JobUpdate, job_channel
from braket_tracker.jobs import get_job_response, job_path, queue_info
from braket_tracker.quantum_task import response_metadata

log = logging.getLogger("braket_tracker")
FALLBACK_READ_SECONDS = 5.0  # AwsQuantumJob's DEFAULT_RESULTS_POLL_INTERVAL
REOPEN_CAP_SECONDS = 60.0
_PARAMS, _ANSWERED = "braket_tracker.job_params", "braket_tracker.job_answered"
_BOARDS: weakref.WeakKeyDictionary[TaskBoard, JobBoard] = weakref.WeakKeyDictionary()
_BOARDS_LOCK = threading.Lock()


@dataclass
class JobEntry:
    fields: dict[str, Any]
    status: str
    source: str
    read_at: float | None = None
    braket_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def take(self, fields: Mapping[str, Any], status: str | None, source: str) -> None:
        self.fields.update({k: v for k, v in fields.items() if v is not None and k != "status"})
        if status in JOB_RANK and self.status not in JOB_FINISHED and JOB_RANK[status] > JOB_RANK[self.status]:
            self.status, self.source = str(status), source


class JobBoard:
    """`answer(arn)`: GetJob's answer from the tracker, or None where Braket must answer."""

    def __init__(self, client: TrackerClient, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.clock = clock
        self._jobs: dict[str, JobEntry] = {}
        self._lock = threading.Lock()
        self._channel: JobChannel | None = None
        self.channel_state = "opening"
        self._watcher: threading.Thread | None = None
        self._stopped = threading.Event()
        self.answered: dict[str, int] = {"session": 0, "live": 0, "api": 0, "braket": 0}

    def created(self, arn: str, params: Mapping[str, Any]) -> None:
        fields = {key: params.get(key) for key in ("jobName", "roleArn", "instanceConfig", "outputDataConfig")}
        fields |= {"jobArn": arn, "createdAt": datetime.now(UTC), "deviceConfig": params.get("deviceConfig")}
        self._take(arn, fields, "QUEUED", "session")

    def cancelled(self, arn: str, status: str) -> None:
        self._take(arn, {"jobArn": arn}, status, "session")

    def braket_answered(self, response: Mapping[str, Any]) -> None:
        entry = self._take(str(response["jobArn"]), dict(response), str(response.get("status")), "braket")
        entry.braket_at = self.clock()

    def answer(self, arn: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._jobs.get(arn)
            down = self.channel_state == "down"
        try:
            if entry is None or "outputDataConfig" not in entry.fields:
                entry = self._read(arn) or entry
            elif down and entry.status not in JOB_FINISHED and self._due(entry.read_at):
                self._read(arn)
        except (ApiUnreachable, ServerError, Throttled) as error:
            log.info("the tracker did not answer about %s: %s", arn, error)
        if entry is None:
            return None  # never recorded by the tracker: one GetJob, then the tracker
        if entry.status in JOB_FINISHED and "outputDataConfig" not in entry.fields and entry.braket_at is None:
            return None  # result() needs the output location: Braket says it, once
        with self._lock:
            self.answered[entry.source] += 1
            fields, status = dict(entry.fields), entry.status
        return {
            **fields,
            "status": status,
            "queueInfo": queue_info(status),
            "ResponseMetadata": response_metadata(datetime.now(UTC), source=entry.source),
        }

    def _read(self, arn: str) -> JobEntry | None:
        try:
            item = self.client.api.request("GET", job_path(arn))
        except TaskNotFound:  # the API's 404 (JobNotFound)
            return None
        entry = self._take(arn, get_job_response(item), str(item["status"]), "api")
        entry.read_at = self.clock()
        return entry

    def _take(self, arn: str, fields: Mapping[str, Any], status: str | None, source: str) -> JobEntry:
        with self._lock:
            entry = self._jobs.get(arn)
            new = entry is None
            if entry is None:
                entry = self._jobs[arn] = JobEntry({}, "QUEUED", source)
            entry.take(fields, status, source)
            channel, finished = self._channel, entry.status in JOB_FINISHED
        if new and not finished:
            if channel is not None:
                self._subscribe(channel, [arn])
            self._start_watching()
        return entry

    def _due(self, last: float | None) -> bool:
        return last is None or self.clock() - last >= FALLBACK_READ_SECONDS

    def _subscribe(self, channel: JobChannel, arns: list[str]) -> None:
        try:
            channel.subscribe_jobs(arns)
        except LiveChannelUnavailable as error:
            log.info("subscribing to %s failed: %s", arns, error)

    def _start_watching(self) -> None:
        with self._lock:
            if self._watcher is not None or self._stopped.is_set():
                return
            self._watcher = threading.Thread(target=self._watch, name="braket-tracker-jobs", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        delay = 1.0
        while not self._stopped.is_set():
            try:
                channel = job_channel(self.client)
            except LiveChannelUnavailable:
                with self._lock:
                    self.channel_state = "down"
                return  # no live-updates URL: the Task API answers
            try:
                channel.open()
                with self._lock:
                    self._channel = channel
                    unfinished = [arn for arn, entry in self._jobs.items() if entry.status not in JOB_FINISHED]
                self._subscribe(channel, unfinished)
                with self._lock:
                    self.channel_state = "live"
                delay = 1.0
                for update in channel.updates():
                    if isinstance(update, JobUpdate):
                        self._take(update.job_arn, get_job_response(update.document), update.status, "live")
            except LiveChannelUnavailable as error:
                log.info("the jobs' live channel closed: %s", error)
            except Exception:  # the board must outlive any one failure of its channel
                log.exception("the jobs' live channel failed")
            with self._lock:
                self.channel_state, self._channel = "down", None
            channel.stop()
            self._stopped.wait(delay)
            delay = min(REOPEN_CAP_SECONDS, delay * 2)

    def close(self) -> None:
        self._stopped.set()
        with self._lock:
            channel = self._channel
        if channel is not None:
            channel.stop()


def job_board(board: TaskBoard) -> JobBoard:
    """The job board of a session's task board (its copies share both)."""
    with _BOARDS_LOCK:
        if board not in _BOARDS:
            _BOARDS[board] = JobBoard(board.client, board.clock)
        return _BOARDS[board]


def answer_jobs_through(client: Any, session: Any) -> None:
    """Register the job hooks on a TrackerSession's Braket client (sdk_session.py calls this; the session's
    board is made after its client, so each hook finds the job board when it runs)."""
    events = client.meta.events
    for operation in ("GetJob", "CreateJob", "CancelJob"):
        events.register(f"before-parameter-build.braket.{operation}", _keep, unique_id=f"{_PARAMS}.{operation}")
    hooks: dict[str, Callable[..., Any]] = {
        "before-call.braket.GetJob": _answer,
        "after-call.braket.GetJob": _braket_answered,
        "after-call.braket.CreateJob": _created,
        "after-call.braket.CancelJob": _cancelled,
    }
    for event, hook in hooks.items():
        events.register(event, functools.partial(_on_board, hook, session), unique_id=f"braket_tracker.jobs.{event}")


def _on_board(hook: Callable[..., Any], session: Any, **kwargs: Any) -> Any:
    return hook(job_board(session.board), **kwargs)


def _keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS] = dict(params)


def _answer(jobs: JobBoard, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    answer = jobs.answer(str(context[_PARAMS]["jobArn"]))
    if answer is None:
        return None
    context[_ANSWERED] = True
    return AWSResponse(url="", status_code=200, headers=answer["ResponseMetadata"]["HTTPHeaders"], raw=None), answer


def _braket_answered(
    jobs: JobBoard, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
) -> None:
    if not context.get(_ANSWERED) and http_response.status_code < 300:
        jobs.braket_answered(parsed)


def _created(jobs: JobBoard, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if http_response.status_code < 300:
        jobs.created(str(parsed["jobArn"]), context[_PARAMS])


def _cancelled(jobs: JobBoard, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if http_response.status_code < 300:
        jobs.cancelled(str(parsed["jobArn"]), str(parsed["cancellationStatus"]))

"""Hybrid jobs through the tracker (issue 18): `tracker.jobs.get/list/tasks/cancel/watch`, and a job item in
GetJob's shape (what `AwsQuantumJob.metadata()` returns), so that TrackerSession answers the SDK's GetJob.

    from braket_tracker import TrackerClient

    tracker = TrackerClient()
    for job in tracker.jobs.list(status="RUNNING"):
        print(job["jobName"], job["taskCount"])
    final = tracker.jobs.watch("5b7a2c1e-...", on_update=print)  # pushed, never polled
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from braket_tracker.api import backoff
from braket_tracker.errors import LiveChannelUnavailable, WaitTimeout
from braket_tracker.job_live import JOB_FINISHED, JobStates, JobUpdate, job_channel
from braket_tracker.live import TaskUpdate

if TYPE_CHECKING:
    from braket_tracker.client import TrackerClient

POLL_CAP_SECONDS = 15.0
NOT_QUEUED = "The Braket Task Tracker answered this without GetJob: it does not read queue positions."


def job_path(id_or_arn: str) -> str:
    """`jobs/<id or URL-encoded ARN>`."""
    if not id_or_arn or len(id_or_arn) > 512:
        raise ValueError(f"not a job id or ARN: {id_or_arn!r}")
    return "jobs/" + quote(id_or_arn, safe="")


class TrackerJobs:
    """The Task API's job routes, and waiting on a job over the live channel."""

    def __init__(self, client: TrackerClient) -> None:
        self.client = client

    def get(self, id_or_arn: str, *, include_queue: bool = False) -> dict[str, Any]:
        """GET /jobs/{id}: the job item (with include_queue, Braket's queue position: one GetJob by the tracker)."""
        item: dict[str, Any] = self.client.api.request(
            "GET", job_path(id_or_arn), query={"include": "queue" if include_queue else None}
        )
        return item

    def list(
        self,
        *,
        status: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Jobs, newest first, page after page (at most `limit`)."""
        query = {"status": status, "createdAfter": _iso(created_after), "createdBefore": _iso(created_before)}
        yield from self._pages("jobs", "jobs", query, limit)

    def tasks(self, id_or_arn: str, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """GET /jobs/{id}/tasks: the job's tasks (their items), newest first."""
        yield from self._pages(job_path(id_or_arn) + "/tasks", "tasks", {}, limit)

    def cancel(self, id_or_arn: str) -> str:
        """POST /jobs/{id}/cancel (an admin principal of the deployment): CANCELLING or CANCELLED."""
        return str(self.client.api.request("POST", job_path(id_or_arn) + "/cancel")["status"])

    def watch(
        self,
        id_or_arn: str,
        *,
        include_tasks: bool = False,
        timeout: float | None = None,
        on_update: Callable[[TaskUpdate], None] | None = None,
    ) -> dict[str, Any]:
        """Wait for the job's end, pushed over the live channel (and, with include_tasks, its tasks' changes to
        `on_update`); reads the API with backoff if the channel cannot be opened. The job's final item."""
        item = self.get(id_or_arn)
        arn = str(item["jobArn"])
        until = None if timeout is None else self.client.clock() + timeout
        states = JobStates()
        first = states.accept(_document(item), "api")
        if first is not None and on_update is not None:
            on_update(first)
        if item["status"] in JOB_FINISHED:
            return item
        try:
            channel = job_channel(self.client)
            with channel:
                channel.job_states = states
                channel.subscribe_jobs([arn], include_tasks=include_tasks)
                for update in channel.updates(until):
                    if on_update is not None:
                        on_update(update)
                    if isinstance(update, JobUpdate) and update.job_arn == arn and update.finished:
                        return self.get(arn)
        except LiveChannelUnavailable as error:
            self.client.warn_fallback(str(error))
            return self._poll(arn, until, states, on_update)
        raise WaitTimeout(f"{arn} did not end within {timeout} s ({states.latest[arn].status})")

    def _poll(
        self, arn: str, until: float | None, states: JobStates, on_update: Callable[[TaskUpdate], None] | None
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            item = self.get(arn)
            update = states.accept(_document(item), "api")
            if update is not None and on_update is not None:
                on_update(update)
            if item["status"] in JOB_FINISHED:
                return item
            now = self.client.clock()
            if until is not None and now >= until:
                raise WaitTimeout(f"{arn} did not end within the time given ({item['status']})")
            attempt += 1
            delay = min(POLL_CAP_SECONDS, backoff(attempt, base=1.0, cap=POLL_CAP_SECONDS))
            self.client.sleep(delay if until is None else max(0.0, min(delay, until - now)))

    def _pages(self, path: str, key: str, query: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        remaining, token = limit, None
        while remaining is None or remaining > 0:
            size = 100 if remaining is None else min(100, remaining)
            page = self.client.api.request("GET", path, query={**query, "limit": size, "next": token})
            items = page.get(key, [])
            yield from items
            if remaining is not None:
                remaining -= len(items)
            token = page.get("next")
            if not token:
                return


def _document(item: Mapping[str, Any]) -> dict[str, Any]:
    """A job item read from the API, as the live channel's document names it."""
    return {**item, "notificationId": f"{item['jobArn']}#{item['status']}"}


def _iso(moment: datetime | str | None) -> str | None:
    if moment is None or isinstance(moment, str):
        return moment
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


# -- GetJob's shape ------------------------------------------------------------------------------------


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) and value else None


def get_job_response(item: Mapping[str, Any]) -> dict[str, Any]:
    """GetJob's answer (botocore's shape: datetimes) from a job item of the tracker (the API's JSON, or the
    live channel's document, which carries fewer fields). Only what the tracker knows is present."""
    found: dict[str, Any] = {
        "jobArn": item["jobArn"],
        "status": item["status"],
        "jobName": item.get("jobName") or str(item["jobArn"]).rsplit("/", 1)[-1],
        "createdAt": _time(item.get("braketCreatedAt") or item.get("createdAt")),
        "startedAt": _time(item.get("startedAt")),
        "endedAt": _time(item.get("endedAt")),
        "roleArn": item.get("roleArn"),
        "failureReason": item.get("failureReason"),
        "billableDuration": item.get("billableDuration"),
        "hyperParameters": item.get("hyperParameters"),
        "tags": item.get("tags") or {},
    }
    if item.get("outputS3Path"):
        found["outputDataConfig"] = {"s3Path": item["outputS3Path"]}
    if item.get("instanceType") or item.get("instanceCount"):
        found["instanceConfig"] = {
            "instanceType": item.get("instanceType"),
            "volumeSizeInGb": item.get("volumeSizeInGb"),
            "instanceCount": item.get("instanceCount") or 1,
        }
    if item.get("deviceArn"):
        found["deviceConfig"] = {"device": item["deviceArn"]}
    if item.get("checkpointS3Uri"):
        found["checkpointConfig"] = {"s3Uri": item["checkpointS3Uri"]}
    if item.get("entryPoint") or item.get("scriptS3Uri"):
        script = {"entryPoint": item.get("entryPoint"), "s3Uri": item.get("scriptS3Uri"), "compressionType": "GZIP"}
        found["algorithmSpecification"] = {"scriptModeConfig": {k: v for k, v in script.items() if v}}
        if item.get("containerImage"):
            found["algorithmSpecification"]["containerImage"] = {"uri": item["containerImage"]}
    if item.get("maxRuntimeInSeconds"):
        found["stoppingCondition"] = {"maxRuntimeInSeconds": item["maxRuntimeInSeconds"]}
    if item.get("inputDataConfig"):
        found["inputDataConfig"] = [
            {"channelName": c["channelName"], "dataSource": {"s3DataSource": {"s3Uri": c["s3Uri"]}}}
            for c in item["inputDataConfig"]
        ]
    if item.get("jobEvents"):
        found["events"] = [{**e, "timeOfEvent": _time(e.get("timeOfEvent"))} for e in item["jobEvents"]]
    return {key: value for key, value in found.items() if value is not None}


def queue_info(status: str, read: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """queueInfo as GetJob gives it with additionalAttributeNames=QueueInfo (the SDK indexes it always)."""
    if read:
        return dict(read)
    if status == "QUEUED":
        return {"queue": "JOBS_QUEUE", "position": "None", "message": NOT_QUEUED}
    return {
        "queue": "JOBS_QUEUE",
        "position": "None",
        "message": f"Job is in {status} status. AmazonBraket does not show queue position for this status.",
    }

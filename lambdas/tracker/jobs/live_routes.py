"""The WebSocket actions that follow hybrid jobs (subscribeJobs, unsubscribeJobs: logic/job_live.py), on
the live-updates API's connections: the answer, then the current state of each job (and, with
includeTasks, of its most recent tasks), in order, through @connections."""

from __future__ import annotations

from tracker.data.connections import ConnectionsTable
from tracker.data.connections_api import ConnectionsApi
from tracker.data.job_table import JobTable
from tracker.data.job_tasks import JobTasks
from tracker.logic import job_live, live
from tracker.logic.job_live import JobRequest


class JobLiveRoutes:
    def __init__(self, connections: ConnectionsTable, jobs: JobTable, tasks: JobTasks, api: ConnectionsApi) -> None:
        self.connections = connections
        self.jobs = jobs
        self.tasks = tasks
        self.api = api

    def handle(self, connection_id: str, body: str | None) -> int:
        """Answer one message; the number of snapshots sent (0 for an unsubscribe or an error)."""
        try:
            request = job_live.parse_request(body)
            connection = self.connections.connection(connection_id)
            if connection is None:
                raise live.BadRequest(
                    "this connection is not registered: reconnect", request.request_id, "NotConnected"
                )
            if request.action == "unsubscribeJobs":
                self.connections.unsubscribe(connection_id, request.targets())
                self._send(connection_id, job_live.unsubscribed(request))
                return 0
            held = self.connections.subscription_count(connection_id, "job")
            if held + len(request.targets()) > job_live.MAX_JOB_SUBSCRIPTIONS:
                raise live.BadRequest(
                    f"a connection holds at most {job_live.MAX_JOB_SUBSCRIPTIONS} job subscriptions ({held} held)",
                    request.request_id,
                    "TooManySubscriptions",
                )
            # Subscribe first, then read: a change after the read is pushed, one before is in the snapshot.
            self.connections.subscribe(connection, request.targets())
            return self._snapshot(connection_id, request)
        except live.BadRequest as bad:
            self._send(connection_id, live.error(bad.code, bad.message, bad.request_id))
            return 0

    def _snapshot(self, connection_id: str, request: JobRequest) -> int:
        found = {arn: record for arn in request.jobs if (record := self.jobs.get(arn)) is not None}
        messages = [job_live.push(record, snapshot=True) for record in found.values()]
        truncated = False
        tasks = 0
        if request.include_tasks:
            for arn in found:
                page, more = self.tasks.page(arn, job_live.TASK_SNAPSHOT_LIMIT)
                truncated = truncated or more is not None
                tasks += len(page)
                messages += [live.push(task, snapshot=True, corrects=task.superseded) for task in page]
        unknown = [arn for arn in request.jobs if arn not in found]
        answer = job_live.subscribed(request, unknown, len(found), tasks, truncated)
        for sent, message in enumerate([answer, *messages]):
            if not self._send(connection_id, message):
                return max(sent - 1, 0)
        return len(messages)

    def _send(self, connection_id: str, message: str) -> bool:
        if self.api.post(connection_id, message):
            return True
        self.connections.forget(connection_id)
        return False

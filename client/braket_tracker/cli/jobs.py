"""`braket-tracker jobs list|show|watch|cancel`: hybrid jobs as the tracker records them (issue 18).

`jobs watch ID` waits for the job's end over the live channel (each change on stderr as it comes, `--tasks`
adds the job's tasks), then prints the job; its exit code says whether the job COMPLETED. A job's tasks are
`braket-tracker list --job ID`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from braket_tracker.cli.exit_codes import OK, TASK_DID_NOT_COMPLETE
from braket_tracker.cli.rendering import Screen, _number, item_table, short_time, styled
from braket_tracker.client import TrackerClient
from braket_tracker.job_live import JOB_RANK, JobUpdate
from braket_tracker.live import TaskUpdate


def add_job_commands(command: Callable[[str, str], argparse.ArgumentParser], created: Any, positive: Any) -> None:
    """The `jobs` command and its own commands (`command` makes a subparser with the global options)."""
    jobs = command("jobs", "hybrid jobs: list, show, watch, cancel (a job's tasks: list --job ID)")
    actions = jobs.add_subparsers(dest="job_command", required=True, metavar="ACTION")

    def action(name: str, summary: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=summary, description=summary)
        for option in jobs._actions:  # the global options, after the action too
            if option.option_strings and option.dest != "help":
                sub._add_action(option)
        return sub

    listing = action("list", "list hybrid jobs, newest first")
    listing.add_argument("--status", choices=tuple(JOB_RANK), help="in this status")
    when = "a date (midnight UTC) or an ISO-8601 time with a time zone"
    listing.add_argument("--created-after", type=created, metavar="WHEN", help=f"created at or after: {when}")
    listing.add_argument("--created-before", type=created, metavar="WHEN", help=f"created before: {when}")
    listing.add_argument("--limit", type=positive, default=25, help="at most this many jobs (default 25)")
    show = action("show", "one hybrid job, as the tracker records it")
    show.add_argument("id", metavar="ID", help="a job id or ARN")
    show.add_argument("--queue", action="store_true", help="add Braket's queue position (one GetJob)")
    watch = action("watch", "wait for a hybrid job's end, pushed, then print it")
    watch.add_argument("id", metavar="ID", help="a job id or ARN")
    watch.add_argument("--tasks", action="store_true", help="also show its tasks' changes as they come")
    watch.add_argument("--timeout", type=float, metavar="SECONDS", help="give up after this long")
    cancel = action("cancel", "cancel a hybrid job (an admin principal; yours: AwsQuantumJob(arn).cancel())")
    cancel.add_argument("id", metavar="ID", help="a job id or ARN")


class JobCommands:
    def __init__(self, client: TrackerClient, args: argparse.Namespace, screen: Screen) -> None:
        self.client, self.args, self.screen = client, args, screen
        self.json = args.output == "json"

    def run(self) -> int:
        return int(getattr(self, self.args.job_command)())

    def list(self) -> int:
        jobs = list(
            self.client.jobs.list(
                status=self.args.status,
                created_after=self.args.created_after,
                created_before=self.args.created_before,
                limit=self.args.limit,
            )
        )
        if self.json:
            self.screen.json(jobs)
        else:
            self.screen.show(job_table(jobs, title=f"{len(jobs)} job(s), newest first"))
        return OK

    def show(self) -> int:
        self._print(self.client.jobs.get(self.args.id, include_queue=self.args.queue))
        return OK

    def watch(self) -> int:
        def progress(update: TaskUpdate) -> None:
            kind = "job" if isinstance(update, JobUpdate) else "task"
            self.screen.note(f"{kind} {update.task_arn.rsplit('/', 1)[-1]}: {update.status} ({update.source})")

        item = self.client.jobs.watch(
            self.args.id, include_tasks=self.args.tasks, timeout=self.args.timeout, on_update=progress
        )
        self._print(item)
        return OK if item["status"] == "COMPLETED" else TASK_DID_NOT_COMPLETE

    def cancel(self) -> int:
        status = self.client.jobs.cancel(self.args.id)
        if self.json:
            self.screen.json({"job": self.args.id, "status": status})
        else:
            self.screen.line(f"{self.args.id} {status}")
        return OK

    def _print(self, item: dict[str, Any]) -> None:
        if self.json:
            self.screen.json(item)
        else:
            self.screen.show(item_table(item))


def job_table(items: Sequence[dict[str, Any]], title: str | None = None) -> Any:
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title, title_justify="left", expand=False)
    for column in ("job id", "name", "status", "device", "tasks", "failed", "created (UTC)", "ended (UTC)", "run s"):
        table.add_column(column, no_wrap=True, justify="right" if column in ("tasks", "failed", "run s") else "left")
    table.add_column("failure", no_wrap=False)
    for item in items:
        table.add_row(
            str(item.get("jobId", "")),
            str(item.get("jobName") or ""),
            styled(str(item.get("status", ""))),
            str(item.get("deviceArn") or "").rsplit("/", 1)[-1],
            str(item.get("taskCount", "")),
            str(item.get("failedTaskCount", "")),
            short_time(item.get("createdAt")),
            short_time(item.get("endedAt")),
            _number(item.get("runSeconds")),
            str(item.get("failureReason") or ""),
        )
    return table

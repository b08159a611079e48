"""The commands: submit, list, show, result, cancel and costs (watch is in cli.watch), each one a call
of the client and a view of its answer: a table for people, JSON (`-o json`) for scripts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from braket_tracker.cli.costs import cost_table, limits_table, this_month
from braket_tracker.cli.exit_codes import OK, TASK_DID_NOT_COMPLETE
from braket_tracker.cli.jobs import JobCommands
from braket_tracker.cli.rendering import Screen, item_table, result_view, task_table
from braket_tracker.client import TrackedTask, TrackerClient
from braket_tracker.live import TaskUpdate
from braket_tracker.results import TaskResult


class Commands:
    def __init__(self, client: TrackerClient, args: argparse.Namespace, screen: Screen) -> None:
        self.client, self.args, self.screen = client, args, screen
        self.json = args.output == "json"

    def submit(self) -> int:
        path = self.args.file
        program = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        task = self.client.submit(
            program,
            self.args.device,
            self.args.shots,
            tags=dict(self.args.tag),
            inputs=dict(self.args.input),
            idempotency_key=self.args.idempotency_key,
        )
        if not self.args.wait:
            if self.json:
                self.screen.json({"taskArn": task.id, "taskId": task.id.rsplit("/", 1)[-1], "status": "CREATED"})
            else:
                self.screen.line(task.id)
            return OK
        self.screen.note(f"submitted {task.id}")
        return self.wait_and_print(task, self.args.timeout)

    def list(self) -> int:
        if self.args.job:  # a hybrid job's tasks, newest first
            items = list(self.client.jobs.tasks(self.args.job, limit=self.args.limit))
            title = f"{len(items)} task(s) of job {self.args.job.rsplit('/', 1)[-1]}, newest first"
            if self.json:
                self.screen.json(items)
            else:
                self.screen.show(task_table(items, title=title))
            return OK
        tasks = self.client.list(
            status=self.args.status,
            device=self.args.device,
            submitter=self.args.submitter,
            tag=self.args.tag,
            created_after=self.args.created_after,
            created_before=self.args.created_before,
            limit=self.args.limit,
        )
        items = [task.item(use_cached_value=True) for task in tasks]
        if self.json:
            self.screen.json(items)
        else:
            self.screen.show(task_table(items, title=f"{len(items)} task(s), newest first"))
        return OK

    def show(self) -> int:
        item = self.client.get(self.args.id, include_queue=self.args.queue)
        if self.json:
            self.screen.json(item)
        else:
            self.screen.show(item_table(item))
        return OK

    def result(self) -> int:
        return self.wait_and_print(self.client.task(self.args.id), self.args.timeout)

    def cancel(self) -> int:
        task = self.client.task(self.args.id)
        status = task.cancel()
        if self.json:
            self.screen.json({"taskArn": task.id, "status": status})
        else:
            self.screen.line(f"{task.id} {status}")
        return OK

    def costs(self) -> int:
        if self.args.limits:
            report = self.client.spending_limits()
            view = limits_table(report)
        else:
            report = self.client.costs(month=self.args.month or this_month(), by=self.args.by)
            view = cost_table(report)
        if self.json:
            self.screen.json(report)
        else:
            self.screen.show(view)
        return OK

    def jobs(self) -> int:
        return JobCommands(self.client, self.args, self.screen).run()

    def wait_and_print(self, task: TrackedTask, timeout: float | None) -> int:
        short = task.id.rsplit("/", 1)[-1]
        with self.screen.err.status(f"waiting for {short} ...") as status:  # shown on a terminal only

            def progress(update: TaskUpdate) -> None:
                status.update(f"{short}: {update.status} ({update.source})")

            result: TaskResult = task.result(timeout=timeout, sdk=False, on_update=progress)
        if self.json:
            self.screen.json(result.to_json())
        else:
            self.screen.show(result_view(result))
        return OK if result.status == "COMPLETED" else TASK_DID_NOT_COMPLETE

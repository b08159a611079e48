"""`watch`: a live table of tasks (or, with `-o json`, one JSON line per update), from snapshots
and pushes over the live channel, or, failing that, API reads with backoff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from braket_tracker.cli.exit_codes import OK, TASK_DID_NOT_COMPLETE
from braket_tracker.cli.rendering import Screen, task_table
from braket_tracker.client import TrackerClient
from braket_tracker.errors import LiveChannelUnavailable
from braket_tracker.live import TaskStates, TaskUpdate


class Watcher:
    def __init__(self, client: TrackerClient, screen: Screen, arns: list[str], *, mine: bool, as_json: bool) -> None:
        self.client, self.screen = client, screen
        self.arns = arns
        self.mine = mine
        self.as_json = as_json
        self.states = TaskStates()

    def done(self) -> bool:
        latest = self.states.latest
        return not self.mine and all(arn in latest and latest[arn].finished for arn in self.arns)

    def outcome(self) -> int:
        statuses = [self.states.latest[arn].status for arn in self.arns if arn in self.states.latest]
        return OK if all(status == "COMPLETED" for status in statuses) else TASK_DID_NOT_COMPLETE

    def rows(self) -> list[dict[str, Any]]:
        documents = [update.document for update in self.states.latest.values()]
        return sorted(documents, key=lambda d: str(d.get("createdAt", "")), reverse=True)

    def run(self) -> int:
        if self.as_json:
            for update in self.states.latest.values():
                self._print_json(update)
            for update in self.updates():
                self._print_json(update)
                if self.done():
                    break
            return self.outcome()
        if not self.screen.terminal:  # into a pipe: the final table, once
            for _ in self.updates():
                if self.done():
                    break
            self.screen.show(task_table(self.rows(), title="watched"))
            return self.outcome()
        from rich.live import Live  # noqa: PLC0415

        with Live(task_table(self.rows(), title="watching"), console=self.screen.out, auto_refresh=False) as live:
            for _ in self.updates():
                live.update(task_table(self.rows(), title="watching"), refresh=True)
                if self.done():
                    break
        return self.outcome()

    def _print_json(self, update: TaskUpdate) -> None:
        self.screen.line(json.dumps({"source": update.source, **update.document}, sort_keys=True))

    def updates(self) -> Iterator[TaskUpdate]:
        if self.done():
            return
        try:
            with self.client.live_channel() as live:
                live.states = self.states
                live.subscribe(self.arns, mine=self.mine)
                yield from live.updates()
                return
        except LiveChannelUnavailable as error:
            self.client.warn_fallback(str(error))
        yield from self._poll()

    def _poll(self) -> Iterator[TaskUpdate]:
        attempt = 0
        while not self.done():
            items = [self.client.get(arn) for arn in self.arns if not self._finished(arn)]
            if self.mine:
                items += [task.item(use_cached_value=True) for task in self.client.list(submitter="me", limit=25)]
            changed = False
            for item in items:
                update = self.states.accept(item, "api")
                if update is not None:
                    changed = True
                    yield update
            attempt = 0 if changed else attempt + 1
            if not self.done():
                self.client.sleep(min(15.0, 1.0 * 2 ** min(attempt, 4)))

    def _finished(self, arn: str) -> bool:
        return arn in self.states.latest and self.states.latest[arn].finished

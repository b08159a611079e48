"""`braket-tracker`: submit, list, show, result, cancel and watch tracked tasks from a shell.

Tables by default (rich), `--output json` for scripts; progress on stderr while waiting; exit
codes scripts can trust (see EXIT_CODES, also in `braket-tracker --help`).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from braket_tracker.client import DEVICES, TrackedTask, TrackerClient
from braket_tracker.errors import (
    ApiError,
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    LiveChannelUnavailable,
    LiveUpdatesUnavailableWarning,
    MissingCredentials,
    ProgramTooLarge,
    ResultsGone,
    StackNotFound,
    TaskNotFound,
    TrackerError,
    WaitTimeout,
)
from braket_tracker.live import RANK, TaskStates, TaskUpdate
from braket_tracker.results import TaskResult

OK, TASK_DID_NOT_COMPLETE, USAGE, NOT_FOUND, AUTH, SERVER, TIMEOUT, CONFLICT, INTERRUPTED = 0, 1, 2, 3, 4, 5, 6, 7, 130
EXIT_CODES = {
    OK: "success (for submit --wait and result: the task COMPLETED)",
    TASK_DID_NOT_COMPLETE: "the task ended FAILED or CANCELLED (submit --wait, result, watch)",
    USAGE: "bad usage: arguments, a missing file, a request the API refused as invalid (400, 413)",
    NOT_FOUND: "no such task, stack, or results (404, 410)",
    AUTH: "missing or refused credentials (403): not allowed, bad signature",
    SERVER: "the API failed or did not answer (5xx, throttled after retries, unreachable)",
    TIMEOUT: "the task did not end within --timeout",
    CONFLICT: "the task's state does not allow it (409): cancelling a finished task, a reused key",
    INTERRUPTED: "interrupted (Ctrl-C)",
}
STATUS_STYLE = {
    "CREATED": "dim",
    "QUEUED": "yellow",
    "RUNNING": "cyan",
    "CANCELLING": "magenta",
    "COMPLETED": "green",
    "FAILED": "bold red",
    "CANCELLED": "red",
}

ClientFactory = Callable[[argparse.Namespace], TrackerClient]


def exit_code(error: BaseException) -> int:
    """The exit code for an error (the table is EXIT_CODES)."""
    checks: list[tuple[type[BaseException] | tuple[type[BaseException], ...], int]] = [
        (WaitTimeout, TIMEOUT),  # first: it is a TimeoutError, hence an OSError
        ((MissingCredentials, Forbidden), AUTH),
        ((StackNotFound, TaskNotFound, ResultsGone), NOT_FOUND),
        ((ConfigurationError, BadRequest, ProgramTooLarge, ValueError, OSError), USAGE),
        (Conflict, CONFLICT),
        (KeyboardInterrupt, INTERRUPTED),
    ]
    for types, code in checks:
        if isinstance(error, types):
            return code
    return SERVER


def parse_tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key, value


def parse_input(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{name}: a number or a JSON list of numbers, got {value!r}") from error
    return name, parsed


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="braket-tracker",
        description="Submit, list, show, cancel and wait for Amazon Braket tasks through the Braket Task Tracker.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = parser.add_argument_group("where the tracker is (default: $BRAKET_TRACKER_API_URL, else the stack)")
    where.add_argument("--stack", metavar="NAME", help="the deployed stack's name (default BraketTaskTracker)")
    where.add_argument("--api-url", metavar="URL", help="the Task API URL (the TaskApiUrl output)")
    where.add_argument("--live-url", metavar="URL", help="the live-updates URL (the LiveUpdatesUrl output)")
    where.add_argument("--region", metavar="REGION", help="the stack's Region (default: the AWS configuration's)")
    parser.add_argument("--output", "-o", choices=("table", "json"), default="table", help="table (default) or json")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    submit = commands.add_parser("submit", help="submit an OpenQASM 3 program")
    submit.add_argument("file", metavar="FILE.qasm", help="the program (- for standard input)")
    submit.add_argument("--device", required=True, help=f"a device ARN, or {', '.join(DEVICES)}")
    submit.add_argument("--shots", required=True, type=int, help="shots (0 for exact results on simulators)")
    submit.add_argument("--tag", action="append", type=parse_tag, default=[], metavar="KEY=VALUE")
    submit.add_argument("--input", action="append", type=parse_input, default=[], metavar="NAME=VALUE")
    submit.add_argument("--idempotency-key", metavar="KEY", help="makes a retried submission safe (default: new)")
    submit.add_argument("--wait", action="store_true", help="wait for the end and print the result")
    submit.add_argument("--timeout", type=seconds, metavar="SECONDS", help="with --wait: give up after this long")

    listing = commands.add_parser("list", help="list tasks, newest first (one filter among the first four)")
    listing.add_argument("--status", choices=tuple(RANK), help="in this status")
    listing.add_argument("--device", help=f"on this device (an ARN, or {', '.join(DEVICES)})")
    listing.add_argument("--submitter", metavar="ARN|me", help="submitted through the API by this IAM ARN (me: you)")
    listing.add_argument("--tag", type=parse_tag, metavar="KEY=VALUE", help="with this promoted tag")
    listing.add_argument("--created-after", metavar="ISO-8601", help="created at or after (with a time zone)")
    listing.add_argument("--created-before", metavar="ISO-8601", help="created before (with a time zone)")
    listing.add_argument("--limit", type=positive, default=25, help="at most this many tasks (default 25)")

    show = commands.add_parser("show", help="one task, as the tracker records it")
    show.add_argument("id", metavar="ID", help="a task id or ARN")
    show.add_argument("--queue", action="store_true", help="add Braket's queue position")

    result = commands.add_parser("result", help="wait for a task's end, then print its result")
    result.add_argument("id", metavar="ID", help="a task id or ARN")
    result.add_argument("--timeout", type=seconds, metavar="SECONDS", help="give up after this long")

    cancel = commands.add_parser("cancel", help="cancel a task (its submitter or an admin)")
    cancel.add_argument("id", metavar="ID", help="a task id or ARN")

    watch = commands.add_parser("watch", help="a live table of tasks, updated as they change")
    watch.add_argument("ids", nargs="*", metavar="ID", help="task ids or ARNs (ends when all of them have)")
    watch.add_argument("--mine", action="store_true", help="your tasks (submitted through the API); until Ctrl-C")
    return parser


def default_client(args: argparse.Namespace) -> TrackerClient:
    return TrackerClient(
        api_url=args.api_url, stack_name=args.stack, region=args.region, live_url=args.live_url, sdk_results=False
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    client_factory: ClientFactory = default_client,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    from rich.console import Console  # noqa: PLC0415

    file = stdout or sys.stdout
    out = Console(file=file, soft_wrap=False, width=None if file.isatty() else 250)  # piped: don't cut lines
    err = Console(file=stderr or sys.stderr, stderr=True)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: 2 for usage errors, 0 for --help
        return int(exit_.code or 0)
    if args.command == "watch" and not args.ids and not args.mine:
        err.print("error: watch needs task ids, --mine, or both", markup=False)
        return USAGE
    with warnings.catch_warnings():
        warnings.simplefilter("always", LiveUpdatesUnavailableWarning)
        warnings.showwarning = lambda message, *_: err.print(f"warning: {message}", markup=False, highlight=False)
        try:
            client = client_factory(args)
            command = Commands(client, args, out, err, stdout or sys.stdout)
            return int(getattr(command, args.command)())
        except KeyboardInterrupt:
            err.print("interrupted", markup=False)
            return INTERRUPTED
        except (TrackerError, ValueError, OSError) as error:
            err.print(f"error: {describe(error)}", markup=False, highlight=False)
            return exit_code(error)


def describe(error: BaseException) -> str:
    if isinstance(error, ApiError):
        text = f"{error.message} ({error.status} {error.error})"
        problems = error.details.get("errors")
        if isinstance(problems, list):
            text += "".join(f"\n  {p.get('path', '?')}: {p.get('message', p)}" for p in problems if isinstance(p, dict))
        return text
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.filename}: {error.strerror}"
    return str(error) or type(error).__name__


class Commands:
    def __init__(self, client: TrackerClient, args: argparse.Namespace, out: Any, err: Any, raw: IO[str]) -> None:
        self.client, self.args, self.out, self.err, self.raw = client, args, out, err, raw
        self.json = args.output == "json"

    def emit_json(self, document: Any) -> None:
        self.raw.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
        self.raw.flush()

    # -- commands -----------------------------------------------------------------------------

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
                self.emit_json({"taskArn": task.id, "taskId": task.id.rsplit("/", 1)[-1], "status": "CREATED"})
            else:
                self.out.print(task.id, markup=False, highlight=False)
            return OK
        self.err.print(f"submitted {task.id}", markup=False, highlight=False)
        return self._wait_and_print(task, self.args.timeout)

    def list(self) -> int:
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
            self.emit_json(items)
        else:
            self.out.print(task_table(items, title=f"{len(items)} task(s), newest first"))
        return OK

    def show(self) -> int:
        item = self.client.get(self.args.id, include_queue=self.args.queue)
        if self.json:
            self.emit_json(item)
        else:
            self.out.print(item_table(item))
        return OK

    def result(self) -> int:
        return self._wait_and_print(self.client.task(self.args.id), self.args.timeout)

    def cancel(self) -> int:
        task = self.client.task(self.args.id)
        status = task.cancel()
        if self.json:
            self.emit_json({"taskArn": task.id, "status": status})
        else:
            self.out.print(f"{task.id} {status}", markup=False, highlight=False)
        return OK

    def watch(self) -> int:
        tasks = [self.client.task(task_id) for task_id in self.args.ids]
        watcher = Watcher(self, [task.id for task in tasks], mine=self.args.mine)
        for task in tasks:
            watcher.states.accept(task.item(use_cached_value=True), "api")
        return watcher.run()

    # -- waiting ------------------------------------------------------------------------------

    def _wait_and_print(self, task: TrackedTask, timeout: float | None) -> int:
        short = task.id.rsplit("/", 1)[-1]
        with self.err.status(f"waiting for {short} ...") as status:

            def progress(update: TaskUpdate) -> None:
                status.update(f"{short}: {update.status} ({update.source})")

            result: TaskResult = task.result(timeout=timeout, sdk=False, on_update=progress)
        if self.json:
            self.emit_json(result.to_json())
        else:
            self.out.print(result_view(result))
        return OK if result.status == "COMPLETED" else TASK_DID_NOT_COMPLETE


class Watcher:
    """The `watch` table: rows from snapshots and pushes over the live channel (or, failing that,
    API reads with backoff); with --output json, one JSON line per update instead."""

    def __init__(self, commands: Commands, arns: list[str], *, mine: bool) -> None:
        self.commands = commands
        self.client = commands.client
        self.arns = arns
        self.mine = mine
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
        if self.commands.json:
            for update in self.states.latest.values():
                self._print_json(update)
            for update in self.updates():
                self._print_json(update)
                if self.done():
                    break
            return self.outcome()
        from rich.live import Live  # noqa: PLC0415

        with Live(task_table(self.rows(), title="watching"), console=self.commands.out, auto_refresh=False) as live:
            for _ in self.updates():
                live.update(task_table(self.rows(), title="watching"), refresh=True)
                if self.done():
                    break
        return self.outcome()

    def _print_json(self, update: TaskUpdate) -> None:
        self.commands.raw.write(json.dumps({"source": update.source, **update.document}, sort_keys=True) + "\n")
        self.commands.raw.flush()

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


# -- rendering ------------------------------------------------------------------------------------


def short_time(value: Any) -> str:
    return str(value).replace("T", " ")[:19] if value else ""


def styled(status: str) -> Any:
    from rich.text import Text  # noqa: PLC0415

    return Text(status, style=STATUS_STYLE.get(status, ""))


def task_table(items: Sequence[dict[str, Any]], title: str | None = None) -> Any:
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title, title_justify="left", expand=False)
    for column, justify in (("task id", "left"), ("status", "left"), ("device", "left"), ("shots", "right")):
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for column in ("created (UTC)", "ended (UTC)", "queue s", "run s", "tags / failure"):
        table.add_column(column, no_wrap=column != "tags / failure")
    for item in items:
        tags = ", ".join(f"{k}={v}" for k, v in sorted((item.get("tags") or {}).items()) if not k.startswith("braket-"))
        table.add_row(
            str(item.get("taskId") or str(item.get("taskArn", "")).rsplit("/", 1)[-1]),
            styled(str(item.get("status", ""))),
            str(item.get("deviceName", "")),
            str(item.get("shots", "")),
            short_time(item.get("createdAt")),
            short_time(item.get("endedAt")),
            _number(item.get("queueSeconds")),
            _number(item.get("runSeconds")),
            item.get("failureReason") or tags,
        )
    return table


def item_table(item: dict[str, Any]) -> Any:
    from rich.table import Table  # noqa: PLC0415

    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key in sorted(item):
        value = item[key]
        if key == "status":
            table.add_row(key, styled(str(value)))
        elif key == "statusTimes" and isinstance(value, dict):
            ordered = sorted(value.items(), key=lambda pair: (RANK.get(pair[0], 9), pair[1]))
            table.add_row(key, "\n".join(f"{status:<11}{time_}" for status, time_ in ordered))
        elif isinstance(value, dict | list):
            table.add_row(key, json.dumps(value, sort_keys=True))
        elif value is not None:
            table.add_row(key, str(value))
    return table


def result_view(result: TaskResult) -> Any:
    from rich.console import Group  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    header = Text.assemble(result.task_arn, " ", styled(result.status))
    parts: list[Any] = [header]
    if result.failure_reason:
        parts.append(Text(f"failure reason: {result.failure_reason}"))
    values: dict[str, float] = dict(result.counts or result.probabilities or {})
    if values:
        total = sum(values.values()) or 1
        table = Table(box=None, padding=(0, 2, 0, 0))
        table.add_column("bitstring", no_wrap=True)
        table.add_column("count" if result.counts else "probability", justify="right")
        table.add_column("", no_wrap=True)
        top = max(values.values())
        for bits, value in list(values.items())[:32]:
            bar = "#" * max(1, round(30 * value / top)) if value else ""
            shown = str(value) if result.counts else f"{value:.4f}"
            table.add_row(bits, shown, f"{bar} {100 * value / total:.1f}%")
        if len(values) > 32:
            table.add_row(f"... {len(values) - 32} more", "", "")
        parts.append(table)
    if result.measured_qubits is not None:
        parts.append(Text(f"measured qubits: {result.measured_qubits}   shots: {result.shots}"))
    elif result.kind and not values and result.status == "COMPLETED":
        parts.append(Text(f"{result.kind} result: read it from the link below"))
    if result.results_url:
        parts.append(Text(f"results.json (link valid until {result.url_expires_at}): {result.results_url}"))
    return Group(*parts)


def _number(value: Any) -> str:
    return "" if value is None else f"{float(value):.2f}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

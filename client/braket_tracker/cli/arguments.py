"""The command line: commands, options and their checks, with the help a new user reads.

Global options (where the tracker is, `--output`, `--debug`) are accepted anywhere, before or after
the command, as aws-cli accepts them. Values are checked here, so a mistake gets a sentence naming
what is allowed rather than an API error.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime
from typing import Any

from braket_tracker.cli.costs import add_arguments as add_cost_arguments
from braket_tracker.cli.exit_codes import EXIT_CODES
from braket_tracker.cli.jobs import add_job_commands
from braket_tracker.client import DEVICES
from braket_tracker.live import RANK

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DEVICE_ARN = re.compile(r"arn:aws[a-z-]*:braket:[a-z0-9-]*::device/[A-Za-z0-9_./-]{1,200}")


def parse_tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def parse_input(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    numbers = parsed if isinstance(parsed, list) else [parsed]
    if not numbers or not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        raise argparse.ArgumentTypeError(f"{name}: a number or a JSON list of numbers, got {value!r}")
    return name, parsed


def device(text: str) -> str:
    """A device ARN, or the name of an on-demand simulator."""
    if text.lower() in DEVICES or _DEVICE_ARN.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a device: give a device ARN (arn:aws:braket:<region>::device/<type>/<provider>/<name>) "
        f"or one of {', '.join(DEVICES)}"
    )


def created(text: str) -> str:
    """A date (midnight UTC) or an ISO-8601 time with a time zone, as the API takes it."""
    if _DATE.fullmatch(text):
        text += "T00:00:00Z"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a date (2026-11-17, midnight UTC) or a time with a time zone (2026-11-17T08:00:00Z)"
        )
    return text


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


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options every command takes; on the commands (defaults=False) they override only if given."""

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    where = parser.add_argument_group("where the tracker is (default: $BRAKET_TRACKER_API_URL, else the stack)")
    where.add_argument("--stack", metavar="NAME", default=default(None), help="the stack's name (BraketTaskTracker)")
    where.add_argument("--api-url", metavar="URL", default=default(None), help="the Task API URL (TaskApiUrl output)")
    where.add_argument("--live-url", metavar="URL", default=default(None), help="the live-updates URL")
    where.add_argument("--region", metavar="REGION", default=default(None), help="the stack's Region")
    output = parser.add_argument_group("output")
    output.add_argument(
        "--output", "-o", choices=("table", "json"), default=default("table"), help="table (default) or json"
    )
    output.add_argument(
        "--debug", action="store_true", default=default(False), help="say more about errors (a refused signature)"
    )


def build_parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="braket-tracker",
        description="Submit, list, show, cancel and wait for Amazon Braket tasks, follow hybrid jobs, and see "
        "what tasks cost, through the Braket Task Tracker.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=summary, description=summary)
        _global_options(sub, defaults=False)
        return sub

    names = ", ".join(DEVICES)
    submit = command("submit", "submit an OpenQASM 3 program")
    submit.add_argument("file", metavar="FILE.qasm", help="the program (- for standard input)")
    submit.add_argument("--device", required=True, type=device, help=f"a device ARN, or {names}")
    submit.add_argument("--shots", required=True, type=int, help="shots (0 for exact results on simulators)")
    submit.add_argument(
        "--tag",
        action="append",
        type=parse_tag,
        default=[],
        metavar="KEY=VALUE",
        help="a tag of the task (repeat for more; keys starting with braket-tracker: are reserved)",
    )
    submit.add_argument(
        "--input",
        action="append",
        type=parse_input,
        default=[],
        metavar="NAME=VALUE",
        help="a value of the program's `input` parameter NAME: a number or a JSON list (repeat for more)",
    )
    submit.add_argument("--idempotency-key", metavar="KEY", help="makes a retried submission safe (default: new)")
    submit.add_argument("--wait", action="store_true", help="wait for the end and print the result")
    submit.add_argument("--timeout", type=seconds, metavar="SECONDS", help="with --wait: give up after this long")

    listing = command("list", "list tasks, newest first (one filter among status, device, submitter, tag, job)")
    listing.add_argument("--status", choices=tuple(RANK), help="in this status")
    listing.add_argument("--device", type=device, help=f"on this device (an ARN, or {names})")
    listing.add_argument("--submitter", metavar="ARN|me", help="submitted through the API by this IAM ARN (me: you)")
    listing.add_argument("--tag", type=parse_tag, metavar="KEY=VALUE", help="with this promoted tag")
    when = "a date (midnight UTC) or an ISO-8601 time with a time zone"
    listing.add_argument("--created-after", type=created, metavar="WHEN", help=f"created at or after: {when}")
    listing.add_argument("--created-before", type=created, metavar="WHEN", help=f"created before: {when}")
    listing.add_argument("--limit", type=positive, default=25, help="at most this many tasks (default 25)")
    listing.add_argument("--job", metavar="ID", help="the tasks of this hybrid job (an id or ARN), newest first")

    show = command("show", "one task, as the tracker records it")
    show.add_argument("id", metavar="ID", help="a task id or ARN")
    show.add_argument("--queue", action="store_true", help="add Braket's queue position")

    result = command("result", "wait for a task's end, then print its result")
    result.add_argument("id", metavar="ID", help="a task id or ARN")
    result.add_argument("--timeout", type=seconds, metavar="SECONDS", help="give up after this long")

    cancel = command("cancel", "cancel a task (its submitter or an admin)")
    cancel.add_argument("id", metavar="ID", help="a task id or ARN")

    costs = command("costs", "what tasks cost in a month, by submitter, device or a tag, with budgets")
    add_cost_arguments(costs)

    watch = command("watch", "a live table of tasks, updated as they change")
    watch.add_argument("ids", nargs="*", metavar="ID", help="task ids or ARNs (ends when all of them have)")
    watch.add_argument("--mine", action="store_true", help="your tasks (submitted through the API); until Ctrl-C")
    add_job_commands(command, created, positive)
    return parser

"""`braket-tracker`: submit, list, show, result, cancel and watch tracked tasks from a shell.

Tables by default (rich, on a terminal; plain lines in a pipe), `--output json` for scripts;
progress on stderr while waiting; exit codes scripts can trust (see EXIT_CODES, also in
`braket-tracker --help`). The parts: `arguments` (the command line), `commands` and `watch` (what
each command does), `rendering` (what is printed), `exit_codes` (how it ends, and what it says).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from typing import IO

from braket_tracker.cli.arguments import build_parser
from braket_tracker.cli.commands import Commands
from braket_tracker.cli.exit_codes import EXIT_CODES, INTERRUPTED, USAGE, describe, exit_code
from braket_tracker.cli.rendering import Screen
from braket_tracker.cli.watch import Watcher
from braket_tracker.client import TrackerClient
from braket_tracker.errors import LiveUpdatesUnavailableWarning, TrackerError

__all__ = ["EXIT_CODES", "build_parser", "describe", "exit_code", "main"]

ClientFactory = Callable[[argparse.Namespace], TrackerClient]


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
    screen = Screen(stdout or sys.stdout, stderr or sys.stderr)
    try:
        with redirect_stdout(stdout or sys.stdout), redirect_stderr(stderr or sys.stderr):  # help, usage errors
            args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: 2 for usage errors, 0 for --help
        return int(exit_.code or 0)
    mistake = _usage_mistake(args)
    if mistake:
        screen.note(f"error: {mistake}")
        return USAGE
    with warnings.catch_warnings():
        warnings.simplefilter("always", LiveUpdatesUnavailableWarning)
        warnings.showwarning = lambda message, *_: screen.note(f"warning: {message}")
        try:
            client = client_factory(args)
            if args.command == "watch":
                tasks = [client.task(task_id) for task_id in args.ids]
                watcher = Watcher(
                    client, screen, [task.id for task in tasks], mine=args.mine, as_json=args.output == "json"
                )
                for task in tasks:
                    watcher.states.accept(task.item(use_cached_value=True), "api")
                return watcher.run()
            return int(getattr(Commands(client, args, screen), args.command)())
        except KeyboardInterrupt:
            screen.note("interrupted")
            return INTERRUPTED
        except (TrackerError, ValueError, OSError) as error:
            screen.note(f"error: {describe(error, debug=args.debug)}")
            return exit_code(error)


def _usage_mistake(args: argparse.Namespace) -> str | None:
    """What the parser cannot check: options that only make sense together, or apart."""
    if args.command == "watch" and not args.ids and not args.mine:
        return "watch needs task ids, --mine, or both"
    if args.command == "list" and args.job and any((args.status, args.device, args.submitter, args.tag)):
        return "list --job takes no other filter (a job's tasks are listed by the job alone)"
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""What the CLI prints: tables and views of tasks and results, on a terminal or into a pipe.

On a terminal, rich draws them (colours, the terminal's width). Anywhere else (a pipe, a file, a
script's capture) the same views are plain lines: never wrapped, never padded with trailing spaces,
so an ARN or a presigned URL is always whole on its line.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import IO, Any

from braket_tracker.live import RANK
from braket_tracker.results import TaskResult

STATUS_STYLE = {
    "CREATED": "dim",
    "QUEUED": "yellow",
    "RUNNING": "cyan",
    "CANCELLING": "magenta",
    "COMPLETED": "green",
    "FAILED": "bold red",
    "CANCELLED": "red",
}
PLAIN_WIDTH = 100_000
"""Wide enough that nothing a view holds is ever wrapped when it is not drawn on a terminal."""


class Screen:
    """Standard output for results, standard error for progress, warnings and errors."""

    def __init__(self, stdout: IO[str], stderr: IO[str]) -> None:
        from rich.console import Console  # noqa: PLC0415 (rich only once the CLI runs)

        self.raw = stdout
        self.terminal = stdout.isatty()
        self.out = Console(file=stdout, soft_wrap=False)
        self.err = Console(file=stderr, stderr=True, soft_wrap=True, highlight=False)

    def show(self, renderable: Any) -> None:
        """A view (a table, a result): drawn on a terminal, else plain lines."""
        if self.terminal:
            self.out.print(renderable)
        else:
            self.raw.write(plain(renderable))
            self.raw.flush()

    def line(self, text: str) -> None:
        """One line of text on standard output, as it is."""
        self.raw.write(text + "\n")
        self.raw.flush()

    def json(self, document: Any, *, indent: int | None = 2) -> None:
        self.raw.write(json.dumps(document, indent=indent, sort_keys=True) + "\n")
        self.raw.flush()

    def note(self, text: str) -> None:
        """A message on standard error (never wrapped: an ARN in it stays whole)."""
        self.err.print(text, markup=False, highlight=False, soft_wrap=True)


def plain(renderable: Any) -> str:
    """A rich view as plain text: no colours, no wrapping, no trailing spaces."""
    from rich.console import Console  # noqa: PLC0415

    buffer = io.StringIO()
    Console(file=buffer, width=PLAIN_WIDTH, color_system=None, soft_wrap=True, force_terminal=False).print(renderable)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


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

"""`braket-tracker costs`: what tasks cost in a month, by submitter, device or a promoted tag, as a
table with a bar per row (its share of the month), budgets and Braket's spending limits beside them;
`--limits` asks Braket for every spending limit now."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
BAR_WIDTH = 30
BREAKDOWNS = ("account", "submitter", "device")


def month(text: str) -> str:
    if not _MONTH.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r}: give a month as YYYY-MM, e.g. 2026-12")
    return text


def breakdown(text: str) -> str:
    """account, submitter, device, or a promoted tag key (`project`, or `tag:project`)."""
    if text in BREAKDOWNS or text.startswith("tag:"):
        return text
    if not text or any(c in text for c in "=:,"):
        raise argparse.ArgumentTypeError(f"{text!r}: give account, submitter, device or a promoted tag key")
    return f"tag:{text}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", type=month, metavar="YYYY-MM", help="a UTC month (default: this month)")
    parser.add_argument(
        "--by",
        type=breakdown,
        default="account",
        metavar="WHAT",
        help="account (default), submitter, device, or a promoted tag key such as project",
    )
    parser.add_argument("--limits", action="store_true", help="Braket's spending limits, asked now")


def cost_table(report: dict[str, Any]) -> Any:
    from rich.table import Table  # noqa: PLC0415

    by = str(report["by"])
    rows = sorted(report.get("rows", []), key=lambda row: (-Decimal(row["usd"]), str(row.get("value"))))
    total = Decimal(str(report.get("totalUsd") or 0))
    table = Table(
        title=f"Costs in {report['month']} (UTC) by {by.removeprefix('tag:')}: {usd(total)} in all",
        title_justify="left",
    )
    table.add_column(by.removeprefix("tag:"), no_wrap=True)
    for column in ("USD", "tasks"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("share", no_wrap=True)
    table.add_column("budget", no_wrap=True)
    if by == "device":
        table.add_column("Braket spending limit", no_wrap=True)
    top = max((Decimal(row["usd"]) for row in rows), default=Decimal(0))
    for row in rows:
        amount = Decimal(row["usd"])
        share = amount / total * 100 if total else Decimal(0)
        bar = "#" * max(1, round(BAR_WIDTH * amount / top)) if amount and top else ""
        cells = [
            _label(row, by),
            usd(amount),
            str(row["tasks"]) + (f" ({row['unpricedTasks']} unpriced)" if row.get("unpricedTasks") else ""),
            f"{bar} {share:.1f}%",
            _budget(row.get("budget")),
        ]
        if by == "device":
            cells.append(_limit(row.get("braketSpendingLimit")))
        table.add_row(*cells)
    return table


def limits_table(report: dict[str, Any]) -> Any:
    from rich.table import Table  # noqa: PLC0415

    table = Table(title="Braket spending limits (SearchSpendingLimits, now)", title_justify="left")
    for column in ("device", "limit", "spent", "queued", "remaining", "period (UTC)", "tracker this month"):
        table.add_column(column, no_wrap=True, justify="right" if column in ("limit", "spent", "queued") else "left")
    for limit in report.get("limits", []):
        tracker = limit.get("tracker") or {}
        table.add_row(
            str(limit["deviceArn"]).rsplit("/", 1)[-1],
            usd(Decimal(limit["spendingLimitUsd"])),
            usd(Decimal(limit["totalSpendUsd"])),
            usd(Decimal(limit["queuedSpendUsd"])),
            usd(Decimal(limit["remainingUsd"])),
            f"{str(limit.get('startAt') or '')[:10]} .. {str(limit.get('endAt') or '')[:10]}",
            f"{usd(Decimal(tracker.get('usd', '0')))} ({tracker.get('tasks', 0)} tasks)",
        )
    return table


def this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def usd(value: Decimal) -> str:
    """Exact, with at least two decimals: $80.30, $0.00375."""
    text = f"{value.normalize():f}"
    whole, _, fraction = text.partition(".")
    return f"${int(whole):,}.{(fraction + '00')[: max(2, len(fraction))]}"


def _label(row: dict[str, Any], by: str) -> str:
    value = row.get("value")
    if by == "account":
        return "account"
    if not value:
        return "(outside the API)" if by == "submitter" else "(none)"
    return str(value).rsplit("/", 1)[-1] if by == "device" else str(value)


def _budget(budget: dict[str, Any] | None) -> str:
    if not budget:
        return ""
    return f"{budget['percentUsed']}% of {usd(Decimal(budget['monthlyUsd']))}"


def _limit(limit: dict[str, Any] | None) -> str:
    if not limit:
        return ""
    spent, queued = Decimal(limit["totalSpendUsd"]), Decimal(limit["queuedSpendUsd"])
    return f"{usd(spent)} + {usd(queued)} queued of {usd(Decimal(limit['spendingLimitUsd']))}"

"""`python -m ops backfill ...`, `python -m ops replay` and `python -m ops prices`: see README.md, "Operations",
and docs/costs.md."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ops.backfill import Backfill, Totals
from ops.backfill_jobs import DEFAULT_RATE as JOBS_RATE
from ops.backfill_jobs import JobBackfill
from ops.deployment import (
    OUTPUT_DEAD_LETTER_QUEUE,
    OUTPUT_EVENT_QUEUE,
    OUTPUT_JOBS,
    OUTPUT_STATE_TABLE,
    OUTPUT_TASK_TABLE,
    Deployment,
    DeploymentError,
)
from ops.prices import refresh, write_offer_file
from ops.replay import Replay, queue_region
from tracker.constants import BRAKET_REGIONS
from tracker.data.price_catalogue import SHIPPED_CATALOGUE
from tracker.data.price_list_api import PriceListApi
from tracker.prices.config import PRICE_LIST_REGIONS

DEFAULT_STACK = "BraketTaskTracker"
MAX_RATE = 90.0  # Braket allows 100 GetQuantumTask requests/s per account and Region


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops", description="Operate a deployed Braket Task Tracker.")
    parser.add_argument("--stack", default=DEFAULT_STACK, help="the tracker's stack name")
    parser.add_argument("--home-region", help="where the tracker is deployed (default: AWS_REGION)")
    commands = parser.add_subparsers(dest="command", required=True)

    backfill = commands.add_parser("backfill", help="import the tasks Braket already has")
    backfill.add_argument("--region", action="append", choices=BRAKET_REGIONS, help="repeat for several (default: all)")
    backfill.add_argument("--since", required=True, type=_moment, help="tasks created from (ISO date or date-time)")
    backfill.add_argument("--until", type=_moment, help="tasks created until (default: now)")
    backfill.add_argument("--rate", type=_rate, default=20.0, help="Braket requests per second per Region")
    backfill.add_argument("--window-hours", type=_hours, default=24, help="search window per checkpoint")
    backfill.add_argument("--workers", type=_workers, default=4, help="tasks recorded side by side")
    backfill.add_argument("--restart", action="store_true", help="ignore the checkpoint: search the whole range")
    backfill.add_argument(
        "--jobs-rate", type=_jobs_rate, default=JOBS_RATE, help="GetJob/SearchJobs requests per second per Region"
    )

    replay = commands.add_parser("replay", help="move parked events back into the capture queue")
    replay.add_argument("--region", action="append", choices=BRAKET_REGIONS, help="forwarder Regions (default: all)")

    prices = commands.add_parser("prices", help="rewrite the shipped price catalogue from the AWS Price List")
    prices.add_argument("--region", choices=PRICE_LIST_REGIONS, default=PRICE_LIST_REGIONS[0], help="its endpoint")
    prices.add_argument("--catalogue", type=Path, default=SHIPPED_CATALOGUE, help="the catalogue file")
    prices.add_argument("--offer-file", type=Path, help="instead, write the catalogue as the SDK's bulk CSV here")
    args = parser.parse_args(argv)
    if args.command == "prices":
        if args.offer_file:
            return write_offer_file(args.catalogue, args.offer_file, _report)
        return refresh(args.catalogue, PriceListApi(args.region), _report)
    if args.command == "backfill" and args.until is not None and args.until <= args.since:
        parser.error("--until must be after --since")
    try:
        deployment = Deployment.find(args.stack, args.home_region)
        if args.command == "backfill":
            return _backfill(deployment, args)
        return _replay(deployment, tuple(args.region or BRAKET_REGIONS))
    except DeploymentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _backfill(deployment: Deployment, args: argparse.Namespace) -> int:
    backfill = Backfill.for_tables(
        deployment.output(OUTPUT_TASK_TABLE),
        deployment.outputs.get(OUTPUT_STATE_TABLE),
        args.rate,
        report=lambda line: print(line, flush=True),
        workers=args.workers,
        home_region=deployment.region,
    )
    jobs = JobBackfill.for_tables(
        deployment.output(OUTPUT_JOBS),
        deployment.outputs.get(OUTPUT_STATE_TABLE),
        args.jobs_rate,
        report=lambda line: print(line, flush=True),
        home_region=deployment.region,
    )
    totals, job_totals = Totals(), Totals()
    window = timedelta(hours=args.window_hours)
    for region in args.region or BRAKET_REGIONS:
        totals.add(backfill.run(region, args.since, args.until, window, args.restart))
        job_totals.add(jobs.run(region, args.since, args.until, window, args.restart))
    print(
        f"Backfill done: {totals.found} tasks found, {totals.recorded} recorded, "
        f"{totals.unchanged} already recorded, {totals.errors} errors; {job_totals.found} hybrid jobs found, "
        f"{job_totals.recorded} recorded, {job_totals.unchanged} already recorded, {job_totals.errors} errors"
    )
    return 1 if totals.errors or job_totals.errors else 0


def _replay(deployment: Deployment, regions: tuple[str, ...]) -> int:
    replay = Replay.with_boto3(report=lambda line: print(line, flush=True))
    target = deployment.output(OUTPUT_EVENT_QUEUE)
    sources = {deployment.region: deployment.output(OUTPUT_DEAD_LETTER_QUEUE)}
    sources.update(deployment.forwarder_dead_letter_queues(regions))
    moved = failed = 0
    for region, url in sources.items():
        print(f"{region}: redriving {url}", flush=True)
        result = replay.redrive(url, queue_region(url, region), target, deployment.region)
        moved, failed = moved + result.moved, failed + result.failed
    print(f"Replay done: {moved} events moved to the capture queue, {failed} left parked")
    return 1 if failed else 0


def _report(line: str) -> None:
    print(line, flush=True)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = 0.0
    if not 0 < rate <= MAX_RATE:
        raise argparse.ArgumentTypeError(f"give requests per second above 0, at most {MAX_RATE:g}")
    return rate


def _jobs_rate(text: str) -> float:
    rate = _rate(text)
    if rate > 4:
        raise argparse.ArgumentTypeError(
            "at most 4 GetJob requests per second (Braket's quota is 5 per account and Region)"
        )
    return rate


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 32:
        raise argparse.ArgumentTypeError("give a whole number of workers from 1 to 32")
    return int(text)


def _hours(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 24 * 31:
        raise argparse.ArgumentTypeError("give a whole number of hours from 1 to 744")
    return int(text)


if __name__ == "__main__":
    sys.exit(main())

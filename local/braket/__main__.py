"""python -m local.braket --aws-endpoint URL [--port N] [--queue-delay S] [--faults]: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from types import FrameType

from local.braket.app import DEFAULT_ACCOUNT, LocalBraket
from local.faults import FaultPlan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.braket", description=__doc__)
    parser.add_argument(
        "--aws-endpoint",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="the moto server for S3 and EventBridge (default: $AWS_ENDPOINT_URL)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed at start)")
    parser.add_argument("--queue-delay", type=float, default=0.5, help="seconds a task stays QUEUED")
    parser.add_argument("--account", default=DEFAULT_ACCOUNT, help="the account in task ARNs")
    parser.add_argument(
        "--faults",
        action="store_true",
        help="chaos fault mode, seeded by $TRACKER_LOCAL_FAULT_SEED (default: $TRACKER_LOCAL_FAULTS=1 turns it on)",
    )
    args = parser.parse_args(argv)
    if not args.aws_endpoint:
        parser.error("--aws-endpoint is required (or set AWS_ENDPOINT_URL)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    faults = (
        FaultPlan.chaos(int(os.environ.get("TRACKER_LOCAL_FAULT_SEED", "0"))) if args.faults else FaultPlan.from_env()
    )

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    braket = LocalBraket(
        args.aws_endpoint,
        account=args.account,
        queue_delay=args.queue_delay,
        faults=faults,
        host=args.host,
        port=args.port,
    )
    url = braket.start()
    print(f"Local Braket listening on {url} (export AWS_ENDPOINT_URL_BRAKET={url}); Ctrl-C stops it", flush=True)
    try:
        stopping.wait()
    finally:
        braket.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

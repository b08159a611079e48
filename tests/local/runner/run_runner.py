"""A runner in a process of its own, for the orphan tests: starts, invokes the given functions, prints
their worker pids as a JSON line, then waits (as local mode does) until it is signalled or killed."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from local.runner import LocalRunner


def main() -> None:
    # As in a terminal: a shell's background job starts with SIGINT ignored, and the test sends it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    config = json.loads(Path(sys.argv[1]).read_text())
    runner = LocalRunner(
        config["template"], Path(config["cdk_out"]), config["stack_name"], config["endpoint"], "us-east-1"
    ).start()
    for function_id in config["invoke"]:
        assert runner.invoke(function_id, {}).ok
    print(json.dumps(runner.worker_pids()), flush=True)
    runner.wait()


if __name__ == "__main__":
    main()

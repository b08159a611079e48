"""A simulator worker process: `python -m local.braket.simulator_worker` runs one simulation at a time.

Jobs arrive on stdin, one JSON object per line (local/braket/results.py `simulate` describes them); each
answer leaves on the process's original stdout, one line: {"document": <results.json>} or {"error": reason}.
Anything a library prints goes to stderr, which the service logs. Simulations run here, never in the
service's process: numba's workqueue threading layer (which amazon-braket-default-simulator selects)
aborts the whole process when two threads launch parallel kernels at once, and a simulation that
crashes, or is killed to cancel its task, takes only this process down (local/braket/simulators.py).
"""

from __future__ import annotations

import json
import os
import signal
import sys


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the service's to handle
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # print() in a library must not corrupt the answers
    from local.braket.programs import describe  # noqa: PLC0415 (after the descriptors are set)
    from local.braket.results import simulate  # noqa: PLC0415

    answers.write(json.dumps({"ready": os.getpid()}) + "\n")
    for line in sys.stdin:
        answer: dict[str, object]
        try:
            answer = {"document": simulate(json.loads(line))}
        except Exception as exc:  # the simulator rejects a program in many ways: the task fails with the reason
            answer = {"error": describe(exc)}
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()

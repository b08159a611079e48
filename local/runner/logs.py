"""The runner's logs: quiet by default (warnings only); a log file and/or stderr on request.

Runner messages go to the `local.runner` logger; every line a function's worker prints (stdout and
stderr) goes to `local.runner.functions` at INFO, prefixed with the function's logical id.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

RUNNER_LOGGER = logging.getLogger("local.runner")
_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class RunnerLogs:
    def __init__(self, log_file: Path | None, verbose: bool) -> None:
        self._handlers: list[logging.Handler] = []
        if log_file is not None:
            self._handlers.append(logging.FileHandler(log_file))
        if verbose:
            self._handlers.append(logging.StreamHandler(sys.stderr))
        self._previous_level = RUNNER_LOGGER.level

    def attach(self) -> None:
        for handler in self._handlers:
            handler.setFormatter(logging.Formatter(_FORMAT))
            RUNNER_LOGGER.addHandler(handler)
        if self._handlers:
            RUNNER_LOGGER.setLevel(logging.DEBUG)

    def detach(self) -> None:
        for handler in self._handlers:
            RUNNER_LOGGER.removeHandler(handler)
            handler.close()
        self._handlers.clear()
        RUNNER_LOGGER.setLevel(self._previous_level)

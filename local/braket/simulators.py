"""The simulator worker processes: each runs one simulation at a time, and a dead one is replaced.

Why processes: amazon-braket-default-simulator pins numba's threading layer to `workqueue`, which is not
thread-safe. Two simulations launching parallel kernels from two threads of one process abort it ("Numba
workqueue threading layer is terminating: Concurrent access has been detected"): with simulations in the
service's threads, two DM1 tasks at once took moto, the API and the runner down with it. Switching the
layer to `omp` (set after the simulator's import) stops that abort, but leaves every other crash, an
out-of-memory kill and a cancelled task's simulation inside the service. A process per simulation slot
isolates all of them: a worker that dies fails its own task (with the reason) and is replaced; cancelling
a running task kills its worker.
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parents[2]


class SimulationFailed(Exception):
    """The simulator refused or failed the program: the task fails with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SimulationCrashed(SimulationFailed):
    """The worker process died during the simulation (a crash, the kernel's OOM killer, or a cancel)."""


class SimulatorProcess:
    """One `python -m local.braket.simulator_worker`, its pipes, and a thread that logs its stderr."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local.braket.simulator_worker"],
            cwd=PROJECT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.pid = self.process.pid
        self._ready = False
        self._logger = threading.Thread(
            target=self._log, args=(self.process.stderr,), name=f"simulator-{self.pid}", daemon=True
        )
        self._logger.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> None:
        """Until the worker has imported the simulator (about 1.5 s); SimulationCrashed if it died first."""
        if self._ready:
            return
        assert self.process.stdout is not None
        try:
            self._read(self.process.stdout)
        except (OSError, EOFError, ValueError) as exc:
            raise SimulationCrashed(self._death()) from exc
        self._ready = True

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """The results.json document; SimulationFailed with the simulator's reason, SimulationCrashed if it died."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        self.wait_ready()
        try:
            stdin.write(json.dumps(job).encode() + b"\n")
            stdin.flush()
            answer = self._read(stdout)
        except (OSError, EOFError, ValueError) as exc:
            raise SimulationCrashed(self._death()) from exc
        if "error" in answer:
            raise SimulationFailed(str(answer["error"]))
        return dict(answer["document"])

    def _read(self, stdout: IO[bytes]) -> dict[str, Any]:
        line = stdout.readline()
        if not line:
            raise EOFError
        return dict(json.loads(line))

    def _death(self) -> str:
        code = self.process.wait()
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        return (
            f"The simulation ended abnormally: the local simulator's worker process ({self.pid}) died with {how}. "
            "An internal error occurred; the task can be resubmitted."
        )

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        """Kill the worker, close its pipes, and join the thread that logs its stderr."""
        self.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self._logger.join(timeout=5)

    def _log(self, stream: IO[bytes] | None) -> None:
        assert stream is not None
        with stream:
            for raw in stream:
                text = raw.decode(errors="replace").rstrip()
                if text and "may not be supported on QPUs or on-demand simulators" not in text:
                    log.info("simulator %d: %s", self.pid, text)


class SimulatorPool:
    """`size` worker processes; run() takes an idle one (a caller's thread waits for its answer)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: queue.Queue[SimulatorProcess] = queue.Queue()
        self._running: dict[str, SimulatorProcess] = {}
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> None:
        """Start every worker, and wait until each has imported the simulator (they do so in parallel)."""
        processes = [SimulatorProcess() for _ in range(self.size)]
        for process in processes:
            try:
                process.wait_ready()
            except SimulationCrashed as crash:
                log.warning("simulator worker did not start: %s", crash.reason)
            self._idle.put(process)

    def run(self, task_arn: str, job: dict[str, Any]) -> dict[str, Any]:
        process = self._take()
        if not process.alive:
            process.close()
            process = SimulatorProcess()
        with self._lock:
            self._running[task_arn] = process
        try:
            return process.run(job)
        finally:
            with self._lock:
                self._running.pop(task_arn, None)
                stopped = self._stopped
            if stopped:
                process.close()
            elif process.alive:
                self._idle.put(process)
            else:
                process.close()
                log.info("simulator worker %d died; starting another", process.pid)
                self._idle.put(SimulatorProcess())

    def _take(self) -> SimulatorProcess:
        while True:
            with self._lock:
                if self._stopped:
                    raise SimulationCrashed("The local Braket service stopped before the simulation ran.")
            try:
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                continue

    def cancel(self, task_arn: str) -> bool:
        """Kill the worker running this task, if one is (its run() then raises SimulationCrashed)."""
        with self._lock:
            process = self._running.get(task_arn)
        if process is None:
            return False
        process.kill()
        return True

    def pids(self) -> dict[str, int]:
        """Running tasks' worker process ids, by task ARN."""
        with self._lock:
            return {arn: process.pid for arn, process in self._running.items()}

    def stop(self) -> None:
        """Kill every worker, idle or running (running simulations end as crashes)."""
        with self._lock:
            self._stopped = True
            running = list(self._running.values())
        for process in running:
            process.kill()
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

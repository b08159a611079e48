"""A function's execution environments: worker processes, reused while warm, as in Lambda.

Each concurrent invocation gets an idle worker, or a new one (a cold start: the handler module is
imported once per worker). An invocation that overruns the function's timeout is killed and
reported as `Sandbox.Timedout`; the next invocation starts a new worker.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from local.runner.worker import receive_message, send_message

logger = logging.getLogger("local.runner")
function_logger = logging.getLogger("local.runner.functions")

WORKER_SCRIPT = Path(__file__).resolve().with_name("worker.py")
INIT_TIMEOUT = 10.0  # seconds: Lambda's limit on the init phase


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation: the function's JSON result, or Lambda's error object."""

    function: str  # logical id
    request_id: str
    payload: Any
    error: dict[str, Any] | None
    cold_start: bool
    worker_pid: int
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def timed_out(self) -> bool:
        return self.error is not None and self.error.get("errorType") == "Sandbox.Timedout"


@dataclass(frozen=True)
class FunctionConfig:
    logical_id: str
    name: str  # physical name
    arn: str
    handler: str
    code: Path
    timeout: float
    memory_size: int
    environment: Mapping[str, str]  # the whole process environment


class _WorkerGone(Exception):
    pass


class Worker:
    """One worker process and its socket; its stdout and stderr are logged line by line."""

    def __init__(self, config: FunctionConfig) -> None:
        self.config = config
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-u", str(WORKER_SCRIPT), str(theirs.fileno()), str(config.code), config.handler],
            env={**config.environment, "AWS_LAMBDA_LOG_STREAM_NAME": _log_stream_name()},
            cwd=config.code,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(theirs.fileno(),),
        )
        theirs.close()
        self.sock = ours
        self.pid = self.process.pid
        for stream in (self.process.stdout, self.process.stderr):
            threading.Thread(target=self._log_lines, args=(stream,), daemon=True).start()

    def _log_lines(self, stream: IO[bytes] | None) -> None:
        assert stream is not None
        with stream:
            for raw in stream:
                function_logger.info("[%s] %s", self.config.logical_id, raw.decode(errors="replace").rstrip())

    def receive(self, timeout: float) -> dict[str, Any]:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            message = receive_message(self.sock)
        except TimeoutError:
            raise
        except (OSError, ValueError) as exc:
            raise _WorkerGone from exc
        if message is None:
            raise _WorkerGone
        return message

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.sock.close()


def _log_stream_name() -> str:
    return time.strftime("%Y/%m/%d", time.gmtime()) + f"/[$LATEST]{uuid.uuid4().hex}"


class LocalFunction:
    """A function of the template, runnable locally."""

    def __init__(self, config: FunctionConfig) -> None:
        self.config = config
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def logical_id(self) -> str:
        return self.config.logical_id

    def worker_pids(self) -> list[int]:
        with self._lock:
            return sorted(w.pid for w in self._all)

    def invoke(self, event: Any) -> Invocation:
        """Run one invocation on an idle worker, or a new one (a cold start). `event` must be JSON."""
        json.dumps(event)  # a TypeError here, before any worker is taken, as Lambda refuses a non-JSON payload
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        worker, cold = self._acquire()
        result = self._run(worker, cold, request_id, event)
        duration = (time.monotonic() - started) * 1000
        if result.get("discard"):
            self._discard(worker)
        else:
            self._release(worker)
        error = result.get("error")
        logger.debug(
            "REPORT %s RequestId: %s Duration: %.2f ms%s%s",
            self.logical_id,
            request_id,
            duration,
            " (cold start)" if cold else "",
            f" Error: {error.get('errorType')}" if error else "",
        )
        return Invocation(
            function=self.logical_id,
            request_id=request_id,
            payload=result.get("payload"),
            error=error,
            cold_start=cold,
            worker_pid=worker.pid,
            duration_ms=duration,
        )

    def _run(self, worker: Worker, cold: bool, request_id: str, event: Any) -> dict[str, Any]:
        """One invocation on a worker: {"payload"} or {"error"}, with "discard" if the worker must go."""
        limit = max(INIT_TIMEOUT, self.config.timeout)
        try:
            if cold:
                # Lambda gives the init phase 10 s and, when that is not enough, retries it within the
                # invocation's timeout: a cold start may take up to the larger of the two.
                ready = worker.receive(limit)
                if ready["type"] == "init_error":
                    return {"error": {**ready["error"], "requestId": request_id}, "discard": True}
            limit = self.config.timeout
            deadline = time.time() + self.config.timeout
            send_message(
                worker.sock,
                {
                    "type": "invoke",
                    "request_id": request_id,
                    "event": event,
                    "deadline_ms": int(deadline * 1000),
                    "invoked_function_arn": self.config.arn,
                },
            )
            reply = worker.receive(deadline - time.time())
        except TimeoutError:
            message = f"RequestId: {request_id} Error: Task timed out after {limit:.2f} seconds"
            return {"error": {"errorType": "Sandbox.Timedout", "errorMessage": message}, "discard": True}
        except (_WorkerGone, OSError):
            try:
                code = worker.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = None
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
            return {"error": {"errorType": "Runtime.ExitError", "errorMessage": message}, "discard": True}
        if reply["type"] == "result":
            return {"payload": json.loads(reply["payload"])}
        return {"error": reply["error"]}

    def _acquire(self) -> tuple[Worker, bool]:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"function {self.logical_id} is stopped")
            if self._idle:
                return self._idle.pop(), False
            worker = Worker(self.config)
            self._all.add(worker)
            return worker, True

    def _release(self, worker: Worker) -> None:
        with self._lock:
            if self._closed or worker not in self._all:
                return
            self._idle.append(worker)

    def _discard(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def stop(self) -> None:
        """Kill every worker, busy or idle (their invocations end as errors)."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
        for worker in workers:
            worker.kill()

"""Processes of a benchmark run, and the CPU each one spends.

Local mode runs moto in the process that starts it. A benchmark puts it in a process of its own
(`MotoProcess`), as AWS's services are apart from the functions: moto then does not share one GIL with
the runner, the local Braket service and the benchmark's own threads, and its CPU can be told apart.
CPU is read from /proc (user + system time of a process and all its threads, in clock ticks).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bench.common import PROJECT
from local.aws import ACCOUNT, MotoServer
from local.braket import LocalBraket

_TICK = os.sysconf("SC_CLK_TCK")
_SERVE = """
import signal, sys
from local.aws import MotoServer
MotoServer.start(port=int(sys.argv[1]))
print("ready", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
"""


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a live process (all its threads); 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15 of stat)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


@dataclass
class MotoProcess(MotoServer):
    """moto server (with local mode's atomic DynamoDB) in a child process; stop() ends it."""

    process: subprocess.Popen[str] | None = None

    @classmethod
    def launch(cls) -> MotoProcess:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(port)],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
        )
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            process.kill()
            raise RuntimeError("moto server did not start")
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):  # listening once it answers
            try:
                urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=5).close()
                break
            except OSError:
                time.sleep(0.05)
        return cls(url=url, server=None, process=process)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_BRAKET = """
import logging, sys
from local.braket.__main__ import main
handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(logging.Formatter("%(created).6f %(message)s"))
logging.getLogger().addHandler(handler)
logging.getLogger().setLevel(logging.WARNING)  # main()'s basicConfig is then a no-op: no line per request
logging.getLogger("local.braket.events").setLevel(logging.DEBUG)  # "sent ARN STATUS" per event put on the bus
sys.exit(main(sys.argv[1:]))
"""


class BraketProcess(LocalBraket):
    """The local Braket service (`python -m local.braket`) in a child process, for LocalTracker(braket=...):
    the polling waiters' requests are then served apart from the runner, as Braket's API is apart
    from the tracker's functions in AWS. Its simulator workers are its own children. `on_sent(arn,
    status, at)` is told when each event's PutEvents returned (epoch seconds), from its log."""

    def __init__(
        self, aws_endpoint_url: str, queue_delay: float, on_sent: Callable[[str, str, float], None] | None = None
    ) -> None:  # nothing of LocalBraket runs here
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _BRAKET,
                "--aws-endpoint",
                aws_endpoint_url,
                "--queue-delay",
                str(queue_delay),
                "--account",
                ACCOUNT,
            ],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT), "TRACKER_LOCAL_FAULTS": "0"},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on " not in line:
            self.process.kill()
            raise RuntimeError(f"the local Braket service did not start: {line!r}")
        self._url = line.split("listening on ", 1)[1].split()[0]
        threading.Thread(target=self._read_log, args=(on_sent,), daemon=True).start()

    def _read_log(self, on_sent: Callable[[str, str, float], None] | None) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:  # read to the end, so the child never blocks on a full pipe
            parts = line.split()
            if on_sent is not None and len(parts) == 4 and parts[1] == "sent":
                on_sent(parts[2], parts[3], float(parts[0]))

    @property
    def url(self) -> str:
        return self._url

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> str:
        return self._url

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def children(pid: int) -> set[int]:
    """The live child processes of `pid` (of any of its threads)."""
    found: set[int] = set()
    try:
        tasks = list(os.scandir(f"/proc/{pid}/task"))
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"{task.path}/children", encoding="ascii") as listed:
                found.update(int(child) for child in listed.read().split())
        except OSError:
            continue  # a thread that ended meanwhile
    return found


@dataclass
class CpuMeter:
    """CPU seconds per named group of processes over a window: `start()`, work, `stop()`. A group's
    processes may come and go (function workers start during the window): each counts from its first
    sight (0 for one that started inside the window, so its start-up is counted)."""

    groups: dict[str, list[int]] = field(default_factory=dict)
    _first: dict[int, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)
    started_at: float = 0.0
    seconds: float = 0.0

    def start(self, groups: Mapping[str, Iterable[int]]) -> None:
        self.groups = {name: list(pids) for name, pids in groups.items()}
        self._first = {pid: cpu_seconds(pid) for pids in self.groups.values() for pid in pids}
        self.started_at = time.monotonic()

    def stop(self, groups: Mapping[str, Iterable[int]]) -> dict[str, float]:
        """`groups`: the processes now (new ones counted from 0); processes gone since start are lost."""
        self.seconds = time.monotonic() - self.started_at
        self.spent = {
            name: sum(cpu_seconds(pid) - self._first.get(pid, 0.0) for pid in set(pids))
            for name, pids in groups.items()
        }
        return self.spent

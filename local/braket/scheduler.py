"""One timer thread for everything that happens later: queue exits, cancellations, delayed events."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Scheduler:
    """Runs short callbacks at a time, in order, on its own thread (callbacks must not block)."""

    def __init__(self, name: str = "local-braket-scheduler") -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        with self._condition:
            if self._stopped:
                return
            heapq.heappush(self._heap, (time.monotonic() + max(delay, 0.0), next(self._order), callback))
            self._condition.notify()

    def stop(self) -> None:
        """Stop and join; callbacks not yet due are dropped."""
        with self._condition:
            self._stopped = True
            if self._heap:
                log.info("scheduler stopped with %d pending callbacks dropped", len(self._heap))
            self._heap.clear()
            self._condition.notify()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._condition.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopped:
                    return
                _, _, callback = heapq.heappop(self._heap)
            try:
                callback()
            except Exception:
                log.exception("scheduled callback failed")

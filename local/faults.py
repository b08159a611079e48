"""Fault mode: what the local Braket service and the local runner do to exercise at-least-once,
out-of-order delivery. Every choice comes from one seeded random generator, so a run can be replayed."""

from __future__ import annotations

import os
import random
import threading
from dataclasses import dataclass, field, fields


@dataclass
class FaultPlan:
    """Probabilities (0..1) and delays. All zero (the default) means no faults."""

    drop_event: float = 0.0  # the Braket service never sends an event (a lost event)
    duplicate_event: float = 0.0  # it sends an event twice, with two event ids (two distinct events)
    delay_event: float = 0.0  # it holds an event back for up to max_delay_seconds (so events reorder)
    max_delay_seconds: float = 2.0
    fail_task: float = 0.0  # a task ends FAILED instead of running
    redeliver_message: float = 0.0  # the runner leaves a processed SQS message for SQS to redeliver
    seed: int = 0
    _random: random.Random = field(init=False, repr=False, compare=False)
    _task_random: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in {"seed", "max_delay_seconds"} or f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {f.name} must be a probability from 0 to 1, not {value}")
        if self.max_delay_seconds < 0:
            raise ValueError("max_delay_seconds must not be negative")
        self._random = random.Random(self.seed)
        # fail_task draws from a generator of its own, so the n-th task to run gets the n-th draw
        # whatever the events and the runner drew meanwhile (their draws interleave by timing).
        self._task_random = random.Random(self.seed)

    @property
    def active(self) -> bool:
        return any(
            getattr(self, name) > 0
            for name in ("drop_event", "duplicate_event", "delay_event", "fail_task", "redeliver_message")
        )

    def happens(self, probability: float) -> bool:
        """Draw once: True with the given probability."""
        with self._lock:
            return probability > 0 and self._random.random() < probability

    def fails_task(self) -> bool:
        """Draw once for the task about to run: True with probability fail_task."""
        with self._lock:
            return self.fail_task > 0 and self._task_random.random() < self.fail_task

    def delay(self) -> float:
        with self._lock:
            return self._random.uniform(0, self.max_delay_seconds)

    @classmethod
    def chaos(cls, seed: int = 0) -> FaultPlan:
        """The fault mode the end-to-end tests and `make up FAULTS=1` use."""
        return cls(
            drop_event=0.1,
            duplicate_event=0.2,
            delay_event=0.3,
            max_delay_seconds=1.5,
            fail_task=0.1,
            redeliver_message=0.2,
            seed=seed,
        )

    @classmethod
    def from_env(cls) -> FaultPlan:
        """`TRACKER_LOCAL_FAULTS=1` turns on chaos; `TRACKER_LOCAL_FAULT_SEED` picks the seed."""
        seed = int(os.environ.get("TRACKER_LOCAL_FAULT_SEED", "0"))
        return cls.chaos(seed) if os.environ.get("TRACKER_LOCAL_FAULTS") == "1" else cls(seed=seed)

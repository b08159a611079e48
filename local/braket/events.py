"""'Braket Task State Change' events, sent to EventBridge in the task's Region as Braket sends them, and the
sender every Braket event (tasks' and jobs') goes through, with the fault mode's drops, duplicates and delays."""

from __future__ import annotations

import json
import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.braket.aws import AwsClients
from local.braket.models import CREATED, FINISHED, Task, iso_ms
from local.braket.scheduler import Scheduler
from local.faults import FaultPlan

log = logging.getLogger(__name__)

SOURCE = "aws.braket"
DETAIL_TYPE = "Braket Task State Change"
PUT_EVENTS_LIMIT = 10  # entries per PutEvents request (EventBridge's limit)


def state_change_entry(task: Task, status: str, at: datetime) -> dict[str, Any]:
    """The PutEvents entry: detail exactly as real events carry it (shots a string, endedAt only at the end)."""
    detail: dict[str, Any] = {
        "quantumTaskArn": task.arn,
        "status": status,
        "deviceArn": task.device_arn,
        "shots": str(task.shots),
        "outputS3Bucket": task.output_bucket,
        "outputS3Directory": task.output_directory,
        "createdAt": iso_ms(task.created_at),
        "eventName": "INSERT" if status == CREATED else "MODIFY",
    }
    if status in FINISHED and task.ended_at is not None:
        detail["endedAt"] = iso_ms(task.ended_at)
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Resources": [task.arn],
        "Detail": json.dumps(detail),
        "Time": at,
    }


@dataclass(frozen=True)
class Outgoing:
    region: str
    status: str
    entry: dict[str, Any]


class EventPublisher:
    """Sends events in order from one thread, several per request when several are waiting; the fault
    plan may drop, duplicate or delay each one."""

    def __init__(self, clients: AwsClients, scheduler: Scheduler, faults: FaultPlan) -> None:
        self._clients = clients
        self._scheduler = scheduler
        self._faults = faults
        self._queue: queue.Queue[Outgoing | None] = queue.Queue()
        self._thread = threading.Thread(target=self._send_all, name="local-braket-events", daemon=True)
        self._pending = 0  # events published and not yet sent: queued, or held back by delay_event
        self._pending_lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Send what is queued, then join (events still held back by delay_event are dropped)."""
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join()

    def publish(self, task: Task, status: str, at: datetime) -> None:
        """A task's state change. Never blocks: the event is queued, or scheduled for later under delay_event."""
        self.send(task.region, status, state_change_entry(task, status, at))

    def send(self, region: str, status: str, entry: dict[str, Any]) -> None:
        """Any Braket event (a PutEvents entry), through the fault plan: dropped, duplicated or delayed."""
        outgoing, resource = Outgoing(region, status, entry), entry["Resources"][0]
        if self._faults.happens(self._faults.drop_event):
            log.info("fault drop_event: %s %s never sent", resource, status)
            return
        copies = 2 if self._faults.happens(self._faults.duplicate_event) else 1
        if copies == 2:
            log.info("fault duplicate_event: %s %s sent twice", resource, status)
        for _ in range(copies):
            with self._pending_lock:
                self._pending += 1
            if self._faults.happens(self._faults.delay_event):
                delay = self._faults.delay()
                log.info("fault delay_event: %s %s held back %.2f s", resource, status, delay)
                self._scheduler.call_later(delay, partial(self._queue.put, outgoing))
            else:
                self._queue.put(outgoing)

    @property
    def pending(self) -> int:
        """Events published and not yet sent to EventBridge (queued, or held back by delay_event): once
        it is 0, everything said so far is on the bus (tests wait on it rather than on a clock)."""
        with self._pending_lock:
            return self._pending

    def _send_all(self) -> None:
        """Send in order; what is already queued goes in the same PutEvents (up to its 10 entries), as a
        producer of many events does, so that a burst of status changes does not queue behind one
        request per event."""
        stopping = False
        while not stopping:
            outgoing = self._queue.get()
            if outgoing is None:
                return
            batch = [outgoing]
            while len(batch) < PUT_EVENTS_LIMIT:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            for region in dict.fromkeys(o.region for o in batch):
                same = [o for o in batch if o.region == region]
                try:
                    self._send(region, same)
                finally:
                    with self._pending_lock:
                        self._pending -= len(same)

    def _send(self, region: str, batch: list[Outgoing]) -> None:
        try:
            response = self._clients.client("events", region).put_events(Entries=[o.entry for o in batch])
        except (BotoCoreError, ClientError) as exc:
            for outgoing in batch:
                log.warning("event %s for %s not sent: %s", outgoing.status, outgoing.entry["Resources"][0], exc)
            return
        for outgoing, entry in zip(batch, response.get("Entries") or [], strict=False):
            if entry.get("ErrorCode"):
                log.warning("event %s rejected by EventBridge: %s", outgoing.status, entry)
            else:  # for a benchmark's hop timestamps (bench/processes.py turns this logger's DEBUG on)
                log.debug("sent %s %s", outgoing.entry["Resources"][0], outgoing.status)

"""A correction end to end in local mode (issue 14): a task that COMPLETED, then is reported FAILED
with an earlier time, is FAILED in the table (the merge rules), and its subscribers are told so:
one correction on the notification topic and over the live channel, marked as a correction and
naming the status it corrects, and no more for further reports of the same end."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from botocore.credentials import Credentials

from local.tracker import LocalTracker
from tests.e2e.conftest import REGION, Inbox, read_item, submit, wait_for
from tests.support.websocket import connect_signed, receive_json
from tracker.domain import parse_time

pytestmark = pytest.mark.e2e
CREDENTIALS = Credentials("testing", "testing")


def report(tracker: LocalTracker, item: dict[str, Any], status: str, seconds_before_the_end: float) -> None:
    """A Braket task state change of the task, put on the default bus as Braket would."""
    at = parse_time(item["statusTimes"]["COMPLETED"]) - timedelta(seconds=seconds_before_the_end)
    detail = {
        "quantumTaskArn": item["taskArn"],
        "status": status,
        "deviceArn": item["deviceArn"],
        "shots": str(item["shots"]),
        "outputS3Bucket": item["outputS3Bucket"],
        "outputS3Directory": item["outputS3Directory"],
        "createdAt": item["createdAt"],
        "endedAt": (at - timedelta(milliseconds=250)).isoformat(),
        "eventName": "MODIFY",
    }
    answer = tracker.client("events").put_events(
        Entries=[
            {
                "Source": "aws.braket",
                "DetailType": "Braket Task State Change",
                "Detail": json.dumps(detail),
                "Resources": [item["taskArn"]],
                "Time": at,
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0


def documents(live: Any, until: Any, timeout: float = 60, linger: float = 3) -> list[dict[str, Any]]:
    """The task documents pushed until `until(documents)` holds, and for `linger` seconds more."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = receive_json(live, timeout=left)
        except TimeoutError:
            break
        if message.get("type") == "task":
            found.append(message["document"])
        if until(found):
            deadline = min(deadline, time.monotonic() + linger)
    return found


def test_a_changed_end_is_corrected_once_on_the_topic_and_over_the_live_channel(tracker: LocalTracker) -> None:
    inbox = Inbox(tracker)
    arn = submit(tracker)
    with connect_signed(tracker.live_updates_url(), CREDENTIALS, REGION) as live:
        live.send(json.dumps({"action": "subscribe", "tasks": [arn], "id": "s"}))
        item = wait_for(lambda: (i := read_item(tracker, arn)) and i.get("notifiedAt") and i, timeout=120)
        assert item["status"] == "COMPLETED"

        report(tracker, item, "FAILED", seconds_before_the_end=1)
        report(tracker, item, "FAILED", seconds_before_the_end=0.5)  # the same end, reported again
        wait_for(lambda: (read_item(tracker, arn) or {}).get("eventCount") == item["eventCount"] + 2, timeout=120)
        pushed = documents(live, until=lambda found: any(d["status"] == "FAILED" for d in found))

    final = read_item(tracker, arn)
    assert final is not None and final["status"] == "FAILED"
    assert wait_for(lambda: set((read_item(tracker, arn) or {}).get("notifications", {})) == {"COMPLETED", "FAILED"})
    topic = [d for d in inbox.drain() if d["taskArn"] == arn]
    assert [(d["status"], d["correction"], d["previousStatus"]) for d in topic] == [
        ("COMPLETED", False, None),
        ("FAILED", True, "COMPLETED"),
    ]
    assert "awaitingNotification" not in (read_item(tracker, arn) or {})
    ends = {d["notificationId"]: d for d in pushed if d["status"] in ("COMPLETED", "FAILED")}  # deduplicated
    # In this order; a status reported after another final one is named with its time (the state it is).
    first, second = ends
    assert first == f"{arn}#COMPLETED" and second.startswith(f"{arn}#FAILED#")
    correction = ends[second]
    assert (correction["correction"], correction["previousStatus"]) == (True, "COMPLETED")

"""The operator commands' arguments and helpers (no AWS: a bad argument stops before any request)."""

from __future__ import annotations

import pytest

from ops.__main__ import main
from ops.replay import Replay, queue_region


@pytest.mark.parametrize(
    "argv",
    [
        ["backfill"],  # --since is required
        ["backfill", "--since", "last tuesday"],
        ["backfill", "--since", "2026-01-01", "--rate", "100"],  # over Braket's quota
        ["backfill", "--since", "2026-01-01", "--rate", "0"],
        ["backfill", "--since", "2026-01-01", "--region", "mars-1"],
        ["backfill", "--since", "2026-01-02", "--until", "2026-01-01"],
        ["backfill", "--since", "2026-01-01", "--workers", "0"],
        ["replay", "--region", "ap-south-1"],  # not a Braket Region
        ["rewind"],
    ],
)
def test_a_bad_argument_is_refused_with_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "usage: python -m ops" in capsys.readouterr().err


def test_the_region_of_a_queue_comes_from_its_url() -> None:
    assert queue_region("https://sqs.eu-north-1.amazonaws.com/123456789012/dlq", "us-east-1") == "eu-north-1"
    assert queue_region("http://127.0.0.1:5000/123456789012/dlq", "us-west-2") == "us-west-2"  # local mode


class FakeQueues:
    """Two SQS queues as the redrive sees them; the target refuses bodies containing "refused"."""

    def __init__(self, parked: list[str]) -> None:
        self.parked = list(parked)
        self.delivered: list[str] = []
        self.deleted: list[str] = []

    def receive_message(self, QueueUrl: str, MaxNumberOfMessages: int, **_: object) -> dict[str, object]:
        batch = [b for b in self.parked if b not in self.deleted][:MaxNumberOfMessages]
        return {"Messages": [{"Body": b, "ReceiptHandle": f"handle-{b}"} for b in batch]}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, object]:
        ok = [e for e in Entries if "refused" not in e["MessageBody"]]
        self.delivered += [e["MessageBody"] for e in ok]
        failed = [{"Id": e["Id"], "Code": "KMS.AccessDenied", "Message": "no"} for e in Entries if e not in ok]
        return {"Successful": [{"Id": e["Id"]} for e in ok], "Failed": failed}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> None:
        self.deleted += [e["ReceiptHandle"].removeprefix("handle-") for e in Entries]


def test_replay_moves_every_message_and_deletes_only_what_was_sent() -> None:
    queues = FakeQueues([f"event-{i}" for i in range(23)] + ["refused-1"])
    lines: list[str] = []

    result = Replay(lambda region: queues, lines.append).redrive("dlq", "eu-north-1", "capture", "us-east-1")

    assert (result.moved, result.failed) == (23, 1)
    assert sorted(queues.delivered) == sorted(f"event-{i}" for i in range(23))
    assert "refused-1" not in queues.deleted  # stays parked, for a later run
    assert any("KMS.AccessDenied" in line for line in lines)

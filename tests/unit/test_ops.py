"""The operator commands' arguments and helpers (no AWS: a bad argument stops before any request)."""

from __future__ import annotations

import pytest

from ops.__main__ import main
from ops.replay import queue_region


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

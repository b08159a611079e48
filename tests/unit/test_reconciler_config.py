"""The reconciler's environment, checked once at cold start."""

from __future__ import annotations

import pytest

from tracker.config import ConfigError, ReconcilerConfig

ENV = {
    "TASK_TABLE_NAME": "tasks",
    "RECONCILER_STATE_TABLE_NAME": "state",
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:topic",
    "BRAKET_REGIONS": "us-east-1,eu-north-1",
}


def test_defaults_and_regions() -> None:
    config = ReconcilerConfig.from_env(ENV)
    assert config.regions == ("us-east-1", "eu-north-1")
    assert (config.stale_after_minutes, config.requests_per_second) == (15, 20.0)
    assert (config.notify_grace_minutes, config.enrich_max_attempts) == (30, 3)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BRAKET_REGIONS", " , "),
        ("BRAKET_REGIONS", "us-east-1;rm -rf"),
        ("BRAKET_REQUESTS_PER_SECOND", "500"),
        ("BRAKET_REQUESTS_PER_SECOND", "fast"),
        ("STALE_AFTER_MINUTES", "-5"),
        ("ENRICH_MAX_ATTEMPTS", "0"),
        ("TASK_TABLE_NAME", ""),
    ],
)
def test_a_wrong_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        ReconcilerConfig.from_env(ENV | {name: value})

"""Function configuration is checked once, with a clear message."""

from __future__ import annotations

import pytest

from tracker.config import ApiConfig, ConfigError, RecorderConfig

COMPLETE = {"TASK_TABLE_NAME": "tasks", "REJECTED_EVENTS_TABLE_NAME": "rejected"}


def test_complete_environment_is_read() -> None:
    config = RecorderConfig.from_env({**COMPLETE, "ENRICH_MAX_ATTEMPTS": "3"})

    assert config == RecorderConfig("tasks", "rejected", 3)


def test_enrichment_attempts_default_to_five() -> None:
    assert RecorderConfig.from_env(COMPLETE).enrich_max_attempts == 5


def test_missing_variables_are_all_named() -> None:
    with pytest.raises(ConfigError, match="TASK_TABLE_NAME, REJECTED_EVENTS_TABLE_NAME"):
        RecorderConfig.from_env({})


@pytest.mark.parametrize("attempts", ["0", "11", "three", "-1", ""])
def test_bad_attempt_counts_are_refused(attempts: str) -> None:
    with pytest.raises(ConfigError, match="ENRICH_MAX_ATTEMPTS"):
        RecorderConfig.from_env({**COMPLETE, "ENRICH_MAX_ATTEMPTS": attempts})


API_ENV = {
    "TASK_TABLE_NAME": "tasks",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "RESULTS_BUCKETS": '{"us-east-1": "amazon-braket-tracker-123456789012-us-east-1"}',
    "DEVICE_ALLOWLIST": '["arn:aws:braket:::device/quantum-simulator/amazon/sv1"]',
    "AWS_REGION": "us-east-1",
}


def test_the_api_reads_its_lists_from_json() -> None:
    config = ApiConfig.from_env(
        {**API_ENV, "ADMIN_PRINCIPALS": '["arn:aws:iam::123456789012:role/Admin"]', "PROMOTED_TAG_KEYS": '["project"]'}
    )

    assert config.results_buckets == {"us-east-1": "amazon-braket-tracker-123456789012-us-east-1"}
    assert config.device_allowlist == ("arn:aws:braket:::device/quantum-simulator/amazon/sv1",)
    assert config.admin_principals == ("arn:aws:iam::123456789012:role/Admin",)
    assert (config.promoted_tag_keys, config.readable_buckets, config.region) == (("project",), (), "us-east-1")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RESULTS_BUCKETS", '{"us-east-1": "my-bucket"}', "amazon-braket-"),
        ("RESULTS_BUCKETS", "{}", "RESULTS_BUCKETS"),
        ("DEVICE_ALLOWLIST", '"sv1"', "JSON list"),
        ("ADMIN_PRINCIPALS", "[1]", "JSON list"),
        ("PROMOTED_TAG_KEYS", "[project]", "not JSON"),
    ],
)
def test_a_wrong_api_environment_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ApiConfig.from_env({**API_ENV, name: value})


def test_the_recorder_reads_promoted_tag_keys() -> None:
    assert RecorderConfig.from_env({**COMPLETE, "PROMOTED_TAG_KEYS": '["project", "team"]'}).promoted_tag_keys == (
        "project",
        "team",
    )

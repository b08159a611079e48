"""Function configuration is checked once, with a clear message."""

from __future__ import annotations

import pytest

from tracker.config import ConfigError, RecorderConfig

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

"""Deployment settings from CDK context: bad values stop synthesis with a message naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.aws_logs import RetentionDays

from stacks.config import ConfigurationError, TrackerConfig
from tests.support.app import synthesize

pytestmark = pytest.mark.infrastructure

BAD_CONTEXTS = [
    ({"alarmEmail": "not-an-address"}, "alarmEmail"),
    ({"alarmEmail": "ops@example.com, oops"}, "alarmEmail"),
    ({"alarmEmail": 42}, "alarmEmail"),
    ({"logRetentionDays": 42}, "logRetentionDays"),
    ({"logRetentionDays": "a month"}, "logRetentionDays"),
    ({"stackName": "1-starts-with-a-digit"}, "stackName"),
]


@pytest.mark.parametrize(("context", "key"), BAD_CONTEXTS)
def test_config_rejects_bad_context_naming_the_key(context: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        TrackerConfig.from_context(context.get)


def test_config_defaults_to_thirty_days_and_no_email() -> None:
    config = TrackerConfig.from_context({}.get)

    assert config.log_retention == RetentionDays.ONE_MONTH
    assert config.alarm_emails == ()


def test_config_accepts_a_comma_separated_email_list() -> None:
    config = TrackerConfig.from_context({"alarmEmail": "a@example.com, b@example.org"}.get)

    assert config.alarm_emails == ("a@example.com", "b@example.org")


@pytest.mark.parametrize(("context", "key"), [BAD_CONTEXTS[0], BAD_CONTEXTS[3]])
def test_synthesis_stops_on_bad_context(tmp_path: Path, context: dict[str, Any], key: str) -> None:
    # The configuration is read before any construct is built, so this costs no synth.
    with pytest.raises(ConfigurationError, match=key):
        synthesize(tmp_path, context)
    assert not (tmp_path / "manifest.json").exists()

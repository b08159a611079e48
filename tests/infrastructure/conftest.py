"""Fixtures over the session's synthesized template, and two extra synths: deploy-like context, notifications."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infrastructure.helpers import (
    ALARM_EMAIL,
    LATENCY_CONTEXT,
    LOG_RETENTION_DAYS,
    NOTIFICATION_CONTEXT,
    LogicalIds,
)
from tests.support.app import SynthesizedApp, synthesize


@pytest.fixture(scope="session")
def template_json(synthesized: SynthesizedApp) -> dict[str, Any]:
    return json.loads(synthesized.template_path.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def resources(template_json: dict[str, Any]) -> dict[str, Any]:
    return template_json["Resources"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def ids(synthesized: SynthesizedApp) -> LogicalIds:
    return LogicalIds.of(synthesized.stack)


@pytest.fixture(scope="session")
def synthesized_with_email(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    """The app synthesized with an alarm email address, a non-default log retention and the latency
    settings that are not the default (LATENCY_CONTEXT). cdk-nag runs here too, so synth fails on findings."""
    context = {"alarmEmail": ALARM_EMAIL, "logRetentionDays": LOG_RETENTION_DAYS, **LATENCY_CONTEXT}
    return synthesize(tmp_path_factory.mktemp("cdk.out.email"), context)


@pytest.fixture(scope="session")
def synthesized_with_notifications(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    """The app synthesized with every notification setting (see NOTIFICATION_CONTEXT), cdk-nag on."""
    return synthesize(tmp_path_factory.mktemp("cdk.out.notifications"), NOTIFICATION_CONTEXT)

"""Deployment settings from CDK context (`cdk.json`, or `-c key=value`), checked once at synth."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import App
from aws_cdk.aws_logs import RetentionDays

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


class ConfigurationError(ValueError):
    """A context value is wrong; synth stops with this message."""


@dataclass(frozen=True)
class TrackerConfig:
    stack_name: str
    log_retention: RetentionDays
    alarm_emails: tuple[str, ...]

    @classmethod
    def from_app(cls, app: App) -> TrackerConfig:
        return cls.from_context(app.node.try_get_context)

    @classmethod
    def from_context(cls, get: Any) -> TrackerConfig:
        stack_name = str(get("stackName") or "BraketTaskTracker")
        if not _STACK_NAME.match(stack_name):
            raise ConfigurationError(
                f"stackName {stack_name!r}: use letters, digits and hyphens, starting with a letter"
            )
        days = get("logRetentionDays")
        retention = _retention(30 if days is None else days)
        return cls(stack_name, retention, _emails(get("alarmEmail")))


_RETENTION = {
    1: RetentionDays.ONE_DAY,
    3: RetentionDays.THREE_DAYS,
    5: RetentionDays.FIVE_DAYS,
    7: RetentionDays.ONE_WEEK,
    14: RetentionDays.TWO_WEEKS,
    30: RetentionDays.ONE_MONTH,
    60: RetentionDays.TWO_MONTHS,
    90: RetentionDays.THREE_MONTHS,
    180: RetentionDays.SIX_MONTHS,
    365: RetentionDays.ONE_YEAR,
    731: RetentionDays.TWO_YEARS,
    1827: RetentionDays.FIVE_YEARS,
    3653: RetentionDays.TEN_YEARS,
}


def _retention(days: Any) -> RetentionDays:
    allowed = _RETENTION
    try:
        return allowed[int(days)]
    except (KeyError, TypeError, ValueError):
        choices = ", ".join(str(value) for value in sorted(allowed))
        raise ConfigurationError(f"logRetentionDays {days!r}: CloudWatch Logs accepts {choices}") from None


def _emails(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ConfigurationError(f"alarmEmail {value!r}: give an address, a comma-separated list or a list")
    emails = tuple(item.strip() for item in items if item.strip())
    bad = [email for email in emails if not _EMAIL.match(email)]
    if bad:
        raise ConfigurationError(f"alarmEmail: not an email address: {', '.join(bad)}")
    return emails

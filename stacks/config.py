"""Deployment settings from CDK context (`cdk.json`, or `-c key=value`), checked once at synth."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import App
from aws_cdk.aws_logs import RetentionDays

from lambdas.tracker.constants import BRAKET_REGIONS
from stacks.budget_settings import BudgetSetting, parse_budgets
from stacks.errors import ConfigurationError

__all__ = ["ApiSettings", "BudgetSetting", "ConfigurationError", "TrackerConfig"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")


FINISHED = ("COMPLETED", "FAILED", "CANCELLED")


@dataclass(frozen=True)
class EmailSubscription:
    address: str
    statuses: tuple[str, ...] = ()  # empty: every finished status


@dataclass(frozen=True)
class ExtraSubscription:
    protocol: str  # "sqs" (a queue ARN) or "https" (a URL)
    endpoint: str
    statuses: tuple[str, ...] = ()


DEFAULT_DEVICES = (
    "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
    "arn:aws:braket:::device/quantum-simulator/amazon/dm1",
    "arn:aws:braket:::device/quantum-simulator/amazon/tn1",
)
"""The on-demand simulators: a QPU costs real money, so each one is opted in by name."""
_DEVICE_ARN = re.compile(r"arn:aws[a-z-]*:braket:[a-z0-9-]*::device/[A-Za-z0-9_./-]{1,200}")
_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:(user|role|assumed-role)/[\w+=,.@/-]+")
_TAG_KEY = re.compile(r"[\w .:/=+@-]{1,128}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
MAX_PROMOTED_TAG_KEYS = 5


@dataclass(frozen=True)
class ApiSettings:
    """The Task API's settings (context keys in docs/deploy.md, Configuration)."""

    device_allowlist: tuple[str, ...] = DEFAULT_DEVICES
    admin_principals: tuple[str, ...] = ()
    promoted_tag_keys: tuple[str, ...] = ()
    readable_results_buckets: tuple[str, ...] = ()
    results_retention_days: int = 90
    throttle_rate: int = 20
    throttle_burst: int = 40
    owns_cloudwatch_role: bool = True

    @classmethod
    def from_context(cls, get: Any) -> ApiSettings:
        throttle = get("apiThrottle") or {}
        if isinstance(throttle, str):
            throttle = json.loads(throttle)
        if not isinstance(throttle, dict) or set(throttle) - {"rateLimit", "burstLimit"}:
            raise ConfigurationError(f"apiThrottle {throttle!r}: give {{rateLimit, burstLimit}}")
        days = get("resultsRetentionDays")
        settings = cls(
            device_allowlist=_list("deviceAllowlist", get("deviceAllowlist"), _DEVICE_ARN) or DEFAULT_DEVICES,
            admin_principals=_list("adminPrincipals", get("adminPrincipals"), _PRINCIPAL_ARN),
            promoted_tag_keys=_list("promotedTagKeys", get("promotedTagKeys"), _TAG_KEY),
            readable_results_buckets=_list("readableResultsBuckets", get("readableResultsBuckets"), _BUCKET),
            results_retention_days=_whole("resultsRetentionDays", 90 if days is None else days, 1, 3650),
            throttle_rate=_whole("apiThrottle.rateLimit", throttle.get("rateLimit", 20), 1, 10_000),
            throttle_burst=_whole("apiThrottle.burstLimit", throttle.get("burstLimit", 40), 1, 5_000),
            owns_cloudwatch_role=_flag("apiGatewayCloudWatchRole", get("apiGatewayCloudWatchRole"), default=True),
        )
        if len(settings.promoted_tag_keys) > MAX_PROMOTED_TAG_KEYS:
            raise ConfigurationError(f"promotedTagKeys: at most {MAX_PROMOTED_TAG_KEYS} (each one is an index)")
        return settings


@dataclass(frozen=True)
class LatencySettings:
    """Choices on a task end's way to its waiters that trade dollars for latency (docs/latency.md)."""

    details_after_end: bool = True
    """Write and push an end before asking Braket for its details: one more write per finished task."""
    recorder_memory_mb: int = 1024
    """The recorder's memory, and so its CPU share (1,769 MB is one vCPU)."""
    capture_pollers: int = 0
    """Provisioned pollers for the capture queue's mapping (0: standard mode, no fixed cost)."""

    @classmethod
    def from_context(cls, get: Any) -> LatencySettings:
        pollers = _whole("captureProvisionedPollers", get("captureProvisionedPollers") or 0, 0, 200)
        if pollers == 1:
            raise ConfigurationError("captureProvisionedPollers: 0 (standard mode) or 2 to 200 (SQS's minimum is 2)")
        memory = get("recorderMemorySize")
        return cls(
            details_after_end=_flag("detailsAfterEnd", get("detailsAfterEnd"), default=True),
            recorder_memory_mb=_whole("recorderMemorySize", 1024 if memory is None else memory, 128, 10_240),
            capture_pollers=pollers,
        )


def _list(key: str, value: Any, pattern: re.Pattern[str]) -> tuple[str, ...]:
    if value in (None, "", []):
        return ()
    if isinstance(value, str):
        value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigurationError(f"{key} {value!r}: give a list of strings")
    items = tuple(dict.fromkeys(item.strip() for item in value if item.strip()))
    bad = [item for item in items if not pattern.fullmatch(item)]
    if bad:
        raise ConfigurationError(f"{key}: not valid: {', '.join(bad)}")
    return items


def _whole(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ConfigurationError(f"{key} must be a whole number from {low} to {high}, not {value!r}")
    if not low <= int(value) <= high:
        raise ConfigurationError(f"{key} must be a whole number from {low} to {high}, not {value!r}")
    return int(value)


@dataclass(frozen=True)
class TrackerConfig:
    stack_name: str
    log_retention: RetentionDays
    alarm_emails: tuple[str, ...]
    notification_emails: tuple[EmailSubscription, ...] = ()
    notification_subscriptions: tuple[ExtraSubscription, ...] = ()
    notify_imported: bool = False
    api: ApiSettings = field(default_factory=ApiSettings)
    braket_regions: tuple[str, ...] = BRAKET_REGIONS
    reconcile_every_minutes: int = 10
    reconcile_after_minutes: int = 15
    braket_requests_per_second: float = 20.0
    latency: LatencySettings = field(default_factory=LatencySettings)
    budgets: tuple[BudgetSetting, ...] = ()

    @classmethod
    def from_app(cls, app: App) -> TrackerConfig:
        return cls.from_context(app.node.try_get_context)

    @classmethod
    def from_context(cls, get: Any) -> TrackerConfig:
        stack_name = str(get("stackName") or "BraketTaskTracker")
        if not _STACK_NAME.fullmatch(stack_name):
            raise ConfigurationError(
                f"stackName {stack_name!r}: use letters, digits and hyphens, starting with a letter"
            )
        days = get("logRetentionDays")
        retention = _retention(30 if days is None else days)
        api = ApiSettings.from_context(get)
        return cls(
            stack_name,
            retention,
            _emails(get("alarmEmail")),
            _notification_emails(get("notificationEmails")),
            _subscriptions(get("notificationSubscriptions")),
            _flag("notifyImported", get("notifyImported")),
            api,
            _regions(get("braketRegions")),
            _minutes("reconcileEveryMinutes", get("reconcileEveryMinutes"), 10, 1, 60),
            _minutes("reconcileAfterMinutes", get("reconcileAfterMinutes"), 15, 1, 1440),
            _rate(get("braketRequestsPerSecond")),
            LatencySettings.from_context(get),
            parse_budgets(get("budgets"), api.promoted_tag_keys),
        )


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
    bad = [email for email in emails if not _EMAIL.fullmatch(email)]
    if bad:
        raise ConfigurationError(f"alarmEmail: not an email address: {', '.join(bad)}")
    return emails


def _notification_emails(value: Any) -> tuple[EmailSubscription, ...]:
    """A list of addresses, or of {"address": ..., "statuses": [...]}; a string may be comma-separated."""
    if value in (None, "", []):
        return ()
    if isinstance(value, str):
        value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
    if not isinstance(value, list):
        raise ConfigurationError(f"notificationEmails {value!r}: give a list of addresses or of {{address, statuses}}")
    found = []
    for item in value:
        entry = {"address": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or set(entry) - {"address", "statuses"}:
            raise ConfigurationError(f"notificationEmails: {entry!r} is not an address or {{address, statuses}}")
        address = str(entry.get("address", "")).strip()
        if not _EMAIL.fullmatch(address):
            raise ConfigurationError(f"notificationEmails: not an email address: {address!r}")
        found.append(EmailSubscription(address, _statuses("notificationEmails", entry.get("statuses"))))
    return tuple(found)


def _subscriptions(value: Any) -> tuple[ExtraSubscription, ...]:
    """A list of {"protocol": "sqs", "endpoint": queue ARN} or {"protocol": "https", "endpoint": URL}."""
    if value in (None, "", []):
        return ()
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list):
        raise ConfigurationError("notificationSubscriptions: give a list of {protocol, endpoint, statuses}")
    found = []
    for entry in value:
        if not isinstance(entry, dict) or set(entry) - {"protocol", "endpoint", "statuses"}:
            raise ConfigurationError(f"notificationSubscriptions: {entry!r} is not {{protocol, endpoint, statuses}}")
        protocol, endpoint = entry.get("protocol"), str(entry.get("endpoint", ""))
        if protocol == "sqs" and not re.fullmatch(r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[\w-]{1,80}", endpoint):
            raise ConfigurationError(f"notificationSubscriptions: not an SQS queue ARN: {endpoint!r}")
        if protocol == "https" and not endpoint.startswith("https://"):
            raise ConfigurationError(f"notificationSubscriptions: not an https:// URL: {endpoint!r}")
        if protocol not in ("sqs", "https"):
            raise ConfigurationError(f"notificationSubscriptions: protocol must be sqs or https, not {protocol!r}")
        found.append(
            ExtraSubscription(protocol, endpoint, _statuses("notificationSubscriptions", entry.get("statuses")))
        )
    return tuple(found)


def _statuses(key: str, value: Any) -> tuple[str, ...]:
    if value in (None, []):
        return ()
    statuses = [value] if isinstance(value, str) else value
    bad = [s for s in statuses if s not in FINISHED] if isinstance(statuses, list) else [value]
    if bad:
        raise ConfigurationError(f"{key}: statuses must be among {', '.join(FINISHED)}, not {bad}")
    return tuple(statuses)


def _flag(key: str, value: Any, *, default: bool = False) -> bool:
    if value in (None, ""):
        return default
    if value in (False, "false"):
        return False
    if value in (True, "true"):
        return True
    raise ConfigurationError(f"{key} must be true or false, not {value!r}")


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")


def _regions(value: Any) -> tuple[str, ...]:
    """The Braket Regions to record (forwarders and the reconciler): a list or a comma-separated string."""
    if value in (None, "", []):
        return BRAKET_REGIONS
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ConfigurationError(f"braketRegions {value!r}: give a list of Regions or a comma-separated string")
    regions = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    bad = [region for region in regions if not _REGION.fullmatch(region)]
    if bad or not regions:
        raise ConfigurationError(f"braketRegions: not a Region name: {', '.join(bad) or value!r}")
    return regions


def _minutes(key: str, value: Any, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if isinstance(value, bool) or str(number) != str(value).strip() or not low <= number <= high:
        raise ConfigurationError(f"{key} {value!r}: give a whole number of minutes from {low} to {high}")
    return number


def _rate(value: Any) -> float:
    """Braket requests per second per Region: well under GetQuantumTask's quota of 100."""
    if value in (None, ""):
        return 20.0
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = 0.0
    if isinstance(value, bool) or not 0 < rate <= 50:
        raise ConfigurationError(f"braketRequestsPerSecond {value!r}: give a number above 0, at most 50")
    return rate

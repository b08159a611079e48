"""Function configuration, read from the environment once at cold start."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from tracker import constants
from tracker.constants import (
    ENV_ADMIN_PRINCIPALS,
    ENV_CONNECTIONS_ENDPOINT,
    ENV_CONNECTIONS_TABLE,
    ENV_DETAILS_AFTER_END,
    ENV_DEVICE_ALLOWLIST,
    ENV_ENRICH_MAX_ATTEMPTS,
    ENV_IDEMPOTENCY_TABLE,
    ENV_PROMOTED_TAG_KEYS,
    ENV_READABLE_BUCKETS,
    ENV_REJECTED_TABLE,
    ENV_RESULTS_BUCKETS,
    ENV_TASK_TABLE,
    ENV_TOPIC_ARN,
    RESULTS_BUCKET_PREFIX,
)


class ConfigError(RuntimeError):
    """The function's environment is incomplete or wrong: a deployment problem, not a data one."""


@dataclass(frozen=True)
class RecorderConfig:
    task_table: str
    rejected_table: str
    enrich_max_attempts: int
    promoted_tag_keys: tuple[str, ...] = ()
    live: LiveTarget | None = None  # where to push the ends it records (None: the stream pusher does)
    details_after_end: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> RecorderConfig:
        _require(env, ENV_TASK_TABLE, ENV_REJECTED_TABLE)
        attempts = env.get(ENV_ENRICH_MAX_ATTEMPTS, "5")
        if not attempts.isdigit() or not 1 <= int(attempts) <= 10:
            raise ConfigError(f"{ENV_ENRICH_MAX_ATTEMPTS} must be a whole number from 1 to 10, not {attempts!r}")
        after = env.get(ENV_DETAILS_AFTER_END, "true")
        if after not in ("true", "false"):
            raise ConfigError(f"{ENV_DETAILS_AFTER_END} must be true or false, not {after!r}")
        live = None
        if env.get(ENV_CONNECTIONS_TABLE) or env.get(ENV_CONNECTIONS_ENDPOINT):
            _require(env, ENV_CONNECTIONS_TABLE, ENV_CONNECTIONS_ENDPOINT)
            live = LiveTarget(env[ENV_CONNECTIONS_TABLE], _stage_url(env[ENV_CONNECTIONS_ENDPOINT]))
        return cls(
            env[ENV_TASK_TABLE],
            env[ENV_REJECTED_TABLE],
            int(attempts),
            _string_list(env, ENV_PROMOTED_TAG_KEYS),
            live,
            after == "true",
        )


@dataclass(frozen=True)
class LiveTarget:
    """Where live updates go: the connections table and the WebSocket stage's @connections URL."""

    connections_table: str
    connections_endpoint: str


@dataclass(frozen=True)
class NotifierConfig:
    task_table: str
    topic_arn: str
    prices_table: str | None = None
    """Where the price catalogue in use is (the notifier prices an end the cost keeper has not yet)."""
    cost_queue_url: str | None = None
    """Where the notifier hands the cost keeper the tasks whose cost may have changed."""
    notify_imported: bool = False
    """Announce the ends of imported (backfilled) tasks too."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> NotifierConfig:
        _require(env, ENV_TASK_TABLE, ENV_TOPIC_ARN)
        if not env[ENV_TOPIC_ARN].startswith("arn:"):
            raise ConfigError(f"{ENV_TOPIC_ARN} must be a topic ARN, not {env[ENV_TOPIC_ARN]!r}")
        imported = env.get(constants.ENV_NOTIFY_IMPORTED, "false")
        if imported not in ("true", "false"):
            raise ConfigError(f"{constants.ENV_NOTIFY_IMPORTED} must be true or false, not {imported!r}")
        return cls(
            env[ENV_TASK_TABLE],
            env[ENV_TOPIC_ARN],
            env.get(constants.ENV_PRICES_TABLE) or None,
            env.get(constants.ENV_COST_QUEUE_URL) or None,
            imported == "true",
        )


@dataclass(frozen=True)
class ApiConfig:
    task_table: str
    idempotency_table: str
    region: str
    results_buckets: dict[str, str]  # Region -> the stack's results bucket in that Region
    readable_buckets: tuple[str, ...]  # users' own buckets whose results the API may read
    device_allowlist: tuple[str, ...]
    admin_principals: tuple[str, ...]
    promoted_tag_keys: tuple[str, ...]

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ApiConfig:
        _require(env, ENV_TASK_TABLE, ENV_IDEMPOTENCY_TABLE, ENV_RESULTS_BUCKETS, ENV_DEVICE_ALLOWLIST, "AWS_REGION")
        buckets = _json(env, ENV_RESULTS_BUCKETS)
        if (
            not isinstance(buckets, dict)
            or not buckets
            or not all(isinstance(v, str) and v.startswith(RESULTS_BUCKET_PREFIX) for v in buckets.values())
        ):
            raise ConfigError(f"{ENV_RESULTS_BUCKETS} must map Regions to {RESULTS_BUCKET_PREFIX}* bucket names")
        return cls(
            task_table=env[ENV_TASK_TABLE],
            idempotency_table=env[ENV_IDEMPOTENCY_TABLE],
            region=env["AWS_REGION"],
            results_buckets={str(k): str(v) for k, v in buckets.items()},
            readable_buckets=_string_list(env, ENV_READABLE_BUCKETS),
            device_allowlist=_string_list(env, ENV_DEVICE_ALLOWLIST),
            admin_principals=_string_list(env, ENV_ADMIN_PRINCIPALS),
            promoted_tag_keys=_string_list(env, ENV_PROMOTED_TAG_KEYS),
        )


def _json(env: Mapping[str, str], name: str) -> object:
    try:
        return json.loads(env.get(name) or "[]")
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name} is not JSON: {exc}") from exc


def _string_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    value = _json(env, name)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{name} must be a JSON list of non-empty strings, not {env.get(name)!r}")
    return tuple(value)


@dataclass(frozen=True)
class LiveConfig:
    """The live-updates functions: the WebSocket connections handler and the stream pusher."""

    task_table: str
    connections_table: str
    connections_endpoint: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> LiveConfig:
        _require(env, ENV_TASK_TABLE, ENV_CONNECTIONS_TABLE, ENV_CONNECTIONS_ENDPOINT)
        return cls(env[ENV_TASK_TABLE], env[ENV_CONNECTIONS_TABLE], _stage_url(env[ENV_CONNECTIONS_ENDPOINT]))


def _stage_url(endpoint: str) -> str:
    if not endpoint.startswith(("https://", "http://")) or endpoint.count("/") < 3:
        raise ConfigError(f"{ENV_CONNECTIONS_ENDPOINT} must be a stage URL (https://HOST/STAGE), not {endpoint!r}")
    return endpoint.rstrip("/")


def _require(env: Mapping[str, str], *names: str) -> None:
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise ConfigError(f"missing environment variables: {', '.join(missing)}")


@dataclass(frozen=True)
class ReconcilerConfig:
    task_table: str
    state_table: str
    topic_arn: str
    regions: tuple[str, ...]
    stale_after_minutes: int
    requests_per_second: float
    notify_grace_minutes: int
    enrich_max_attempts: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ReconcilerConfig:
        _require(env, ENV_TASK_TABLE, constants.ENV_STATE_TABLE, ENV_TOPIC_ARN, constants.ENV_BRAKET_REGIONS)
        regions = tuple(region.strip() for region in env[constants.ENV_BRAKET_REGIONS].split(",") if region.strip())
        bad = [region for region in regions if not region.replace("-", "").isalnum()]
        if not regions or bad:
            listed = env[constants.ENV_BRAKET_REGIONS]
            raise ConfigError(f"{constants.ENV_BRAKET_REGIONS} must list Regions, comma-separated, not {listed!r}")
        try:
            rate = float(env.get(constants.ENV_BRAKET_RATE, "20"))
        except ValueError:
            rate = -1.0
        if not 0 < rate <= 100:
            raise ConfigError(f"{constants.ENV_BRAKET_RATE} must be a number of requests per second from 0 to 100")
        return cls(
            task_table=env[ENV_TASK_TABLE],
            state_table=env[constants.ENV_STATE_TABLE],
            topic_arn=env[ENV_TOPIC_ARN],
            regions=regions,
            stale_after_minutes=_minutes(env, constants.ENV_STALE_AFTER_MINUTES, "15"),
            requests_per_second=rate,
            notify_grace_minutes=_minutes(env, constants.ENV_NOTIFY_GRACE_MINUTES, "30"),
            enrich_max_attempts=_attempts(env.get(ENV_ENRICH_MAX_ATTEMPTS, "3")),
        )


def _minutes(env: Mapping[str, str], name: str, default: str) -> int:
    value = env.get(name, default)
    if not value.isdigit() or int(value) > 525_600:
        raise ConfigError(f"{name} must be a whole number of minutes (at most a year), not {value!r}")
    return int(value)


def _attempts(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 10:
        raise ConfigError(f"{ENV_ENRICH_MAX_ATTEMPTS} must be a whole number from 1 to 10, not {value!r}")
    return int(value)


@dataclass(frozen=True)
class CostsConfig:
    """The cost keeper: the cost queue -> costs on items, monthly totals, budget alerts."""

    task_table: str
    totals_table: str
    ledger_table: str
    prices_table: str
    topic_arn: str
    budgets_json: str
    promoted_tag_keys: tuple[str, ...]

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> CostsConfig:
        names = (ENV_TASK_TABLE, constants.ENV_TOTALS_TABLE, constants.ENV_LEDGER_TABLE, constants.ENV_PRICES_TABLE)
        _require(env, *names, ENV_TOPIC_ARN)
        return cls(
            task_table=env[ENV_TASK_TABLE],
            totals_table=env[constants.ENV_TOTALS_TABLE],
            ledger_table=env[constants.ENV_LEDGER_TABLE],
            prices_table=env[constants.ENV_PRICES_TABLE],
            topic_arn=env[ENV_TOPIC_ARN],
            budgets_json=_budgets(env),
            promoted_tag_keys=_string_list(env, ENV_PROMOTED_TAG_KEYS),
        )


def _budgets(env: Mapping[str, str]) -> str:
    """The budgets' JSON, checked (tracker.logic.budgets parses it); "[]" when there are none."""
    from tracker.logic.budgets import parse_budgets  # noqa: PLC0415 (only the functions that price read it)

    text = env.get(constants.ENV_BUDGETS) or "[]"
    try:
        parse_budgets(text)
    except ValueError as exc:
        raise ConfigError(f"{constants.ENV_BUDGETS}: {exc}") from exc
    return text


@dataclass(frozen=True)
class SpendingLimitsConfig:
    """The spending-limits function: Braket's spend change events -> the totals table."""

    totals_table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SpendingLimitsConfig:
        _require(env, constants.ENV_TOTALS_TABLE)
        return cls(env[constants.ENV_TOTALS_TABLE])


@dataclass(frozen=True)
class CostApiConfig:
    """The Task API's cost routes and budget holds: None when the deployment has no cost tables."""

    totals_table: str
    ledger_table: str
    prices_table: str
    budgets_json: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> CostApiConfig | None:
        names = (constants.ENV_TOTALS_TABLE, constants.ENV_LEDGER_TABLE, constants.ENV_PRICES_TABLE)
        if not env.get(constants.ENV_TOTALS_TABLE):
            return None
        _require(env, *names)
        return cls(
            env[constants.ENV_TOTALS_TABLE],
            env[constants.ENV_LEDGER_TABLE],
            env[constants.ENV_PRICES_TABLE],
            _budgets(env),
        )

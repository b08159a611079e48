"""Function configuration, read from the environment once at cold start."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from tracker.constants import (
    ENV_ADMIN_PRINCIPALS,
    ENV_CONNECTIONS_ENDPOINT,
    ENV_CONNECTIONS_TABLE,
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> RecorderConfig:
        _require(env, ENV_TASK_TABLE, ENV_REJECTED_TABLE)
        attempts = env.get(ENV_ENRICH_MAX_ATTEMPTS, "5")
        if not attempts.isdigit() or not 1 <= int(attempts) <= 10:
            raise ConfigError(f"{ENV_ENRICH_MAX_ATTEMPTS} must be a whole number from 1 to 10, not {attempts!r}")
        return cls(
            env[ENV_TASK_TABLE], env[ENV_REJECTED_TABLE], int(attempts), _string_list(env, ENV_PROMOTED_TAG_KEYS)
        )


@dataclass(frozen=True)
class NotifierConfig:
    task_table: str
    topic_arn: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> NotifierConfig:
        _require(env, ENV_TASK_TABLE, ENV_TOPIC_ARN)
        if not env[ENV_TOPIC_ARN].startswith("arn:"):
            raise ConfigError(f"{ENV_TOPIC_ARN} must be a topic ARN, not {env[ENV_TOPIC_ARN]!r}")
        return cls(env[ENV_TASK_TABLE], env[ENV_TOPIC_ARN])


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
        endpoint = env[ENV_CONNECTIONS_ENDPOINT]
        if not endpoint.startswith(("https://", "http://")) or endpoint.count("/") < 3:
            raise ConfigError(f"{ENV_CONNECTIONS_ENDPOINT} must be a stage URL (https://HOST/STAGE), not {endpoint!r}")
        return cls(env[ENV_TASK_TABLE], env[ENV_CONNECTIONS_TABLE], endpoint.rstrip("/"))


def _require(env: Mapping[str, str], *names: str) -> None:
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise ConfigError(f"missing environment variables: {', '.join(missing)}")

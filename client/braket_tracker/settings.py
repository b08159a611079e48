"""Where the tracker is: its API and live-updates URLs and its Region, from arguments, the
environment, or a deployed stack's CloudFormation outputs; and the credentials to sign with."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from braket_tracker.errors import ApiUnreachable, ConfigurationError, MissingCredentials, StackNotFound

DEFAULT_STACK = "BraketTaskTracker"
ENV_API_URL = "BRAKET_TRACKER_API_URL"
ENV_LIVE_URL = "BRAKET_TRACKER_LIVE_URL"
ENV_STACK = "BRAKET_TRACKER_STACK"
OUTPUT_API_URL = "TaskApiUrl"
OUTPUT_LIVE_URL = "LiveUpdatesUrl"

_EXECUTE_API = re.compile(
    r"(?:https|wss)://[a-z0-9]+\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?P<path>/[^?#]*)?"
)


@dataclass(frozen=True)
class Endpoints:
    api_url: str  # ends with "/": https://ID.execute-api.REGION.amazonaws.com/v1/
    live_url: str | None  # wss://ID.execute-api.REGION.amazonaws.com/live, or None
    region: str  # the Region requests are signed for
    stack_name: str | None  # the stack the URLs came from, if any


def resolve(
    session: Any,
    *,
    api_url: str | None = None,
    stack_name: str | None = None,
    region: str | None = None,
    live_url: str | None = None,
) -> Endpoints:
    """Explicit arguments first, then BRAKET_TRACKER_API_URL / BRAKET_TRACKER_LIVE_URL /
    BRAKET_TRACKER_STACK, then the stack `BraketTaskTracker`'s outputs."""
    api_url = api_url or (None if stack_name else os.environ.get(ENV_API_URL) or None)
    live_url = live_url or os.environ.get(ENV_LIVE_URL) or None
    stack = stack_name or (None if api_url else os.environ.get(ENV_STACK) or DEFAULT_STACK)
    if stack is not None:
        outputs = stack_outputs(session, stack, region or session.region_name)
        if OUTPUT_API_URL not in outputs and api_url is None:
            raise StackNotFound(f"stack {stack!r} has no {OUTPUT_API_URL} output: is it the Braket Task Tracker?")
        api_url = api_url or outputs[OUTPUT_API_URL]
        live_url = live_url or outputs.get(OUTPUT_LIVE_URL)
    assert api_url is not None
    if not api_url.startswith(("https://", "http://")):
        raise ConfigurationError(f"the API URL must start with https:// (or http:// for local mode): {api_url!r}")
    if live_url is not None and not live_url.startswith(("wss://", "ws://")):
        raise ConfigurationError(f"the live-updates URL must start with wss:// (or ws://): {live_url!r}")
    execute_api = _EXECUTE_API.fullmatch(api_url.split("?", 1)[0])
    if execute_api and not (execute_api["path"] or "").strip("/"):
        raise ConfigurationError(
            f"the API URL {api_url!r} has no stage: the stack's TaskApiUrl output ends with it, as in "
            f"{api_url.rstrip('/')}/v1/"
        )
    signing_region = region or (execute_api["region"] if execute_api else None) or session.region_name
    if not signing_region:
        raise ConfigurationError("no AWS Region: pass region=/--region, or set AWS_REGION")
    return Endpoints(api_url.rstrip("/") + "/", live_url, signing_region, stack)


def stack_outputs(session: Any, stack_name: str, region: str | None) -> dict[str, str]:
    """The stack's outputs, by key; StackNotFound names the stack and Region if there is none."""
    import botocore.exceptions  # noqa: PLC0415 (botocore is heavy: only when a stack is looked up)

    if not region:
        raise ConfigurationError(f"no AWS Region to look up stack {stack_name!r} in: pass --region or set AWS_REGION")
    try:
        cloudformation = session.client("cloudformation", region_name=region)
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except botocore.exceptions.NoCredentialsError as error:
        raise missing_credentials() from error
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ValidationError" and "does not exist" in message:
            raise StackNotFound(
                f"no stack {stack_name!r} in {region}: deploy the tracker, or pass --stack/--api-url"
            ) from error
        if code in {"AccessDenied", "AccessDeniedException", "ExpiredToken", "InvalidClientTokenId"}:
            raise ConfigurationError(f"cannot read stack {stack_name!r}: {code}: {message}") from error
        raise ConfigurationError(f"cannot read stack {stack_name!r} in {region}: {code}: {message}") from error
    except botocore.exceptions.EndpointConnectionError as error:
        raise ApiUnreachable(f"CloudFormation in {region} did not answer: {error}") from error
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}


def frozen_credentials(session: Any) -> Any:
    """The chain's current credentials (refreshed when they expire), or MissingCredentials."""
    credentials = session.get_credentials()
    if credentials is None:
        raise missing_credentials()
    return credentials.get_frozen_credentials()


def missing_credentials() -> MissingCredentials:
    return MissingCredentials(
        "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
        "or run `aws sso login` / `aws configure`"
    )

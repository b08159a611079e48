"""The process environment of a function's workers: what Lambda sets, plus the function's own variables."""

from __future__ import annotations

import os
from pathlib import Path

from local.runner.deployed import Credentials


def lambda_environment(
    *,
    variables: dict[str, str],
    function_name: str,
    memory_size: int,
    code: Path,
    handler: str,
    runtime: str,
    log_group: str,
    region: str,
    credentials: Credentials,
    aws_endpoint: str,
    braket_endpoint: str | None,
) -> dict[str, str]:
    """The function's variables (resolved), then Lambda's reserved ones, then the local endpoints and
    credentials, which always win: nothing a function runs may reach AWS. Each worker adds its own
    AWS_LAMBDA_LOG_STREAM_NAME."""
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "LANG": "en_US.UTF-8", "TZ": ":UTC"}
    env.update(variables)
    env.update(
        {
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(code),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
            "AWS_ENDPOINT_URL": aws_endpoint,
        }
    )
    if credentials.token:
        env["AWS_SESSION_TOKEN"] = credentials.token
    if braket_endpoint:
        env["AWS_ENDPOINT_URL_BRAKET"] = braket_endpoint
    return env

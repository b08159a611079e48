"""Reports what a Lambda function sees: its environment, context, sys.path and module state."""

import os
import sys
import time

IMPORTS = 1  # set when the module is imported: once per worker (cold start)
STATE = {"invocations": 0}  # module state: survives between warm invocations, not a cold start


def handler(event, context):
    STATE["invocations"] += 1
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise ValueError(event["fail"])
    try:
        import stacks  # noqa: F401  (the project: never importable from a function)

        project_visible = True
    except ImportError:
        project_visible = False
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "imports": IMPORTS,
        "invocations": STATE["invocations"],
        "env": dict(os.environ),
        "sys_path0": sys.path[0],
        "cwd": os.getcwd(),
        "project_visible": project_visible,
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
        "event": event,
    }

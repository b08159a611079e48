"""One Lambda execution environment: a child process of the runner that runs one function's handler.

The runner starts it as `python -I -u worker.py FD TASK_ROOT HANDLER` with the function's environment.
`-I` keeps the project (and the runner) off `sys.path`: the function sees its asset directory first,
then this interpreter's site-packages (standing for the Powertools layer and the runtime's boto3),
as in Lambda. This file uses the standard library only.

The module is imported once (the cold start); then each request on the socket FD is one invocation.
The runner enforces the timeout by killing this process. A reader thread owns the socket: when the
runner goes away (stopped, killed, Ctrl-C), the socket closes and this process exits at once.

Messages both ways are a 4-byte big-endian length and a JSON object.
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import queue
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from typing import Any

_HEADER = struct.Struct(">I")


def send_message(sock: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    sock.sendall(_HEADER.pack(len(data)) + data)


def receive_message(sock: socket.socket) -> dict[str, Any] | None:
    """The next message, or None when the other end has closed."""
    header = _receive_exactly(sock, _HEADER.size)
    if header is None:
        return None
    data = _receive_exactly(sock, _HEADER.unpack(header)[0])
    return None if data is None else dict(json.loads(data))


def _receive_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


class LambdaContext:
    """The context object of the Python runtime (awslambdaric): the same attributes, from the same places."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id: str = request["request_id"]
        self.invoked_function_arn: str = request["invoked_function_arn"]
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")  # a string, as in Lambda
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.client_context = None
        self.identity = None
        self.tenant_id = None
        self._deadline_ms: int = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


class _Fault(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _load_handler(handler: str) -> Any:
    """As the runtime does: `module.path.function`, slashes allowed in the module part."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _Fault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        raise _Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise _Fault(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None


def _error(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    if isinstance(exc, _Fault):
        return {"errorMessage": str(exc), "errorType": exc.error_type, "requestId": request_id, "stackTrace": []}
    frames = traceback.extract_tb(exc.__traceback__)
    frames = traceback.StackSummary.from_list([f for f in frames if f.filename != __file__])
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _log_error(error: dict[str, Any]) -> None:
    """The runtime's error log line, on stdout."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    if error["stackTrace"]:
        lines += ["Traceback (most recent call last):", *"".join(error["stackTrace"]).splitlines()]
    print("\r".join(lines), flush=True)


def _to_json(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, decimal.Decimal):
            return int(obj) if obj == obj.to_integral_value() else float(obj)
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    try:
        return json.dumps(value, default=default, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _setup_logging() -> _RequestIdFilter:
    """The runtime's root logger handler (text format), so `logging` in handlers prints as in Lambda."""
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    )
    request_filter = _RequestIdFilter()
    handler.addFilter(request_filter)
    logging.getLogger().addHandler(handler)
    return request_filter


def _read_requests(sock: socket.socket, requests: queue.Queue[dict[str, Any]]) -> None:
    while True:
        try:
            message = receive_message(sock)
        except OSError:
            message = None
        if message is None:
            os._exit(0)  # the runner is gone: so is this environment
        requests.put(message)


def main(argv: list[str]) -> None:
    fd, task_root, handler_name = int(argv[1]), argv[2], argv[3]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    sock = socket.socket(fileno=fd)
    requests: queue.Queue[dict[str, Any]] = queue.Queue()
    threading.Thread(target=_read_requests, args=(sock, requests), daemon=True).start()
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    request_filter = _setup_logging()

    started = time.monotonic()
    try:
        handler = _load_handler(handler_name)
    except Exception as exc:
        error = _error(exc)
        _log_error(error)
        send_message(sock, {"type": "init_error", "error": error})
        return
    send_message(sock, {"type": "ready", "init_ms": (time.monotonic() - started) * 1000})

    while True:
        request = requests.get()
        request_filter.request_id = request["request_id"]
        try:
            payload = _to_json(handler(request["event"], LambdaContext(request)))
        except Exception as exc:
            error = _error(exc, request["request_id"])
            _log_error(error)
            send_message(sock, {"type": "error", "error": error})
        else:
            send_message(sock, {"type": "result", "payload": payload})


if __name__ == "__main__":
    main(sys.argv)

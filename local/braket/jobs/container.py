"""A hybrid job's own process: what Braket's job container does, on this machine.

Run as `python -P container.py <workspace>` by local/braket/jobs/runner.py, in a process of its own per
job. It follows amazon-braket-containers' src/braket_container.py: the code's S3 URI, entry point and
compression type come from AMZN_BRAKET_SCRIPT_*; the code is downloaded into customer_code/original,
unpacked (GZIP or ZIP; anything else is copied as is) into customer_code/extracted, which goes on
sys.path and becomes the working folder; `module:function` is imported and called, with the
hyperparameters as keyword arguments when its signature binds them all (each converted by its
annotation), else with none; a bare `module` runs as `__main__`. A failure's text goes to
output/failure ("<ExceptionType>: <message>"), where the runner reads it for the failure reason.

Where local mode differs (deliberately, and said in the README): a `requirements.txt` is refused, since
pip cannot reach an index offline; setup failures (download, unpacking, import, hyperparameter conversion)
exit 1 with their text in output/failure, so the job fails with the reason; the code runs in this process
(the container starts one more, for isolation this process already has).

Only the standard library and boto3 are imported here, as in the container: the job's code gets a clean
interpreter (-P keeps this file's folder off sys.path).
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import runpy
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3

REQUIREMENTS = "requirements.txt"


class SetupFailed(Exception):
    """The job cannot start: its text is the failure reason."""


def main(root: Path) -> int:
    original = root / "code" / "customer_code" / "original"
    extracted = root / "code" / "customer_code" / "extracted"
    failure_file = root / "output" / "failure"
    print("Beginning Setup", flush=True)
    try:
        s3_uri = os.environ.get("AMZN_BRAKET_SCRIPT_S3_URI") or _fail("No customer script specified")
        entry_point = os.environ.get("AMZN_BRAKET_SCRIPT_ENTRY_POINT") or _fail("No customer entry point specified")
        source = download(s3_uri, original)
        unpack(source, os.environ.get("AMZN_BRAKET_SCRIPT_COMPRESSION_TYPE"), extracted)
        sys.path.append(str(extracted))
        refuse_requirements(extracted)
        function = customer_code(entry_point)
        kwargs = hyperparameter_arguments(function)
    except SetupFailed as failure:
        write_failure(failure_file, str(failure))
        print(failure, file=sys.stderr, flush=True)
        return 1
    print("Running Code As Process", flush=True)
    os.chdir(extracted)
    try:
        function(**kwargs)
    except Exception as exc:
        write_failure(failure_file, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        traceback.print_exc()
        return 1
    print("Code Run Finished", flush=True)
    return 0


def _fail(text: str) -> str:
    raise SetupFailed(text)


def download(s3_uri: str, original: Path) -> Path:
    """The code's file, by the basename of its key (as the container downloads it)."""
    parsed = urlparse(s3_uri, allow_fragments=False)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    target = original / os.path.basename(key)
    try:
        boto3.client("s3").download_file(bucket, key, str(target))
    except Exception as exc:
        raise SetupFailed(f"Unable to download code.\nException: {exc}") from exc
    return target


def unpack(source: Path, compression_type: str | None, extracted: Path) -> None:
    if compression_type and compression_type.strip().lower() in ("gzip", "zip"):
        try:
            if compression_type.strip().lower() == "zip":
                shutil.unpack_archive(source, extracted, format="zip")
            else:
                shutil.unpack_archive(source, extracted, format="gztar", filter="data")
        except Exception as exc:
            raise SetupFailed(
                f"Got an exception while trying to unpack archive: {source} of type: {compression_type}.\n"
                f"Exception: {exc}"
            ) from exc
    else:
        shutil.copy(source, extracted)


def refuse_requirements(extracted: Path) -> None:
    """Braket's container pip-installs every requirements.txt; offline, local mode cannot, so it says so."""
    print("Checking for Additional Requirements", flush=True)
    found = sorted(path.relative_to(extracted).as_posix() for path in extracted.rglob(REQUIREMENTS))
    if found:
        raise SetupFailed(
            f"Local mode cannot install {', '.join(found)}: it has no network for pip. Install the packages into "
            "local mode's Python environment and leave requirements.txt out of the source module."
        )
    print("Additional Requirements Check Finished", flush=True)


def customer_code(entry_point: str) -> Callable[..., Any]:
    """`module:function` imported; a bare module as a zero-argument call running it as `__main__`."""
    if ":" not in entry_point:

        def run_module() -> Any:
            return runpy.run_module(entry_point, run_name="__main__")

        return run_module
    module_name, _, function_name = entry_point.partition(":")
    try:
        return getattr(importlib.import_module(module_name), function_name)  # type: ignore[no-any-return]
    except Exception as exc:
        raise SetupFailed(f"{type(exc).__name__}: {exc}") from exc


def hyperparameter_arguments(function: Callable[..., Any]) -> dict[str, Any]:
    """All hyperparameters as keyword arguments if the signature binds them, converted by annotation; else none."""
    hp_file = os.environ.get("AMZN_BRAKET_HP_FILE")
    if hp_file is None:
        return {}
    with open(hp_file, encoding="utf-8") as f:
        hyperparameters: dict[str, str] = json.load(f)
    try:
        inspect.signature(function).bind(**hyperparameters)
    except TypeError:
        return {}
    annotations = inspect.getfullargspec(function).annotations
    try:
        return {name: annotations.get(name, str)(value) for name, value in hyperparameters.items()}
    except Exception as exc:
        raise SetupFailed(f"{type(exc).__name__}: {exc}") from exc


def write_failure(failure_file: Path, text: str) -> None:
    failure_file.parent.mkdir(parents=True, exist_ok=True)
    with failure_file.open("a", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))

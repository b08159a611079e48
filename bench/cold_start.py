"""Benchmark: each handler's cold start as deployed (import plus init, and the clients its first
invocation creates), against the floor `import boto3` plus one client, and each function's asset size.

Local mode deploys the synthesized stack on moto, and its runner resolves every function's
environment as Lambda would set it (the template's variables, resolved; Lambda's reserved ones).
Those environments are kept and local mode is stopped. Then, in fresh processes (`python -I`, the
asset directory first on sys.path, as the runner's worker starts a function), this script times:
- the handler module's import, which is also its init (module-level Powertools objects, config
  validated from the environment, boto3 clients), from an asset without compiled bytecode, as
  deployed (the asset excludes `.pyc` and Lambda's /var/task is read-only: Python compiles every
  module of the asset at each cold start; PYTHONDONTWRITEBYTECODE keeps it so between rounds);
- then the clients the function's first invocation creates (FIRST_CLIENTS): a Braket client in the
  task's Region and the @connections client for the recorder's first pushed end, S3 and Braket for the
  API's first result or submission, and so on;
- the floor, `import boto3` and one client, in the same rounds.
Rounds of every target in a new random order, ROUNDS of them at least, medians. AWS_ENDPOINT_URL
points at a closed port while timing, so an init that made a network call would fail here.

One more target times the recorder with its event model written with pydantic (the model it had,
kept as the reference in tests/support/pydantic_event_model.py): the measurement behind dropping
pydantic from the recorder.

Run: .venv/bin/python -m bench.cold_start [--rounds 15]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import PROJECT, machine, median, write
from bench.processes import load_average
from local.faults import FaultPlan
from local.tracker import LocalTracker

REGION = "us-east-1"
_BRAKET = f"boto3.client('braket', region_name={REGION!r})"
_CONNECTIONS = (
    "boto3.client('apigatewaymanagementapi', endpoint_url='https://abc123.execute-api.us-east-1.amazonaws.com/live')"
)
# The targets: the recorder at most 1.5x the floor, the API at most 2.0x; the others 1.5x.
TARGETS = {
    "RecordingRecorderFunction": ("recorder", 1.5),
    "NotificationsNotifierFunction": ("notifier", 1.5),
    "TaskApiHandlerFunction": ("api", 2.0),
    "LiveUpdatesConnectionsHandlerFunction": ("live connections", 1.5),
    "LiveUpdatesPusherFunction": ("live pusher", 1.5),
    "ReconciliationReconcilerFunction": ("reconciler", 1.5),
}
FIRST_CLIENTS = {
    "recorder": [_BRAKET, _CONNECTIONS],  # GetQuantumTask at its first end; the push to a subscriber
    "api": [
        "boto3.client('s3', region_name='us-east-1', config=botocore.config.Config(signature_version='s3v4'))",
        _BRAKET,
    ],  # a result's presigned link; a submission
    "live connections": [_CONNECTIONS],
    "live pusher": [_CONNECTIONS],
    "reconciler": [_BRAKET],  # its home Region's sweep (one more per other Region it sweeps)
    "notifier": [],  # its SNS client is made at init
}
ASSET_TARGET_BYTES = 1_000_000
ROUNDS = 15
FLOOR = "import boto3\nboto3.client('dynamodb')"
TIMER = """
import sys, time
sys.path.insert(0, {root!r})
started = time.perf_counter()
{body}
elapsed = time.perf_counter() - started
print(elapsed, len(sys.modules))
"""
PYDANTIC_VARIANT = "recorder, with a pydantic event model (not deployed)"


@dataclass
class Target:
    name: str
    limit: float | None
    body: str
    environment: dict[str, str]
    root: str
    seconds: list[float]
    modules: int = 0


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens once the probe is closed


RUNTIMES: set[str] = set()


def heaviest_imports(target: Target, count: int = 4) -> list[tuple[str, float]]:
    """The handler module's direct imports by cumulative import time (`python -X importtime`), boto3 left out."""
    result = subprocess.run(
        [sys.executable, "-I", "-X", "importtime", "-c", TIMER.format(root=target.root, body=target.body)],
        env=target.environment,
        cwd=target.root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found: dict[str, float] = {}
    module = target.body.splitlines()[0].removeprefix("import ")
    for line in result.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2]
        depth = (len(name) - len(name.lstrip())) // 2
        if name.strip() == module:
            break
        if depth == 0:
            found.clear()  # what came before was another top-level import's (site's, at start-up)
        elif depth == 1 and name.strip() != "boto3":  # imported by the handler module itself
            found[name.strip()] = int(parts[1]) / 1e6
    return sorted(found.items(), key=lambda item: -item[1])[:count]


def handlers(variant_root: Path) -> tuple[list[Target], dict[str, Path]]:
    with LocalTracker(faults=FaultPlan(), forwarders=False, log_file=None) as tracker:
        assert tracker.runner is not None
        functions = dict(tracker.runner.functions)
        specs = {spec.logical_id: spec for spec in tracker.runner.template.functions()}
        targets, assets = [], {}
        nowhere = closed_port()
        for logical_id, function in sorted(functions.items()):
            prefix = next((p for p in TARGETS if logical_id.startswith(p)), None)
            if prefix is None:
                continue
            name, limit = TARGETS[prefix]
            env = {**function.config.environment, "AWS_ENDPOINT_URL": nowhere, "AWS_ENDPOINT_URL_BRAKET": nowhere}
            env |= {"AWS_LAMBDA_LOG_STREAM_NAME": "bench", "PYTHONDONTWRITEBYTECODE": "1"}
            module = function.config.handler.rsplit(".", 1)[0]
            clients = FIRST_CLIENTS[name]
            body = "\n".join([f"import {module}", *(["import boto3, botocore.config"] if clients else []), *clients])
            root = str(function.config.code)
            targets.append(Target(name, limit, body, env, root, []))
            if name == "recorder":  # the same recorder, from a copy of its asset with the pydantic model
                variant = variant_root / "asset"
                shutil.copytree(root, variant, ignore=shutil.ignore_patterns("__pycache__"))
                shutil.copy(
                    PROJECT / "tests" / "support" / "pydantic_event_model.py", variant / "tracker/models/event.py"
                )
                targets.append(Target(PYDANTIC_VARIANT, None, body, env, str(variant), []))
            RUNTIMES.add(specs[logical_id].runtime)
            code = specs[logical_id].code
            assert code is not None
            assets[name] = code
    return targets, assets


def without_bytecode(roots: set[str]) -> None:
    """As deployed: the asset has no compiled bytecode (the runner's workers may have left some)."""
    for root in roots:
        for cache in Path(root).rglob("__pycache__"):
            shutil.rmtree(cache)


def time_once(target: Target) -> float:
    result = subprocess.run(
        [sys.executable, "-I", "-c", TIMER.format(root=target.root, body=target.body)],
        env=target.environment,
        cwd=target.root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{target.name}: cold start failed:\n{result.stderr[-2000:]}")
    seconds, modules = result.stdout.split()[-2:]
    target.modules = int(modules)
    return float(seconds)


def zipped_size(directory: Path) -> tuple[int, int]:
    """(zipped bytes, files) of an asset directory, or the zip itself."""
    if directory.is_file():
        return directory.stat().st_size, len(zipfile.ZipFile(directory).namelist())
    buffer = io.BytesIO()
    files = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(directory))
                files += 1
    return len(buffer.getvalue()), files


def run(rounds: int, variant_root: Path) -> tuple[list[Target], Target, dict[str, Path]]:
    targets, assets = handlers(variant_root)
    env = dict(targets[0].environment)
    floor = Target("floor: import boto3 + one client", None, FLOOR, env, targets[0].root, [])
    everything = [floor, *targets]
    without_bytecode({target.root for target in everything})
    for target in everything:
        time_once(target)  # the file system's cache warm; not counted
    for _ in range(rounds):
        random.shuffle(everything)
        for target in everything:
            target.seconds.append(time_once(target))
    without_bytecode({target.root for target in everything})  # nothing was written; checked anyway
    return targets, floor, assets


def report(targets: list[Target], floor: Target, assets: dict[str, Path], rounds: int) -> str:
    base = median(floor.seconds)
    rows = [
        "| handler (import, init, first invocation's clients) | median | x floor | target | met | modules loaded |",
        "|---|---|---|---|---|---|",
        f"| {floor.name} | {base * 1000:.0f} ms | 1.00 | - | - | {floor.modules} |",
    ]
    for target in targets:
        ratio = median(target.seconds) / base
        limit = f"{target.limit:.1f}x" if target.limit is not None else "-"
        met = (
            "-"
            if target.limit is None
            else ("yes" if ratio <= target.limit else f"**no** (by {ratio - target.limit:.2f}x)")
        )
        took = median(target.seconds) * 1000
        rows.append(f"| {target.name} | {took:.0f} ms | {ratio:.2f} | {limit} | {met} | {target.modules} |")
    failed = [t for t in targets if t.limit is not None and median(t.seconds) / base > t.limit]
    why = []
    for target in failed:
        heavy = ", ".join(f"`{name}` {seconds * 1000:.0f} ms" for name, seconds in heaviest_imports(target))
        why.append(f"- {target.name}: its heaviest imports beyond boto3 (cumulative, one run): {heavy}.")
    recorder = next(t for t in targets if t.name == "recorder")
    variant = next(t for t in targets if t.name == PYDANTIC_VARIANT)
    saved = median(variant.seconds) - median(recorder.seconds)
    sizes: dict[Path, tuple[int, int]] = {}
    asset_rows = ["| function | asset | zipped | files | under 1 MB |", "|---|---|---|---|---|"]
    for name, path in assets.items():
        size, files = sizes.setdefault(path, zipped_size(path))
        asset_rows.append(
            f"| {name} | {path.name[:18]}... | {size / 1000:.0f} kB | {files} "
            f"| {'yes' if size < ASSET_TARGET_BYTES else '**no**'} |"
        )
    shared = len(set(assets.values())) == 1
    return "\n".join(
        [
            "# Cold start and deployment size",
            "",
            machine(),
            f"Load average at the end: {load_average()} (1, 5, 15 min).",
            "",
            f"Import plus init in a fresh `python -I` process (Python {sys.version.split()[0]}; the functions are "
            f"deployed on {', '.join(sorted(RUNTIMES))}), from the asset without compiled bytecode (as deployed), "
            "each function's environment as the stack sets it, then the boto3 clients its first invocation creates "
            f"({'; '.join(f'{name}: {len(clients)}' for name, clients in FIRST_CLIENTS.items())}); "
            f"{rounds} rounds, every target once per round in a random order, medians. The floor is "
            "`import boto3` plus one client, timed the same way in the same rounds.",
            "",
            *rows,
            "",
            "**The recorder's event model, decided by this measurement:** with its event model written with pydantic "
            f"(the row 'not deployed'), the recorder's cold start is {median(variant.seconds) * 1000:.0f} ms, "
            f"{median(variant.seconds) / base:.2f}x the floor; with the hand-written gate it has now, "
            f"{median(recorder.seconds) * 1000:.0f} ms ({saved * 1000:.0f} ms less, "
            f"{saved / median(variant.seconds) * 100:.0f} %). A cold recorder is on the way of a task's end to its "
            "waiters (docs/latency.md), so the gate is written by hand, declared as a table of fields "
            "(tracker.models.event), and checked against the pydantic model it replaces "
            "(tests/unit/test_event_parsing.py: both accept, refuse and map the same events).",
            "",
            *(["Where a target is missed:", *why, ""] if failed else []),
            "## Deployment assets",
            "",
            *asset_rows,
            "",
            (
                "Every function deploys the same asset (the `tracker` package, one upload); each imports only "
                "its own handler's modules from it. "
                if shared
                else ""
            )
            + "Powertools comes from the AWS-managed layer; boto3 from the Lambda runtime.",
            "",
            f"Interpreter start-up ({os.path.basename(sys.executable)} itself) is outside these figures: it is "
            "the same for every target and Lambda's runtime pays it before the init phase anyway.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cold-start-") as variant_root:
        targets, floor, assets = run(args.rounds, Path(variant_root))
    write("cold-start.md", report(targets, floor, assets, args.rounds))


if __name__ == "__main__":
    main()

"""Benchmark: each handler's cold start (import plus init), against the floor `import boto3` plus
one client, and each function's deployment asset size.

Local mode deploys the synthesized stack on moto, and its runner resolves every function's
environment as Lambda would set it (the template's variables, resolved; Lambda's reserved ones).
Those environments are kept and local mode is stopped. Then, in fresh processes
(`python -I`, the asset directory first on sys.path, as the runner's worker starts a function),
this script times the handler module's import, which is also its init (module-level Powertools
objects, config validated from the environment, boto3 clients), and the floor, in the same run:
rounds of every target in a new random order, several rounds, medians. AWS_ENDPOINT_URL points at a
closed port while timing, so an init that made a network call would fail here rather than hide.

The asset: the synthesized asset directory that the CDK zips and uploads (Powertools comes from the
AWS-managed layer and is not in it), zipped here with deflate as the CDK does.

Run: .venv/bin/python -m bench.cold_start [--rounds 15]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import socket
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import machine, median, write
from local.faults import FaultPlan
from local.tracker import LocalTracker

# Targets from the issue: event-driven handlers 1.5x the floor, the API handler 2.5x.
TARGETS = {
    "RecordingRecorderFunction": ("recorder", 1.5),
    "NotificationsNotifierFunction": ("notifier", 1.5),
    "TaskApiHandlerFunction": ("api", 2.5),
    "LiveUpdatesConnectionsHandlerFunction": ("live connections", 1.5),
    "LiveUpdatesPusherFunction": ("live pusher", 1.5),
    "ReconciliationReconcilerFunction": ("reconciler", 1.5),
}
ASSET_TARGET_BYTES = 1_000_000
MISSED = [
    "",
    "The recorder validates each event with a pydantic model (tracker.models.event, the boundary model "
    "of the queue's events): importing pydantic and building the model's validator is most of its gap. "
    "Lazy building would only move that cost into the first invocation, which a cold start pays too; "
    "a hand-written validator would remove it, at the price of the one-model-per-boundary convention, "
    "and is left to a decision. Already done: the envelope no longer subclasses Powertools' "
    "EventBridgeModel, whose import loaded every Powertools parser model (about 85 ms).",
]
FLOOR = "import boto3\nboto3.client('dynamodb')"
TIMER = """
import sys, time
sys.path.insert(0, {root!r})
started = time.perf_counter()
{body}
elapsed = time.perf_counter() - started
print(elapsed, len(sys.modules))
"""


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
    module = target.body.removeprefix("import ")
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


def handlers() -> tuple[list[Target], dict[str, Path]]:
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
            env["AWS_LAMBDA_LOG_STREAM_NAME"] = "bench"
            module = function.config.handler.rsplit(".", 1)[0]
            body = f"import {module}"
            targets.append(Target(name, limit, body, env, str(function.config.code), []))
            RUNTIMES.add(specs[logical_id].runtime)
            code = specs[logical_id].code
            assert code is not None
            assets[name] = code
    return targets, assets


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


def run(rounds: int) -> tuple[list[Target], Target, dict[str, Path]]:
    targets, assets = handlers()
    env = dict(targets[0].environment)
    floor = Target("floor: import boto3 + one client", None, FLOOR, env, targets[0].root, [])
    everything = [floor, *targets]
    for target in everything:
        time_once(target)  # warm the file system cache; not counted
    for _ in range(rounds):
        random.shuffle(everything)
        for target in everything:
            target.seconds.append(time_once(target))
    return targets, floor, assets


def report(targets: list[Target], floor: Target, assets: dict[str, Path], rounds: int) -> str:
    base = median(floor.seconds)
    rows = [
        "| handler | import + init, median | x floor | target | met | modules loaded |",
        "|---|---|---|---|---|---|",
        f"| {floor.name} | {base * 1000:.0f} ms | 1.00 | - | - | {floor.modules} |",
    ]
    for target in targets:
        ratio = median(target.seconds) / base
        assert target.limit is not None
        rows.append(
            f"| {target.name} | {median(target.seconds) * 1000:.0f} ms | {ratio:.2f} | {target.limit:.1f}x "
            f"| {'yes' if ratio <= target.limit else '**no**'} | {target.modules} |"
        )
    failed = [t for t in targets if t.limit is not None and median(t.seconds) / base > t.limit]
    why = []
    for target in failed:
        heavy = ", ".join(f"`{name}` {seconds * 1000:.0f} ms" for name, seconds in heaviest_imports(target))
        why.append(f"- {target.name}: its heaviest imports beyond boto3 (cumulative, one run): {heavy}.")
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
            "",
            f"Import plus init in a fresh `python -I` process (Python {sys.version.split()[0]}; the functions are "
            f"deployed on {', '.join(sorted(RUNTIMES))}), each function's environment as the stack sets it; "
            f"{rounds} rounds, every target once per round in a random order, medians. The floor is "
            "`import boto3` plus one client, timed the same way in the same rounds.",
            "",
            *rows,
            "",
            *(
                ["Where a target is missed:", *why, *(MISSED if any(t.name == "recorder" for t in failed) else [])]
                if failed
                else []
            ),
            *([""] if failed else []),
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
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    targets, floor, assets = run(args.rounds)
    write("cold-start.md", report(targets, floor, assets, args.rounds))


if __name__ == "__main__":
    main()

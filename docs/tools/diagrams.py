"""The docs' Mermaid diagrams: find them, parse them with Mermaid's own parser, and render each
one to SVG in docs/img/ for readers that do not draw Mermaid.

    python docs/tools/diagrams.py check     # every diagram parses and has a current SVG (no browser)
    python docs/tools/diagrams.py render    # render the SVGs that are missing or stale (make diagrams)

Each ```mermaid block in README.md and docs/*.md names itself with a comment line,
`%% diagram: architecture`, and is drawn in docs/img/architecture.svg. The SVG's first line records
the SHA-256 of the diagram's source, so a test tells a stale picture without drawing it.

Rendering needs a browser: @mermaid-js/mermaid-cli (pinned in docs/tools/render/, installed on
first use with PUPPETEER_SKIP_DOWNLOAD, so puppeteer downloads no Chrome) drives the system's
Chromium (`apt-get install chromium`, or CHROMIUM=/path/to/chrome). CI does not render.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from docs.tools.links import documentation_files
from docs.tools.markdown import MarkdownFile

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "img"
PARSER = ROOT / "docs" / "tools" / "mermaid-parse.mjs"
RENDERER = ROOT / "docs" / "tools" / "render"
MERMAID_CONFIG = RENDERER / "mermaid-config.json"
_NAME = re.compile(r"\s*%%\s*diagram:\s*(?P<name>\S+)\s*")
_VALID_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_MERMAID_COMMENT = re.compile(r"^\s*%%(?!\{)[^\n]+\n?", re.M)
"""What Mermaid drops before it parses (its cleanupComments), and then any leading white space."""
_STAMP = re.compile(r"<!-- diagram (?P<name>\S+) from (?P<source>\S+), source sha256 (?P<digest>[0-9a-f]{64})\b.*-->")
CHROMIUM_FLAGS = (
    # Offline and headless: no GPU, no sandbox (root in containers), nothing fetched in the background.
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
)


@dataclass(frozen=True)
class Diagram:
    path: Path  # the Markdown file
    line: int  # its opening fence
    name: str | None  # from `%% diagram: <name>`
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path}:{self.line}"

    @property
    def digest(self) -> str:
        return source_digest(self.text)

    @property
    def svg(self) -> Path:
        return IMAGES / f"{self.name}.svg"

    def stamp(self) -> str:
        source = self.path.relative_to(ROOT).as_posix() if self.path.is_relative_to(ROOT) else self.path.name
        return (
            f"<!-- diagram {self.name} from {source}, source sha256 {self.digest}: "
            "drawn by docs/tools/diagrams.py (make diagrams); edit the source, not this file -->"
        )


def source_digest(text: str) -> str:
    """SHA-256 of a diagram's source, blind to trailing spaces and blank lines around it."""
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return hashlib.sha256("\n".join(lines).strip("\n").encode()).hexdigest()


def find_diagrams(files: list[Path] | None = None) -> list[Diagram]:
    diagrams: list[Diagram] = []
    for path in files if files is not None else documentation_files():
        for block in MarkdownFile(path).blocks:
            if block.language != "mermaid":
                continue
            names = [m["name"] for m in map(_NAME.fullmatch, block.text.splitlines()) if m]
            diagrams.append(Diagram(path, block.line, names[0] if len(names) == 1 else None, block.text))
    return diagrams


def naming_problems(diagrams: list[Diagram]) -> list[str]:
    problems: list[str] = []
    seen: dict[str, Diagram] = {}
    for diagram in diagrams:
        if diagram.name is None:
            problems.append(
                f"{diagram.where}: a mermaid block needs one line `%% diagram: <name>` (its SVG is docs/img/<name>.svg)"
            )
        elif not _VALID_NAME.fullmatch(diagram.name):
            problems.append(f"{diagram.where}: diagram name {diagram.name!r}: use a-z, 0-9 and -")
        elif diagram.name in seen:
            problems.append(f"{diagram.where}: diagram name {diagram.name!r} is taken by {seen[diagram.name].where}")
        else:
            seen[diagram.name] = diagram
    return problems


def svg_problems(diagrams: list[Diagram], images: Path = IMAGES) -> list[str]:
    """Missing, stale and orphaned SVGs: what `render` would fix."""
    problems: list[str] = []
    named = {d.name: d for d in diagrams if d.name is not None}
    for name, diagram in named.items():
        svg = images / f"{name}.svg"
        stamp = read_stamp(svg)
        if not svg.exists():
            problems.append(f"{diagram.where}: diagram {name!r} has no {_shown(svg)}: run `make diagrams`")
        elif stamp is None:
            problems.append(f"{_shown(svg)} has no source stamp: run `make diagrams`")
        elif stamp["digest"] != diagram.digest:
            problems.append(
                f"{diagram.where}: diagram {name!r} changed since {_shown(svg)} was drawn: run `make diagrams`"
            )
    for svg in sorted(images.glob("*.svg")):
        stamp = read_stamp(svg)
        if stamp is not None and stamp["name"] not in named:
            problems.append(f"{_shown(svg)} draws diagram {stamp['name']!r}, which no page has any more: delete it")
    return problems


def read_stamp(svg: Path) -> re.Match[str] | None:
    if not svg.exists():
        return None
    with svg.open(encoding="utf-8") as file:
        return _STAMP.match(file.readline())


def parse(diagrams: list[Diagram]) -> list[dict[str, object]]:
    """Mermaid's verdict on each diagram, in order (one Node process for all of them)."""
    if not (ROOT / "node_modules" / "mermaid").is_dir():
        raise RuntimeError("Mermaid is not installed: run `make install` (npm ci installs it from package-lock.json)")
    payload = json.dumps([{"id": str(i), "text": d.text} for i, d in enumerate(diagrams)])
    done = subprocess.run(
        ["node", str(PARSER)], input=payload, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{_shown(PARSER)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    results: list[dict[str, object]] = json.loads(done.stdout)
    return results


def parse_problems(diagrams: list[Diagram]) -> list[str]:
    problems: list[str] = []
    for diagram, result in zip(diagrams, parse(diagrams), strict=True):
        if not result["ok"]:
            line = result["line"]
            where = diagram.where
            if isinstance(line, int):
                where = f"{_shown(diagram.path)}:{diagram.line + source_line(diagram.text, line)}"
            message = str(result["error"]).strip().replace("\n", "\n    ")
            problems.append(f"{where}: diagram {diagram.name or '(unnamed)'} does not parse:\n    {message}")
    return problems


def source_line(text: str, parsed_line: int) -> int:
    """The line of a diagram's source (1-based) that Mermaid calls `parsed_line`: Mermaid counts
    the lines of what it parses, without its comments (and the blank lines just before them) and
    without leading white space."""
    kept: list[int] = []  # the source offset of each character Mermaid parses
    position = 0
    for match in _MERMAID_COMMENT.finditer(text):
        kept.extend(range(position, match.start()))
        position = match.end()
    kept.extend(range(position, len(text)))
    parsed = "".join(text[i] for i in kept)
    lead = len(parsed) - len(parsed.lstrip())
    kept, parsed = kept[lead:], parsed[lead:]
    offset = 0
    for _ in range(parsed_line - 1):
        newline = parsed.find("\n", offset)
        offset = len(parsed) if newline < 0 else newline + 1
    if offset >= len(kept):
        return text.count("\n") + (0 if text.endswith("\n") else 1)  # past the end: the last line
    return text.count("\n", 0, kept[offset]) + 1


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or next(
        (path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))), None
    )
    if not found:
        raise SystemExit("Rendering needs Chromium: `apt-get install chromium`, or set CHROMIUM=/path/to/chrome")
    return found


def mmdc() -> Path:
    """The pinned mermaid-cli, installed on first use (puppeteer downloads no browser)."""
    binary = RENDERER / "node_modules" / ".bin" / "mmdc"
    if not binary.exists():
        environment = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "true"}
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=RENDERER, env=environment, check=True
        )
    return binary


def render(diagrams: list[Diagram], *, force: bool = False) -> list[Path]:
    """Draw each named diagram whose SVG is missing or stale (all of them with `force`)."""
    todo = [d for d in diagrams if d.name is not None and (force or _stale(d))]
    if not todo:
        return []
    binary, browser = mmdc(), chromium()
    IMAGES.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as work:
        puppeteer = Path(work) / "puppeteer.json"
        puppeteer.write_text(json.dumps({"executablePath": browser, "headless": True, "args": list(CHROMIUM_FLAGS)}))
        for diagram in todo:
            source, output = Path(work) / f"{diagram.name}.mmd", Path(work) / f"{diagram.name}.svg"
            source.write_text(diagram.text, encoding="utf-8")
            command = [str(binary), "-q", "-i", str(source), "-o", str(output)]
            command += ["-c", str(MERMAID_CONFIG), "-p", str(puppeteer), "-b", "white"]
            subprocess.run(command, check=True, cwd=ROOT, timeout=180)
            diagram.svg.write_text(diagram.stamp() + "\n" + output.read_text(encoding="utf-8"), encoding="utf-8")
            written.append(diagram.svg)
    return written


def _stale(diagram: Diagram) -> bool:
    stamp = read_stamp(diagram.svg)
    return stamp is None or stamp["digest"] != diagram.digest


def _shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    diagrams = find_diagrams()
    if command == "render":
        problems = naming_problems(diagrams) + parse_problems(diagrams)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
        for svg in render(diagrams, force="--force" in argv):
            print(f"drew {_shown(svg)}")
        problems = svg_problems(diagrams)
    elif command == "check":
        problems = naming_problems(diagrams) + parse_problems(diagrams) + svg_problems(diagrams)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print("\n".join(problems) or f"{len(diagrams)} diagram(s): each parses and has a current SVG")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

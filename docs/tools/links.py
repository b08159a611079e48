"""Checks every link of the README and the pages in docs/: `python docs/tools/links.py`.

- A relative link (`docs/costs.md`, `../README.md#deploy`, `/docs/img/x.svg`: a leading `/` is the
  repository's root, as on GitHub) must name a file or folder of the repository, never outside it.
- A fragment must name an anchor: in a Markdown file, a heading's (GitHub's rules, see
  markdown.py) or an explicit `<a id>`; in any other file, only GitHub's line anchors (`#L10`,
  `#L10-L20`) within its length.
- An external link must be well formed: http(s) with a host name, or mailto with an address.
  Nothing is fetched: there is no network in CI.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from docs.tools.markdown import Link, MarkdownFile

ROOT = Path(__file__).resolve().parents[2]
_HOST = re.compile(r"(?=.{1,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_LINE_ANCHOR = re.compile(r"L(?P<first>[1-9][0-9]*)(?:-L(?P<last>[1-9][0-9]*))?")
_EMAIL = re.compile(r"[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}")


def documentation_files(root: Path = ROOT) -> list[Path]:
    """The README and every page in docs/ (not the tools' own files)."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def check_links(files: list[Path], root: Path = ROOT) -> list[str]:
    """One message per broken link: `path:line: link: why`."""
    parsed: dict[Path, MarkdownFile] = {}

    def markdown(path: Path) -> MarkdownFile:
        if path not in parsed:
            parsed[path] = MarkdownFile(path)
        return parsed[path]

    problems: list[str] = []
    for path in files:
        for link in markdown(path).links():
            why = _problem(link, path, root, markdown)
            if why:
                problems.append(f"{path.relative_to(root)}:{link.line}: {link.target}: {why}")
    return problems


def _problem(link: Link, source: Path, root: Path, markdown: Callable[[Path], MarkdownFile]) -> str | None:
    target = link.target
    if not target:
        return "an empty link"
    scheme = urlsplit(target).scheme
    if scheme:
        return _external_problem(target, scheme.lower())
    if target.startswith("//"):
        return "a protocol-relative link: write https://"
    path_part, _, fragment = target.partition("#")
    path_part = unquote(path_part.partition("?")[0])
    if not path_part:
        destination = source
    else:
        destination = Path(
            _normalize(root / path_part.lstrip("/") if path_part.startswith("/") else source.parent / path_part)
        )
    if not destination.is_relative_to(root):
        return "points outside the repository"
    if not destination.exists():
        return f"no such file: {destination.relative_to(root)}"
    return _fragment_problem(destination, unquote(fragment), root, markdown) if fragment else None


def _fragment_problem(
    destination: Path, fragment: str, root: Path, markdown: Callable[[Path], MarkdownFile]
) -> str | None:
    shown = destination.relative_to(root)
    if destination.is_dir():
        return "a fragment on a folder"
    if destination.suffix.lower() in (".md", ".markdown"):
        anchors = markdown(destination).anchors()
        if fragment in anchors:
            return None
        near = sorted(a for a in anchors if a.startswith(fragment[:4]))[:5]
        hint = f" (anchors there that start alike: {', '.join(near)})" if near else ""
        return f"no heading with the anchor #{fragment} in {shown}{hint}"
    line = _LINE_ANCHOR.fullmatch(fragment)
    if line is None:
        return f"#{fragment} on a file that is not Markdown: only line anchors (#L10, #L10-L20) are checked"
    length = len(destination.read_text(encoding="utf-8", errors="replace").splitlines())
    if max(int(line["first"]), int(line["last"] or 0)) > length:
        return f"{shown} has {length} lines"
    return None


def _external_problem(target: str, scheme: str) -> str | None:
    if scheme in ("http", "https"):
        parts = urlsplit(target)
        host = parts.hostname or ""
        if " " in target:
            return "a space in a URL"
        if not (_HOST.fullmatch(host) or _is_ip_address(host)):
            return f"not a host name: {host!r}"
        return None
    if scheme == "mailto":
        return None if _EMAIL.fullmatch(target[len("mailto:") :]) else "not an email address"
    return f"a {scheme}: link (only http, https and mailto are expected here)"


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _normalize(path: Path) -> str:
    """`a/b/../c` -> `a/c` without resolving symbolic links (the repository's view of the path)."""
    parts: list[str] = []
    for part in path.as_posix().split("/"):
        if part == "..":
            if parts and parts[-1] not in ("", ".."):
                parts.pop()
            else:
                parts.append(part)
        elif part != ".":
            parts.append(part)
    return "/".join(parts) or "/"


def main() -> int:
    problems = check_links(documentation_files())
    for problem in problems:
        print(problem)
    print(f"{len(problems)} broken link(s)" if problems else "every link resolves")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""What the docs' checks read in a Markdown file: fenced code blocks, headings and their anchors,
and links, the way GitHub renders them.

- Fenced blocks follow CommonMark: a fence is 3 or more backticks or tildes, indented at most 3
  spaces (or inside a list item), closed by a fence of the same character at least as long.
  Nothing inside a block is a heading or a link.
- Anchors follow GitHub (its github-slugger): the heading's text as rendered, lowercased; every
  character that is not a letter, mark, digit, `_`, `-` or space dropped; each space turned into
  `-`; a slug seen before in the same file gets `-1`, `-2`, ... Explicit `<a id>`/`<a name>` count too.
- Links are inline `[text](target)`, images `![alt](src)`, reference definitions `[ref]: target`,
  autolinks `<https://...>` and HTML `href`/`src` attributes, outside code spans and blocks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_ATX = re.compile(r" {0,3}(?P<level>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*")
_CODE_SPAN = re.compile(r"(?P<ticks>`+)(?P<code>[^`][\s\S]*?)(?P=ticks)(?!`)")
_INLINE_LINK = re.compile(
    r"""!?\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]      # [text], one level of nested brackets
    \(\s*(?P<target><[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)  # (target, one level of parentheses
    (?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)             #  "optional title")""",
    re.VERBOSE,
)
_REFERENCE = re.compile(r" {0,3}\[(?P<label>[^\]]+)\]:\s*(?P<target><[^>]*>|\S+)")
_AUTOLINK = re.compile(r"<(?P<target>[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
_QUOTED = r"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')"""
_HTML_ATTRIBUTE = re.compile(r"<(?:a|img|source)\b[^>]*?\b(?:href|src)\s*=\s*" + _QUOTED, re.I)
_HTML_ANCHOR = re.compile(r"<a\b[^>]*?\b(?:id|name)\s*=\s*" + _QUOTED, re.I)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_EMPHASIS = re.compile(r"(\*{1,3}|(?<![A-Za-z0-9])_{1,3})(?=\S)(.+?)(?<=\S)\1(?![A-Za-z0-9])")


@dataclass(frozen=True)
class Block:
    """A fenced code block: its info string's first word, the line of its opening fence (1-based),
    and its text (without the fences)."""

    language: str
    line: int
    text: str


@dataclass(frozen=True)
class Link:
    target: str
    line: int


class MarkdownFile:
    """One Markdown file, split into fenced blocks and the prose around them."""

    def __init__(self, path: Path, text: str | None = None) -> None:
        self.path = path
        self.text = path.read_text(encoding="utf-8") if text is None else text
        self.lines = self.text.splitlines()
        self.blocks: list[Block] = []
        self.prose: list[tuple[int, str]] = []  # (line number, line) outside fenced blocks
        self._split()

    def _split(self) -> None:
        opened: tuple[str, int, str, int] | None = None  # fence, its line, language, indentation
        body: list[str] = []
        for number, line in enumerate(self.lines, start=1):
            stripped = line.lstrip(" >")  # a fence may sit in a block quote or a list item
            match = _FENCE.fullmatch(stripped)
            if opened is None:
                if match and not (match["fence"][0] == "`" and "`" in match["info"]):
                    info = match["info"].strip()
                    language = info.split()[0].lower() if info else ""
                    opened = (match["fence"], number, language, len(line) - len(stripped.lstrip()))
                    body = []
                else:
                    self.prose.append((number, line))
                continue
            fence, start, language, indent = opened
            if (
                match
                and match["fence"][0] == fence[0]
                and len(match["fence"]) >= len(fence)
                and not match["info"].strip()
            ):
                self.blocks.append(Block(language, start, "\n".join(body) + "\n"))
                opened = None
            else:
                body.append(_dedent(line, indent))
        if opened is not None:  # an unclosed fence runs to the end of the file, as in CommonMark
            fence, start, language, _ = opened
            self.blocks.append(Block(language, start, "\n".join(body) + "\n"))

    def headings(self) -> Iterator[tuple[int, str]]:
        """(line, rendered text) of each ATX or setext heading outside code blocks."""
        previous: tuple[int, str] | None = None
        for number, line in self.prose:
            atx = _ATX.fullmatch(line)
            if atx:
                yield number, rendered_text(atx["text"] or "")
                previous = None
                continue
            if (
                _SETEXT.fullmatch(line)
                and previous is not None
                and previous[0] == number - 1
                and previous[1].strip()
                and not previous[1].lstrip().startswith(("|", "-", "*", "+", ">"))
            ):
                yield previous[0], rendered_text(previous[1].strip())
                previous = None
                continue
            previous = (number, line)

    def anchors(self) -> set[str]:
        """Every fragment a link may name in this file, as GitHub renders it."""
        slugger = Slugger()
        found = {slugger.slug(text) for _, text in self.headings()}
        for _, line in self.prose:
            for match in _HTML_ANCHOR.finditer(line):
                found.add(match["dq"] if match["dq"] is not None else match["sq"])
        return found

    def links(self) -> Iterator[Link]:
        """Every link target outside code blocks and code spans, with its line. Paragraphs are
        read whole, so a link whose text wraps onto the next line is found too."""
        for first, paragraph in self._paragraphs():
            text = _CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), paragraph)
            offset = 0
            for line in text.split("\n"):
                reference = _REFERENCE.fullmatch(line.rstrip())
                if reference:
                    yield Link(reference["target"].strip("<>"), first + text.count("\n", 0, offset))
                offset += len(line) + 1
            for pattern in (_INLINE_LINK, _AUTOLINK):
                for match in pattern.finditer(text):
                    yield Link(match["target"].strip("<>"), first + text.count("\n", 0, match.start()))
            for match in _HTML_ATTRIBUTE.finditer(text):
                target = match["dq"] if match["dq"] is not None else match["sq"]
                yield Link(target, first + text.count("\n", 0, match.start()))

    def _paragraphs(self) -> Iterator[tuple[int, str]]:
        """Runs of consecutive non-blank prose lines: (first line's number, the lines joined)."""
        run: list[str] = []
        first = previous = 0
        for number, line in [*self.prose, (0, "")]:
            if line.strip() and number == previous + 1 and run:
                run.append(line)
            else:
                if run:
                    yield first, "\n".join(run)
                run = [line] if line.strip() else []
                first = number
            previous = number


def _dedent(line: str, indent: int) -> str:
    """A block's line without the opening fence's indentation (at most that many spaces)."""
    removable = len(line) - len(line.lstrip(" "))
    return line[min(indent, removable) :]


def rendered_text(markdown: str) -> str:
    """A heading's text as GitHub shows it: code spans keep their content, links their text,
    images their alt text, and emphasis markers and HTML tags go."""
    text = _CODE_SPAN.sub(lambda m: m["code"].strip(), markdown)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = _HTML_TAG.sub("", text)
    while True:
        plain = _EMPHASIS.sub(r"\2", text)
        if plain == text:
            return text
        text = plain


def github_slug(text: str) -> str:
    """The base anchor of a heading (github-slugger's `slug`, without the duplicate counter)."""
    kept = (
        character for character in text.lower() if character in " -_" or unicodedata.category(character)[0] in "LMN"
    )
    return "".join(kept).replace(" ", "-")


class Slugger:
    """Anchors of one file's headings, in order: a slug seen before gets `-1`, `-2`, ..."""

    def __init__(self) -> None:
        self.occurrences: dict[str, int] = {}

    def slug(self, text: str) -> str:
        base = result = github_slug(text)
        while result in self.occurrences:
            self.occurrences[base] += 1
            result = f"{base}-{self.occurrences[base]}"
        self.occurrences[result] = 0
        return result

"""The docs' Mermaid diagrams: each parses with Mermaid's own parser (the pinned npm package, in
Node, without a browser), and each has a current SVG in docs/img/ (checked by its source digest,
without drawing it: CI has no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from docs.tools import diagrams
from docs.tools.diagrams import Diagram, find_diagrams, naming_problems, parse_problems, svg_problems
from docs.tools.links import documentation_files


@pytest.fixture(scope="module")
def all_diagrams() -> list[Diagram]:
    return find_diagrams(documentation_files())


def test_the_docs_have_the_architecture_and_the_ends_path(all_diagrams: list[Diagram]) -> None:
    assert {"architecture", "end-to-waiter"} <= {d.name for d in all_diagrams}


def test_every_diagram_parses(all_diagrams: list[Diagram]) -> None:
    problems = parse_problems(all_diagrams)
    assert not problems, "\n" + "\n".join(problems)


def test_every_diagram_is_named_once(all_diagrams: list[Diagram]) -> None:
    problems = naming_problems(all_diagrams)
    assert not problems, "\n" + "\n".join(problems)


def test_every_diagram_has_a_current_svg(all_diagrams: list[Diagram]) -> None:
    problems = svg_problems(all_diagrams)
    assert not problems, "\n" + "\n".join(problems)


def test_what_does_not_parse_is_reported_at_its_line_in_the_file(tmp_path: Path) -> None:
    """One Node process for the three: a flowchart with an HTML label (it needs the DOM shim), a
    sequence diagram with a syntax error, and a diagram type Mermaid does not know."""
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n"
        '```mermaid\n%% diagram: fine\nflowchart LR\n  A["a <b>label</b>"] --> B\n```\n\n'
        "```mermaid\n%% diagram: broken\nsequenceDiagram\n  A->>B: hello\n  A-x>B oops\n```\n\n"
        "```mermaid\n%% diagram: nonsense\nflowchat LR\n  A --> B\n```\n"
    )
    found = find_diagrams([page])
    assert [(d.name, d.line) for d in found] == [("fine", 3), ("broken", 9), ("nonsense", 16)]

    broken, nonsense = parse_problems(found)

    assert broken.startswith(f"{page}:13: diagram broken does not parse:")
    assert "Parse error on line" in broken and "Expecting" in broken
    assert nonsense.startswith(f"{page}:16: diagram nonsense does not parse:")
    assert "No diagram type detected" in nonsense


def test_lines_are_counted_as_in_the_source_although_mermaid_drops_comments() -> None:
    source = "%% diagram: x\n%% a note\n\nflowchart LR\n  A --> B\n\n  %% another\n  B --> \n"
    # Mermaid parses "flowchart LR\n  A --> B\n  B --> \n": its line 1 is line 4 here, its line 3 line 8.
    assert [diagrams.source_line(source, n) for n in (1, 2, 3, 9)] == [4, 5, 8, 8]


def test_blocks_need_one_valid_unique_name(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```mermaid\nflowchart LR\n  A --> B\n```\n"
        "```mermaid\n%% diagram: Bad_Name\nflowchart LR\n  A --> B\n```\n"
        "```mermaid\n%% diagram: one\nflowchart LR\n  A --> B\n```\n"
        "~~~mermaid\n%% diagram: one\nflowchart LR\n  C --> D\n~~~\n"
        "```python\n%% diagram: not-a-diagram\n```\n"
    )
    problems = naming_problems(find_diagrams([page]))
    assert len(problems) == 3
    assert "needs one line `%% diagram: <name>`" in problems[0]
    assert "'Bad_Name': use a-z, 0-9 and -" in problems[1]
    assert f"'one' is taken by {page}:10" in problems[2]


def test_a_missing_stale_or_orphaned_svg_is_reported(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```mermaid\n%% diagram: kept\nflowchart LR\n  A --> B\n```\n"
        "```mermaid\n%% diagram: changed\nflowchart LR\n  A --> C\n```\n"
        "```mermaid\n%% diagram: missing\nflowchart LR\n  A --> D\n```\n"
    )
    kept, changed, missing = find_diagrams([page])
    images = tmp_path / "img"
    images.mkdir()
    (images / "kept.svg").write_text(kept.stamp() + "\n<svg/>\n")
    edited = Diagram(changed.path, changed.line, changed.name, changed.text.replace("A --> C", "A --> E"))
    (images / "changed.svg").write_text(edited.stamp() + "\n<svg/>\n")
    (images / "gone.svg").write_text(kept.stamp().replace("diagram kept", "diagram gone") + "\n<svg/>\n")
    (images / "drawn-by-hand.svg").write_text("<svg/>\n")  # not ours: left alone

    problems = svg_problems([kept, changed, missing], images)

    assert len(problems) == 3, problems
    assert "diagram 'changed' changed since" in problems[0]
    assert "diagram 'missing' has no" in problems[1]
    assert "draws diagram 'gone', which no page has any more" in problems[2]


def test_the_digest_ignores_trailing_spaces_and_blank_lines_only() -> None:
    source = "flowchart LR\n  A --> B\n"
    assert diagrams.source_digest(source) == diagrams.source_digest("\n" + source.replace("B\n", "B   \n") + "\n\n")
    assert diagrams.source_digest(source) != diagrams.source_digest(source.replace("A --> B", "A --> C"))
    assert diagrams.source_digest(source) != diagrams.source_digest(source.replace("  A", "    A"))

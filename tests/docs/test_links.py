"""Every link of the README and of docs/*.md resolves, anchors included (GitHub's anchor rules);
external links are well formed (nothing is fetched: no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from docs.tools.links import check_links, documentation_files
from docs.tools.markdown import MarkdownFile, Slugger, github_slug


def test_every_link_of_the_readme_and_the_docs_resolves() -> None:
    problems = check_links(documentation_files())
    assert not problems, "\n" + "\n".join(problems)


def test_the_docs_pages_are_checked() -> None:
    names = {path.name for path in documentation_files()}
    assert {"README.md", "architecture.md", "sdk-session.md"} <= names


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Configuration (CDK context)", "configuration-cdk-context"),
        ("The `braket-tracker` command", "the-braket-tracker-command"),
        ("Operations: backfill and replay", "operations-backfill-and-replay"),
        ("Runbook: the dead-letter queue alarm", "runbook-the-dead-letter-queue-alarm"),
        ("What's new? (2026)", "whats-new-2026"),
        ("C++ & Rust", "c--rust"),
        ("snake_case and **bold** and _emphasis_", "snake_case-and-bold-and-emphasis"),
        ("[A link](https://example.com) here", "a-link-here"),
        ("Ünïcode Ḧeading", "ünïcode-ḧeading"),
        ("🚀 Launch", "-launch"),
        ("Tasks/s, p50 & p90", "taskss-p50--p90"),
    ],
)
def test_anchors_follow_githubs_rules(heading: str, anchor: str, tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"## {heading}\n")
    assert MarkdownFile(page).anchors() == {anchor}


def test_repeated_headings_get_numbered_anchors() -> None:
    slugger = Slugger()
    assert [slugger.slug(t) for t in ("From Python", "From Python", "From Python-1", "From Python")] == [
        "from-python",
        "from-python-1",
        "from-python-1-1",
        "from-python-2",
    ]
    assert github_slug("  Two  spaces ") == "--two--spaces-"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "docs" / "img").mkdir(parents=True)
    (tmp_path / "docs" / "img" / "a.svg").write_text("<svg/>\n")
    (tmp_path / "docs" / "page.md").write_text(
        '# Page\n\n## From Python\n\ntext\n\n## From Python\n\nSetext heading\n--------------\n\n<a id="custom"></a>\n'
    )
    (tmp_path / "code.py").write_text("one\ntwo\nthree\n")
    return tmp_path


def check(repo: Path, markdown: str) -> list[str]:
    readme = repo / "README.md"
    readme.write_text(markdown)
    return [problem.split(": ", 1)[1] for problem in check_links([readme], repo)]


def test_good_links_pass(repo: Path) -> None:
    assert not check(
        repo,
        "# Title\n\n## Deploy\n\n"
        "[a](docs/page.md) [b](docs/page.md#from-python-1) [c](./docs/page.md#setext-heading) [d](#deploy)\n"
        '[e](/docs/img/a.svg) ![f](docs/img/a.svg "title") [g](docs/page.md#custom) [h](code.py#L2-L3)\n'
        "[i](docs/) [j](https://github.com/getmoto/moto) <https://aws.amazon.com/braket/> [k](mailto:ops@example.com)\n"
        "[wrapped link\ntext](docs/page.md#page) [l]: docs/page.md\n\n[ref]: docs/page.md#from-python\n"
        '<img src="docs/img/a.svg" alt="x"> [m](docs/page%2Emd)\n',
    )


def test_broken_links_are_reported_with_their_line(repo: Path) -> None:
    problems = check(
        repo,
        "# Title\n\n"
        "[a](docs/missing.md)\n"
        "[b](docs/page.md#from-python-2) [c](#title-1)\n"
        "[d](../outside.md) [e](code.py#L9) [f](code.py#main)\n"
        "[g](<http://exa mple.com>) [h](https://localhost_/x) [i](ftp://example.com/file) [j](mailto:nobody)\n"
        "[k](//example.com/x) [l]() [m](docs/#x)\n\n"
        "[ref]: docs/gone.md\n",
    )
    assert problems == [
        "docs/missing.md: no such file: docs/missing.md",
        "docs/page.md#from-python-2: no heading with the anchor #from-python-2 in docs/page.md "
        "(anchors there that start alike: from-python, from-python-1)",
        "#title-1: no heading with the anchor #title-1 in README.md (anchors there that start alike: title)",
        "../outside.md: points outside the repository",
        "code.py#L9: code.py has 3 lines",
        "code.py#main: #main on a file that is not Markdown: only line anchors (#L10, #L10-L20) are checked",
        "http://exa mple.com: a space in a URL",
        "https://localhost_/x: not a host name: 'localhost_'",
        "ftp://example.com/file: a ftp: link (only http, https and mailto are expected here)",
        "mailto:nobody: not an email address",
        "//example.com/x: a protocol-relative link: write https://",
        ": an empty link",
        "docs/#x: a fragment on a folder",
        "docs/gone.md: no such file: docs/gone.md",
    ]


def test_lines_are_those_of_the_link(repo: Path) -> None:
    (problem,) = check_links([_write(repo / "README.md", "# T\n\nsome\nwrapped [link\ntext](nowhere.md)\n")], repo)
    assert problem.startswith("README.md:4: nowhere.md: ")


def test_code_is_not_read_for_links(repo: Path) -> None:
    assert not check(
        repo,
        "# T\n\n`[a](missing.md)` and ``[b](missing.md)``\n\n"
        "```markdown\n[c](missing.md)\n## Not a heading\n```\n\n"
        "~~~~\n```\n[d](missing.md)\n```\n~~~~\n\n"
        "- a list item\n\n  ```bash\n  echo '[e](missing.md)'\n  ```\n",
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path

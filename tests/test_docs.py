"""The documentation: docs/ builds with Sphinx (MyST Markdown) without a warning, a broken link fails
that build, and the relative links of README.md and CHANGELOG.md point at files that exist.

The build tests need the ``docs`` extra (``pip install -e ".[docs]"``, which ``make docs`` and
``make test`` install); without it they are skipped, unless UNIONCAT_REQUIRE_DOCS=1 (CI).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TOP_LEVEL_PAGES = ("README.md", "CHANGELOG.md")

# [text](target) and [text](target "title"); images too. Code spans and fenced blocks are removed first.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
# How the project was built is no reader's business: "the tenth session", "session 3" ...
BUILD_HISTORY = re.compile(
    r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|last|"
    r"this|previous|next|\d+(st|nd|rd|th))\s+session\b|\bsession\s+\d+\b",
    re.IGNORECASE,
)


def _require_sphinx() -> None:
    if importlib.util.find_spec("sphinx") and importlib.util.find_spec("myst_parser"):
        return
    message = "the docs extra is not installed (pip install -e '.[docs]')"
    if os.environ.get("UNIONCAT_REQUIRE_DOCS") == "1":
        pytest.fail(f"UNIONCAT_REQUIRE_DOCS=1 but {message}", pytrace=False)
    pytest.skip(message)


def build(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Build the pages in ``source`` as ``make docs`` does: every warning is an error."""
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(source), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_docs_build_without_a_warning(tmp_path: Path) -> None:
    _require_sphinx()
    result = build(DOCS, tmp_path / "html")
    assert result.returncode == 0, result.stderr
    for page in DOCS.glob("*.md"):
        assert (tmp_path / "html" / f"{page.stem}.html").is_file(), page.name


@pytest.mark.parametrize(
    ("link", "named"),
    [
        ("[the guide](no-such-page.md)", "no-such-page"),
        ("[uploads](user-guide.md#no-such-heading)", "no-such-heading"),
    ],
)
def test_a_broken_link_fails_the_build(tmp_path: Path, link: str, named: str) -> None:
    _require_sphinx()
    copy = tmp_path / "docs"
    shutil.copytree(DOCS, copy)
    index = copy / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + f"\nSee {link}.\n", encoding="utf-8")
    result = build(copy, tmp_path / "html")
    assert result.returncode != 0
    assert named in result.stderr


def relative_links(text: str) -> list[str]:
    """The relative link targets of a Markdown text (not URLs, not links inside code)."""
    text = CODE_SPAN.sub("", FENCE.sub("", text))
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


def heading_anchors(text: str) -> set[str]:
    """The anchors of a Markdown page's headings, as GitHub and MyST make them."""
    anchors = set()
    for heading in HEADING.findall(FENCE.sub("", text)):
        plain = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
        anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", plain)))
    return anchors


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in relative_links(page.read_text(encoding="utf-8")):
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        missing_heading = (
            file.is_file()
            and bool(fragment)
            and file.suffix == ".md"
            and fragment not in heading_anchors(file.read_text("utf-8"))
        )
        if not file.exists() or missing_heading:
            broken.append(target)
    return broken


@pytest.mark.parametrize("name", TOP_LEVEL_PAGES)
def test_top_level_pages_link_only_to_what_exists(name: str) -> None:
    assert broken_links(ROOT / name) == []


def test_the_readme_leads_into_every_page_of_the_docs() -> None:
    linked = {Path(t.partition("#")[0]) for t in relative_links((ROOT / "README.md").read_text("utf-8"))}
    # the mapping's page is reached from the architecture page; the changelog page shows CHANGELOG.md
    pages = {
        p.relative_to(ROOT) for p in DOCS.glob("*.md") if p.stem not in ("architecture-mapping", "changelog")
    }
    assert pages - linked == set()
    assert Path("CHANGELOG.md") in linked


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\n## Uploading exports\n", encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/guide.md) [ok too](docs/guide.md#uploading-exports) [web](https://example.org/x.md)\n"
        "[gone](docs/missing.md) [no heading](docs/guide.md#harvesting) `[code](docs/ignored.md)`\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["docs/missing.md", "docs/guide.md#harvesting"]


def test_the_pages_speak_of_the_software_not_of_how_it_was_built() -> None:
    pages = [ROOT / name for name in TOP_LEVEL_PAGES] + sorted(DOCS.rglob("*.md"))
    found = {
        page.relative_to(ROOT).as_posix(): match.group(0)
        for page in pages
        for match in [BUILD_HISTORY.search(page.read_text(encoding="utf-8"))]
        if match
    }
    assert found == {}
    assert BUILD_HISTORY.search("what the tenth session changed")


def test_the_readme_stays_a_page_for_users() -> None:
    assert len((ROOT / "README.md").read_bytes()) < 20_000


def test_the_docs_extra_is_pinned() -> None:
    pins = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["docs"]
    assert wanted
    for requirement in wanted:
        name = re.split(r"[<>=\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is not pinned in constraints.txt"

"""Accessibility checks with axe-core (Deque's engine, from npm) in the browser tests.

axe-core is not committed: ``make axe`` installs it (``npm install``) into build/axe, or the first
browser test does when npm is there. ``UNIONCAT_AXE`` names another axe.min.js to use (a machine
without npm, a newer axe). The script is evaluated in the page through the browser's debugging
protocol, so the pages' Content-Security-Policy stays as it is."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

AXE_VERSION = "4.14.1"
AXE_DIR = ROOT / "build" / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
# The impacts that fail a page; "moderate" and "minor" ones are reported, not failed.
FAILING = ("serious", "critical")
# What axe checks: WCAG 2.x A and AA, and its best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


class AxeUnavailable(RuntimeError):
    """axe-core is not installed and cannot be (no npm, or the registry cannot be reached)."""


def axe_script() -> str:
    """The source of axe.min.js, installed from npm first when it is not there yet."""
    chosen = os.environ.get("UNIONCAT_AXE")
    path = Path(chosen) if chosen else AXE_SCRIPT
    if not path.exists() and not chosen:
        npm = shutil.which("npm")
        if npm is None:
            raise AxeUnavailable("no npm to install axe-core: run 'make axe' or set UNIONCAT_AXE")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(AXE_DIR), "--no-save", "--no-audit", "--no-fund",
             f"axe-core@{AXE_VERSION}"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not path.exists():
            raise AxeUnavailable(f"npm could not install axe-core: {done.stderr.strip()[-500:]}")
    if not path.exists():
        raise AxeUnavailable(f"no axe-core script at {path}")
    return path.read_text(encoding="utf-8")


def violations(page: Any, script: str) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (Playwright's sync page)."""
    page.evaluate(script)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    return list(result["violations"])


def failing(found: list[dict[str, Any]]) -> list[str]:
    """The serious and critical violations, one line each: rule, impact, where."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in found
        if v.get("impact") in FAILING
    ]


def check_pages(
    browser: Any,
    urls: list[str],
    viewports: list[dict[str, int]],
    prepare: Callable[[Any], None] | None = None,
) -> dict[str, list[str]]:
    """axe on every page of ``urls`` at every viewport; the serious and critical violations of each
    ("url @ widthxheight" -> lines), empty for a page that has none. Add a page by adding its URL.
    ``prepare``: called with each new browser context first (e.g. to sign a librarian in)."""
    script = axe_script()
    found: dict[str, list[str]] = {}
    for viewport in viewports:
        context = browser.new_context(viewport=viewport)
        if prepare is not None:
            prepare(context)
        page = context.new_page()
        for url in urls:
            page.goto(url)
            found[f"{url} @ {viewport['width']}x{viewport['height']}"] = failing(violations(page, script))
        context.close()
    return found

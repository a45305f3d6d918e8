"""How many hostile inputs the test suite sends, per group (auth, uploads, compression, XML, JSON,
query syntax, OAI arguments, admin bodies, web): every test case marked ``hostile(GROUP)``, each
parametrised case counted once. Run ``python -m bench.hostile_counts`` (``--run`` also runs them and
reports how many passed: a server error in any fails its test)."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import pytest

GROUPS = ("auth", "uploads", "compression", "xml", "json", "query", "oai", "admin", "web")


class _Count:
    def __init__(self) -> None:
        self.collected: Counter[str] = Counter()
        self.passed: Counter[str] = Counter()
        self.group: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        for item in items:
            marker = item.get_closest_marker("hostile")
            if marker is not None:
                self.collected[marker.args[0]] += 1
                self.group[item.nodeid] = marker.args[0]

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" and report.passed and report.nodeid in self.group:
            self.passed[self.group[report.nodeid]] += 1


def main(argv: list[str]) -> int:
    run = "--run" in argv
    counter = _Count()
    args = ["-q", "-p", "no:cacheprovider", "-m", "hostile", "tests"]
    code = pytest.main(args if run else ["--collect-only", *args], plugins=[counter])
    print(f"\n{'group':<12} {'inputs':>7}" + (f" {'passed':>7}" if run else ""))
    for group in sorted(counter.collected, key=lambda g: GROUPS.index(g) if g in GROUPS else len(GROUPS)):
        line = f"{group:<12} {counter.collected[group]:>7}"
        print(line + (f" {counter.passed[group]:>7}" if run else ""))
    total = sum(counter.collected.values())
    print(f"{'total':<12} {total:>7}" + (f" {sum(counter.passed.values()):>7}" if run else ""))
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

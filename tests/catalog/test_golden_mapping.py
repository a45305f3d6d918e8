"""The mapping against its golden outputs (tests/golden.py, tests/fixtures/golden/): the Python path
on every machine, the compiled path where it is built (required in CI). A rule or table changed in
one place only, or in both without regenerating the golden files, fails here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from catalog import native
from tests import golden
from tests.conftest import ROOT

CLEAN_FILES = ("sample-2000.mrc", "vietnamese-529.mrc", "stray-combining-marks-182.mrc", golden.KOHA.name)


def _compiled_required() -> None:
    if native.map_iso2709 is None:
        if os.environ.get("UNIONCAT_REQUIRE_NATIVE") == "1":
            pytest.fail("UNIONCAT_REQUIRE_NATIVE=1 but the compiled mapping is not built", pytrace=False)
        pytest.skip("the compiled mapping is not built (python -m catalog.native.build) or UNIONCAT_NATIVE=0")


def test_every_fixture_has_a_golden_file() -> None:
    assert sorted(p.name for p in golden.GOLDEN.glob("*.jsonl")) == sorted(f"{n}.jsonl" for n in golden.FILES)


@pytest.mark.parametrize("name", golden.FILES)
def test_the_python_mapping_gives_the_golden_outputs(name: str) -> None:
    found = golden.differences(name, compiled=False)
    assert found.python == [], (
        f"{name}: records that differ (python -m tests.golden --update after a deliberate change)"
    )
    assert found.light == [], f"{name}: the fast reader's or the harvest's light records map otherwise"


@pytest.mark.parametrize("name", golden.FILES)
def test_the_compiled_mapping_gives_the_golden_outputs(name: str) -> None:
    _compiled_required()
    found = golden.differences(name, compiled=True)
    assert found.compiled == [], f"{name}: records the compiled mapping maps otherwise"
    assert found.compiled_on_unreadable == []
    if name in CLEAN_FILES:
        assert found.compiled_taken == len(golden.stored(name))  # clean UTF-8: it takes every record


_CHANGED_TABLES = """
import json, sys
from catalog import mapping_tables
mapping_tables.MATERIAL["a"] = "printed text"   # a rule change made in the one table
mapping_tables.PAGE_WORDS = tuple(w for w in mapping_tables.PAGE_WORDS if w != "p")  # "279 p." is not
from catalog import native
from tests import golden
found = golden.differences("vietnamese-529.mrc", compiled=native.map_iso2709 is not None)
read = next(golden.records("vietnamese-529.mrc"))
lines = {"python": golden.python_line(read.number, read.record)}
if native.map_iso2709 is not None:
    lines["compiled"] = golden.compiled_line(read)
json.dump({"python": found.python, "compiled": found.compiled, "taken": found.compiled_taken, "lines": lines},
          sys.stdout)
"""


def test_a_table_change_reaches_both_paths_and_the_golden_files_see_it() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CHANGED_TABLES], cwd=ROOT, capture_output=True, text=True, check=True
    )
    out = json.loads(result.stdout)
    golden_count = len(golden.stored("vietnamese-529.mrc"))
    # Nearly every record of the file is a book: the Python path sees the change.
    assert len(out["python"]) > golden_count * 0.9
    for path, mapped in out["lines"].items():
        fields = json.loads(mapped)["fields"]
        assert (fields["material_type"], fields["pages"]) == ("printed text", None), path
    if native.map_iso2709 is not None:
        # The compiled path took the records and changed on the very same ones.
        assert out["taken"] == golden_count
        assert out["compiled"] == out["python"]

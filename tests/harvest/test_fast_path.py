"""The fast ISO 2709 path gives exactly what pymarc (the reference) gives, on every real file."""

from __future__ import annotations

import pytest

from catalog.records import prepare
from harvest import fast_iso2709, sources
from tests.conftest import fixture

FILES = [
    "sample-2000.mrc",
    "vietnamese-529.mrc",
    "stray-combining-marks-182.mrc",
    "bookops-dups.mrc",
    "evergreen-jazz-1k-949.mrc",
    "leader-says-marc8-bytes-are-utf8.marc",
    "marc.dat",
    "marc8.dat",
    "1251.dat",
    "bad_records.mrc",
    "bad_indicator.dat",
    "utf8_errors.dat",
    "utf8_invalid.mrc",
    "testunimarc.dat",
]


@pytest.mark.parametrize("name", FILES)
def test_fast_path_matches_pymarc(name: str) -> None:
    fast_used = 0
    for item in sources.read_path(fixture(name)):
        light = fast_iso2709.parse(item.raw)
        if light is None:
            continue
        assert item.record is not None, f"fast path took a record pymarc rejects: {item.error}"
        fast_used += 1
        if not item.record.get_fields("001"):
            continue
        reference = prepare(item.record, item.raw, "iso2709", None, item.warnings)
        fast = prepare(light, item.raw, "iso2709", None, item.warnings)  # type: ignore[arg-type]
        assert fast.fields == reference.fields
        assert fast.holdings == reference.holdings and fast.keys == reference.keys
        assert (fast.local_id, fast.title, fast.title_key) == (
            reference.local_id,
            reference.title,
            reference.title_key,
        )
    if name in ("sample-2000.mrc", "vietnamese-529.mrc"):
        assert fast_used > 500  # clean UTF-8 exports do take the fast path
    if name in ("marc8.dat", "1251.dat", "leader-says-marc8-bytes-are-utf8.marc"):
        assert fast_used == 0  # anything not flagged and valid UTF-8 goes through pymarc

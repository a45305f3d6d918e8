"""The fast ISO 2709 path gives exactly what pymarc (the reference) gives, on every real file."""

from __future__ import annotations

import pytest

from catalog import fast_iso2709
from catalog.records import prepare
from harvest import sources
from tests.conftest import ISO2709_FILES, fixture


@pytest.mark.parametrize("name", ISO2709_FILES)
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


def _first_non_ascii_record() -> bytes:
    for item in sources.read_path(fixture("vietnamese-529.mrc")):
        if not item.raw.isascii() and fast_iso2709.parse(item.raw) is not None:
            return item.raw
    raise AssertionError("the Vietnamese sample has UTF-8 records")


def test_odd_subfield_codes_and_split_characters_go_to_pymarc() -> None:
    """The fast path checks a whole record before it hands out fields whose subfields are split only
    when read: what it cannot read exactly as pymarc does goes to pymarc, and it never raises."""
    raw = _first_non_ascii_record()
    base = int(raw[12:17])
    bad_code = raw.replace(b"\x1fa", b"\x1f#", 1)
    assert fast_iso2709.parse(bad_code) is None
    # A directory entry that starts a field inside a multibyte character.
    directory = raw[24 : base - 1]
    for i in range(0, len(directory), 12):
        start, length = int(directory[i + 7 : i + 12]), int(directory[i + 3 : i + 7])
        body = raw[base + start : base + start + length]
        cut = next((j for j in range(1, len(body)) if 0x80 <= body[j] < 0xC0), None)
        if cut is not None:
            entry = directory[i : i + 3] + b"%04d%05d" % (length - cut, start + cut)
            moved = raw[: 24 + i] + entry + raw[24 + i + 12 :]
            assert fast_iso2709.parse(moved) is None
            break
    else:
        raise AssertionError("no field with a multibyte character")
    light = fast_iso2709.parse(raw)
    assert light is not None
    assert any(not sf.value.isascii() for f in light.fields if not f.is_control_field() for sf in f.subfields)

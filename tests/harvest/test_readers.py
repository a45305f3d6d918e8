"""Format readers on every real file: counts, rejections with reasons, encodings, wrappers, safety."""

from __future__ import annotations

import gzip
import io
import json
import re
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymarc import MARCReader

from harvest import chunked, marcxml, sources
from harvest.incoming import FormatError
from tests.conftest import JAZZ_949, KOHA, VIETNAMESE, fixture

# file -> (records read, records rejected)
EXPECTED = {
    "sample-2000.mrc": (2000, 0),
    "stray-combining-marks-182.mrc": (182, 0),
    "vietnamese-529.mrc": (529, 0),
    "koha-sample-436-with-952.xml": (436, 0),
    "evergreen-jazz-1k-949.mrc": (1000, 0),
    "leader-says-marc8-bytes-are-utf8.marc": (52, 0),
    "marc8.dat": (1, 0),
    "1251.dat": (6, 0),
    "marc.dat": (20, 0),
    "bookops-dups.mrc": (6, 0),
    "culturegraph-5-clusters.marcxml": (5, 0),
    "bad_records.mrc": (9, 7),
    "bad_eacc_encoding.dat": (1, 0),
    "bad_indicator.dat": (1, 0),
    "bad_marc8_escape.dat": (1, 0),
    "bad_tag.xml": (1, 0),
    "testunimarc.dat": (1, 0),
    "utf8_errors.dat": (1, 0),
    "utf8_invalid.mrc": (1, 0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_real_file_reads_without_crashing(name: str) -> None:
    items = list(sources.read_path(fixture(name)))
    read, rejected = EXPECTED[name]
    assert len(items) == read
    errors = [i for i in items if i.error]
    assert len(errors) == rejected
    for item in items:
        assert item.number >= 1 and item.offset is not None
        assert (item.record is None) == (item.error is not None)
        assert item.error is None or len(item.error) > 5


def test_bad_records_reasons_and_offsets() -> None:
    items = list(sources.read_path(fixture("bad_records.mrc")))
    reasons = {i.number: i.error for i in items if i.error}
    assert "base address" in reasons[2]
    assert "base address" in reasons[3]
    assert "directory" in reasons[4]
    assert reasons[6].startswith("a number in the leader or directory")
    assert [i.offset for i in items[:3]] == [0, 127, 254]
    assert items[0].record is not None and items[7].record is not None  # the good ones survive


def test_leader_says_marc8_but_bytes_are_utf8() -> None:
    items = list(sources.read_path(fixture("leader-says-marc8-bytes-are-utf8.marc")))
    assert len(items) == 52
    for item in items:
        assert item.record is not None
        assert any("bytes are UTF-8" in w for w in item.warnings)
        title = item.record["245"]["a"]
        assert not any(ch in title for ch in "ÐÑÃ")  # no mojibake
    cyrillic = items[0].record["245"]["a"]
    assert any("\u0400" <= ch <= "\u04ff" for ch in cyrillic), cyrillic


def test_marc8_and_windows_1251_come_out_as_unicode() -> None:
    [marc8] = list(sources.read_path(fixture("marc8.dat")))
    assert marc8.record["240"]["a"] == "De la solitude \xe0 la communaut\xe9."
    first = next(sources.read_path(fixture("1251.dat")))
    assert first.record["245"]["a"].startswith("Основы гидравлического расчета инженерных сетей")
    assert any("cp1251" in w for w in first.warnings)
    for item in sources.read_path(JAZZ_949):
        if item.record:
            for field in item.record.get_fields("245", "100", "700"):
                assert unicodedata.is_normalized("NFC", unicodedata.normalize("NFC", field.value()))


def test_koha_control_byte_costs_nothing() -> None:
    """The Koha sample is not well-formed as a whole (a raw 0x1F): every record still comes out."""
    data = KOHA.read_bytes()
    assert b"\x1f" in data
    items = list(sources.read_path(KOHA))
    assert len(items) == 436 and all(i.record for i in items)
    warned = [i for i in items if i.warnings]
    assert len(warned) == 1 and "0x1F" in warned[0].warnings[0]
    # the raw bytes are kept exactly as they stand in the file
    assert data[warned[0].offset : warned[0].offset + len(warned[0].raw)] == warned[0].raw


def _koha_records_xml(count: int = 3) -> list[bytes]:
    return [i.raw for i in list(marcxml.split(io.BytesIO(KOHA.read_bytes())))[:count]]


def test_marcxml_wrappers(tmp_path: Path) -> None:
    raws = _koha_records_xml()
    body = b"".join(raws)
    ns = b'xmlns="http://www.loc.gov/MARC21/slim"'
    variants = {
        "single.xml": raws[0].replace(b"<record>", b"<record " + ns + b">", 1),
        "no-namespace.xml": b"<collection>" + body + b"</collection>",
        "prefixed.xml": b'<?xml version="1.0"?><marc:collection xmlns:marc="http://www.loc.gov/MARC21/slim">'
        + body.replace(b"<", b"<marc:").replace(b"<marc:/", b"</marc:")
        + b"</marc:collection>",
        "oai.xml": b'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b"<ListRecords>"
        + b"".join(
            b"<record><header><identifier>oai:x:%d</identifier></header><metadata>" % i
            + r.replace(b"<record>", b"<record " + ns + b">", 1)
            + b"</metadata></record>"
            for i, r in enumerate(raws)
        )
        + b"<resumptionToken>abc</resumptionToken></ListRecords></OAI-PMH>",
        "sru.xml": b'<zs:searchRetrieveResponse xmlns:zs="http://www.loc.gov/zing/srw/"><zs:records>'
        + b"".join(
            b"<zs:record><zs:recordSchema>marcxml</zs:recordSchema><zs:recordData>"
            + r.replace(b"<record>", b"<record " + ns + b">", 1)
            + b"</zs:recordData></zs:record>"
            for r in raws
        )
        + b"</zs:records></zs:searchRetrieveResponse>",
    }
    for name, data in variants.items():
        path = tmp_path / name
        path.write_bytes(data)
        items = list(sources.read_path(path))
        expected = 1 if name == "single.xml" else 3
        assert len(items) == expected, name
        assert all(i.record is not None for i in items), (name, [i.error for i in items])
        assert items[0].record["245"]["a"].startswith("E Street shuffle"), name


def test_untrusted_xml_entities_are_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    raw = _koha_records_xml(1)[0]
    xxe = (
        (
            f'<?xml version="1.0"?><!DOCTYPE collection [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            '<collection xmlns="http://www.loc.gov/MARC21/slim">'
        ).encode()
        + raw.replace(b"E Street shuffle", b"&xxe;")
        + b"</collection>"
    )
    path = tmp_path / "xxe.xml"
    path.write_bytes(xxe)
    [item] = list(sources.read_path(path))
    assert item.record is None or "TOP-SECRET" not in str(item.record)

    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        (
            f'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY l0 "lol">{laughs}]>'
            '<collection xmlns="http://www.loc.gov/MARC21/slim">'
        ).encode()
        + raw.replace(b"E Street shuffle", b"&l9;")
        + b"</collection>"
    )
    path.write_bytes(bomb)
    [item] = list(sources.read_path(path))
    assert item.record is None or len(str(item.record)) < 100_000


def test_marc_in_json_array_lines_and_single(tmp_path: Path) -> None:
    with open(VIETNAMESE, "rb") as fh:
        records = list(MARCReader(fh, force_utf8=True))[:50]
    as_dicts = [r.as_dict() for r in records]
    (tmp_path / "array.json").write_text(json.dumps(as_dicts, ensure_ascii=False))
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(d) for d in as_dicts))
    (tmp_path / "one.json").write_text(json.dumps(as_dicts[0]))
    for name, count in (("array.json", 50), ("lines.jsonl", 50), ("one.json", 1)):
        items = list(sources.read_path(tmp_path / name))
        assert len(items) == count
        for item, original in zip(items, records, strict=False):
            assert item.record["245"].value() == original["245"].value()
            assert item.record["001"].data == original["001"].data


def test_marc_in_json_broken_object_costs_one_record(tmp_path: Path) -> None:
    with open(VIETNAMESE, "rb") as fh:
        records = list(MARCReader(fh, force_utf8=True))[:5]
    lines = [json.dumps(r.as_dict()) for r in records]
    lines[2] = lines[2].replace('"leader"', '"leader" oops', 1)
    (tmp_path / "broken.jsonl").write_text("\n".join(lines))
    items = list(sources.read_path(tmp_path / "broken.jsonl"))
    assert [i.error is None for i in items] == [True, True, False, True, True]
    assert "not valid JSON" in items[2].error


def test_compressed_files(tmp_path: Path) -> None:
    gz = tmp_path / "export.mrc.gz"
    gz.write_bytes(gzip.compress(VIETNAMESE.read_bytes()))
    assert len(list(sources.read_path(gz))) == 529
    zipped = tmp_path / "export.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(VIETNAMESE, "a/vietnamese.mrc")
        archive.write(KOHA, "koha.xml")
    items = list(sources.read_path(zipped))
    assert len(items) == 529 + 436
    assert {i.member for i in items} == {"a/vietnamese.mrc", "koha.xml"}
    broken = tmp_path / "broken.mrc.gz"
    broken.write_bytes(gzip.compress(VIETNAMESE.read_bytes())[:5000])
    with pytest.raises(FormatError, match="damaged"):
        list(sources.read_path(broken))


def test_not_marc_and_forced_format(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("[section]\nthis is not MARC\n")
    with pytest.raises(FormatError, match="not a MARC file"):
        list(sources.read_path(text))
    with pytest.raises(FormatError, match="unknown format"):
        list(sources.read_path(VIETNAMESE, "pdf"))
    forced = list(sources.read_path(VIETNAMESE, "iso2709"))
    assert len(forced) == 529


@pytest.mark.parametrize("size", [333, 777, 1000])
def test_split_across_chunk_boundaries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, size: int) -> None:
    with open(VIETNAMESE, "rb") as fh:
        records = list(MARCReader(fh, force_utf8=True))
    # Vietnamese text unescaped: chunks end inside multibyte UTF-8 sequences
    (tmp_path / "all.json").write_text(json.dumps([r.as_dict() for r in records], ensure_ascii=False))
    whole = {name: list(sources.read_path(path)) for name, path in (("iso", VIETNAMESE), ("xml", KOHA))}
    whole["json"] = list(sources.read_path(tmp_path / "all.json"))
    monkeypatch.setattr(chunked, "CHUNK", size)
    assert len([i for i in sources.read_path(VIETNAMESE) if i.record]) == 529
    assert len([i for i in sources.read_path(KOHA) if i.record]) == 436
    chunks = {name: list(sources.read_path(path)) for name, path in (("iso", VIETNAMESE), ("xml", KOHA))}
    chunks["json"] = list(sources.read_path(tmp_path / "all.json"))
    for name, items in chunks.items():  # the same records, at the same offsets, as read in one chunk
        assert [(i.offset, i.raw) for i in items] == [(i.offset, i.raw) for i in whole[name]], name
    assert [i.record["245"].value() for i in chunks["json"]] == [r["245"].value() for r in records]


def test_memory_stays_flat_on_a_large_file(tmp_path: Path) -> None:
    """A 60 MB export is streamed: the reader never holds more than a few chunks."""
    big = tmp_path / "big.mrc"
    data = VIETNAMESE.read_bytes()
    with open(big, "wb") as fh:
        for _ in range(100):
            fh.write(data)
    tracemalloc.start()
    count = 0
    for item in sources.read_path(big, decoded=False):
        count += 1
        del item
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 52_900
    assert peak < 12 * 1024 * 1024, (
        f"peak {peak / 1e6:.1f} MB while reading {big.stat().st_size / 1e6:.0f} MB"
    )


_FORBIDDEN_IN_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # XML 1.0's Char production, below 0x20


@settings(max_examples=500, deadline=None)
@given(
    st.binary(max_size=60)
    | st.lists(st.sampled_from(b"\x00\x01\x08\t\n\x0b\x0c\r\x0e\x1f a<\xc3")).map(bytes)
)
def test_control_characters_xml_forbids_are_removed_and_named(data: bytes) -> None:
    cleaned, bad = marcxml.strip_invalid_characters(data)
    assert cleaned == _FORBIDDEN_IN_XML.sub(b"", data)
    assert bad == sorted({f"0x{found[0]:02X}" for found in _FORBIDDEN_IN_XML.findall(data)})

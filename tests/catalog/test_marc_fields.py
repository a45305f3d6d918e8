"""MARC21 -> catalogue fields, on real records."""

from __future__ import annotations

from pathlib import Path

from pymarc import MARCReader, Record

from catalog.marc_fields import display_title, extract
from catalog.records import match_keys
from harvest import sources
from tests.conftest import KOHA, VIETNAMESE, fixture


def _records(path: Path) -> list[Record]:
    return [item.record for item in sources.read_path(path) if item.record is not None]


def test_bookops_record_fields() -> None:
    record = _records(fixture("bookops-dups.mrc"))[0]
    f = extract(record)
    assert f["title"] == "Hoodlum II"
    assert f["subtitle"] == "the good son"
    assert display_title(f) == "Hoodlum II : the good son"
    assert f["responsibility"] == "Kwan"
    assert f["authors"][0] == {"name": "K'wan", "kind": "person", "main": True, "roles": ["author"]}
    assert f["isbns"] == ["9780998106113"]  # ISBN-10 and ISBN-13 of one book: one ISBN-13
    assert f["edition"] == "First edition"
    assert (f["place"], f["publisher"], f["pub_date"], f["year"]) == (
        "Union, NJ",
        "Write 2 Eat Concepts",
        "[2017]",
        2017,
    )
    assert f["pages"] == 427
    assert f["languages"] == ["eng"]
    assert f["material_type"] == "book"
    assert f["content_types"] == ["text"] and f["carrier_types"] == ["volume"]
    assert "African Americans -- Fiction" in f["subjects"]
    assert "Urban fiction" in f["subjects"]
    assert f["classification"]["ddc"] == ["813.6"]
    assert f["classification"]["lcc"] == ["PS3606.O96 H663 2017"]


def test_vietnamese_records_have_correct_text() -> None:
    records = _records(VIETNAMESE)
    assert len(records) == 529
    extracted = [extract(r) for r in records]
    vietnamese = [f for f in extracted if "vie" in f["languages"]]
    assert len(vietnamese) >= 121  # 121 say so in 008/35-37, more in 041
    publishers = {f["publisher"] for f in extracted if f["publisher"]}
    # repaired "Nha ̀xuất bản" (detached mark) now reads correctly
    assert any(p.startswith("Nhà xuất bản") for p in publishers)
    assert not any("Nha ̀" in p for p in publishers)
    titles = " ".join(f["title"] or "" for f in extracted)
    assert "é̂" not in titles and "ò̂" not in titles  # no tone mark left before a circumflex


def test_identifiers_and_keys_of_a_loc_record() -> None:
    record = _records(VIETNAMESE)[0]
    f = extract(record)
    assert f["isbns"] == ["9781888375152"]
    assert f["lccn"] == "00038496"
    keys = match_keys(f)
    assert ("isbn", "9781888375152") in keys and ("lccn", "00038496") in keys


def test_invalid_and_cancelled_isbns_are_kept_apart() -> None:
    record = _records(VIETNAMESE)[0]
    record["020"].add_subfield("z", "0-00-000000-0")
    record["020"].add_subfield("a", "1234567890")  # bad check digit
    f = extract(record)
    assert f["isbns"] == ["9781888375152"]
    assert set(f["invalid_isbns"]) == {"0000000000", "1234567890"}


def test_koha_record_and_880_and_links() -> None:
    records = _records(KOHA)
    f = extract(records[0])
    assert f["title"] == "E Street shuffle"
    assert f["sort_title"] == "E Street shuffle"
    assert f["authors"][0]["name"] == "Heylin, Clinton"
    assert f["isbns"] == ["9780670026623"]
    assert f["year"] == 2013
    # some LoC records carry non-Latin script in 880: it is kept
    with open(fixture("stray-combining-marks-182.mrc"), "rb") as fh:
        with_880 = [extract(r) for r in MARCReader(fh, force_utf8=True) if r.get_fields("880")]
    assert with_880 and all(f["alternate_script"] for f in with_880)
    assert any(link for r in _records(VIETNAMESE) for link in extract(r)["links"])


def test_music_record_material_type() -> None:
    record = _records(fixture("evergreen-jazz-1k-949.mrc"))[0]
    f = extract(record)
    assert f["material_type"] == "music recording"
    assert f["title"] == "Friendly fire"
    assert f["year"] == 1999

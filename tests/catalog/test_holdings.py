"""Holdings profiles on real exports: Koha 952, 949, MARC 852, and records without items."""

from __future__ import annotations

import pytest
from pymarc import Field, Indicators, Subfield

from catalog import holdings
from catalog.marc_fields import fields_by_tag
from harvest import sources
from tests.conftest import JAZZ_949, KOHA, VIETNAMESE, fixture


def _first(path):  # type: ignore[no-untyped-def]
    return next(item.record for item in sources.read_path(path) if item.record is not None)


def test_koha_952_items() -> None:
    record = _first(KOHA)
    grouped = fields_by_tag(record)
    assert holdings.detect(grouped) is holdings.KOHA
    items = holdings.extract(holdings.KOHA, grouped)
    assert items[0] == {
        "location": "CPL",
        "sublocation": "GEN",
        "call_number": "ML420.S77 H28 2013",
        "barcode": "3999900000001",
        "item_type": "BK",
        "copies": 1,
        "status": "available",
    }
    assert holdings.local_id(holdings.KOHA, grouped) == record["999"]["c"]


def test_koha_status_subfields() -> None:
    record = _first(KOHA)
    record["952"].add_subfield("1", "1")
    items = holdings.extract(holdings.KOHA, fields_by_tag(record))
    assert items[0]["status"] == "lost"


def test_949_items_and_command_lines_skipped() -> None:
    jazz = _first(JAZZ_949)
    items = holdings.extract(holdings.ITEM949, fields_by_tag(jazz))
    assert items == [
        {
            "location": "HUNTINGTON",
            "sublocation": "HUNT-AUDIO",
            "call_number": "5490",
            "barcode": "30007007467409",
            "item_type": "SOUND",
            "copies": 1,
            "status": None,
        }
    ]
    bookops = _first(fixture("bookops-dups.mrc"))
    items = holdings.extract(holdings.ITEM949, fields_by_tag(bookops))
    assert [i["barcode"] for i in items] == ["33333849044538", "33333846242770", "33333846242788"]
    assert items[0]["call_number"] == "PS3606.O96 H663 2017"  # from the bib record: the item has none


def test_852_and_no_items() -> None:
    record = _first(VIETNAMESE)
    assert holdings.extract(holdings.NONE, fields_by_tag(record)) == [
        {
            "location": None,
            "sublocation": None,
            "call_number": "BQ5675 .N43 2000",
            "barcode": None,
            "item_type": None,
            "copies": None,
            "status": None,
        }
    ]
    record.add_field(
        Field(
            tag="852",
            indicators=Indicators("0", " "),
            subfields=[
                Subfield("a", "VNU"),
                Subfield("b", "Main"),
                Subfield("h", "BQ5675"),
                Subfield("i", ".N43"),
            ],
        )
    )
    grouped = fields_by_tag(record)
    assert holdings.detect(grouped) is holdings.MARC852
    [item] = holdings.extract(holdings.MARC852, grouped)
    assert (item["location"], item["call_number"]) == ("Main", "BQ5675 .N43")


def test_profile_overrides_and_unknown_names() -> None:
    custom = holdings.resolve("koha", {"call_number": "oh", "local_id": [["001", ""]]})
    assert custom.call_number == "oh" and custom.local_id == (("001", ""),)
    assert holdings.resolve("auto") is None
    with pytest.raises(ValueError, match="unknown holdings profile"):
        holdings.resolve("sirsi")
    with pytest.raises(ValueError, match="unknown holdings setting"):
        holdings.resolve("koha", {"shelf": "x"})


def _with(record, tag: str, *subfields: tuple[str, str]):  # type: ignore[no-untyped-def]
    record.add_field(
        Field(tag=tag, indicators=Indicators(" ", " "), subfields=[Subfield(c, v) for c, v in subfields])
    )
    return fields_by_tag(record)


def test_ddc_call_number_keeps_its_item_number() -> None:
    record = _first(VIETNAMESE)
    for tag in ("090", "092", "050", "082"):
        record.remove_fields(tag)
    grouped = _with(record, "082", ("a", "339/.09597"), ("b", "NG527N"), ("2", "23"))
    assert holdings.bib_call_number(grouped) == "339.09597 NG527N"
    [item] = holdings.extract(holdings.NONE, grouped)
    assert item["call_number"] == "339.09597 NG527N"


def test_852_status_from_polaris_r_or_a_public_note() -> None:
    record = _first(VIETNAMESE)
    grouped = _with(
        record, "852", ("a", "VNU"), ("b", "Main"), ("h", "339"), ("p", "B1"), ("r", "Out"), ("z", "Lost")
    )
    assert [i["status"] for i in holdings.extract(holdings.MARC852, grouped)] == ["checked out"]
    grouped = _with(
        record, "852", ("b", "Main"), ("p", "B2"), ("z", "Ask at the desk"), ("z", "Đọc tại chỗ.")
    )
    assert [i["status"] for i in holdings.extract(holdings.MARC852, grouped)][1] == "not for loan"
    grouped = _with(record, "852", ("b", "Main"), ("p", "B3"))
    assert holdings.extract(holdings.MARC852, grouped)[2]["status"] is None  # the record says nothing


def test_949_status_codes_and_words() -> None:
    jazz = _first(JAZZ_949)
    item = jazz["949"] if jazz["949"].get("i") else next(f for f in jazz.get_fields("949") if f.get("i"))
    item.add_subfield("s", "-")
    assert holdings.extract(holdings.ITEM949, fields_by_tag(jazz))[0]["status"] == "available"
    item.delete_subfield("s")
    item.add_subfield("s", "m")
    assert holdings.extract(holdings.ITEM949, fields_by_tag(jazz))[0]["status"] == "missing"
    item.delete_subfield("s")
    item.add_subfield("k", "Checked out")
    assert holdings.extract(holdings.ITEM949, fields_by_tag(jazz))[0]["status"] == "checked out"
    custom = holdings.resolve("949", {"status_values": "x", "status_codes": [["7", "lost"]]})
    assert custom.status_codes == (("7", "lost"),)
    item.add_subfield("x", "7")
    assert holdings.extract(custom, fields_by_tag(jazz))[0]["status"] == "lost"

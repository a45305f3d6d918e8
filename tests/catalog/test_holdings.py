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

"""Copy-safe records on the Koha sample (952 items, 942, 999, $9 authority links) and the Evergreen
records with 949 items: nothing of a member's local data is left, everything else is."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError
from pymarc import Field, Indicators, Record, Subfield

from catalog.copy_safe import CopySafeError, CopySafeRules, copy_safe, rules_from
from catalog.settings import Settings
from harvest.sources import read_path
from tests.conftest import JAZZ_949, KOHA


def _records(path: object, limit: int | None = None) -> list[Record]:
    out = []
    for item in read_path(path):  # type: ignore[arg-type]
        if item.record is not None:
            out.append(item.record)
        if limit and len(out) >= limit:
            break
    return out


def _local(record: Record) -> list[str]:
    """What of a member's local data a record still carries."""
    found = [f.tag for f in record.fields if f.tag.startswith("9") or f.tag in ("852", "876", "877", "878")]
    found += [
        f"{f.tag}${s.code}"
        for f in record.fields
        if not f.is_control_field()
        for s in f.subfields
        if s.code in "95"
    ]
    return found


def test_the_koha_sample_loses_its_items_local_fields_and_authority_links() -> None:
    records = _records(KOHA)
    assert len(records) > 400
    carried = [
        r
        for r in records
        if r.get_fields("952") and any(s.code == "9" for f in r.get_fields("100", "650") for s in f.subfields)
    ]
    assert carried, "the sample has records with items and $9 (see its README)"
    for number, original in enumerate(records, 1):
        record = copy_safe(copy.deepcopy(original), number)
        assert _local(record) == [], (number, _local(record))
        assert record["001"].data == f"union-{number}" and record["003"].data == "UNIONCAT"
        assert record["040"].get_subfields("d")[-1] == "UNIONCAT"
        assert [f.tag for f in record.get_fields("001", "003")] == ["001", "003"]
        # the description itself is untouched
        kept = [f for f in original.fields if f.tag not in ("001", "003", "040") and not _local_field(f)]
        for before in kept:
            if before.is_control_field():
                assert before.data in [f.data for f in record.get_fields(before.tag)]
            else:
                after = [[(s.code, s.value) for s in f.subfields] for f in record.get_fields(before.tag)]
                assert [(s.code, s.value) for s in before.subfields if s.code not in "95"] in after


def _local_field(field: Field) -> bool:
    return field.tag.startswith("9") or field.tag in ("852", "876", "877", "878")


def test_an_agency_already_named_is_kept_and_ours_added_once() -> None:
    [record] = _records(KOHA, limit=1)
    original = record["040"].get_subfields("a", "c", "d") if record.get("040") else []
    once = copy_safe(record, 1)
    twice = copy_safe(once, 1)
    assert twice["040"].get_subfields("d").count("UNIONCAT") == 1
    assert twice["040"].get_subfields("a", "c", "d")[: len(original)] == original


def test_the_evergreen_records_lose_their_949_items() -> None:
    records = _records(JAZZ_949, limit=200)
    assert any(r.get_fields("949") for r in records)
    assert all(_local(copy_safe(r, n)) == [] for n, r in enumerate(records, 1))


def test_a_consortium_chooses_what_is_dropped_and_its_code() -> None:
    record = Record()
    record.add_field(Field(tag="001", data="local-7"))
    record.add_field(
        Field(
            tag="245",
            indicators=Indicators("1", "0"),
            subfields=[Subfield("a", "Tiêu đề"), Subfield("9", "12")],
        )
    )
    record.add_field(
        Field(tag="590", indicators=Indicators(" ", " "), subfields=[Subfield("a", "local note")])
    )
    record.add_field(Field(tag="952", indicators=Indicators(" ", " "), subfields=[Subfield("p", "barcode")]))
    record.add_field(
        Field(tag="650", indicators=Indicators(" ", "7"), subfields=[Subfield("9", "only an id")])
    )
    rules = CopySafeRules.of("VN-HaNoVDH", ["59X"], ["9"])
    safe = copy_safe(record, 12, rules)
    assert [f.tag for f in safe.fields] == ["001", "003", "040", "245", "952"]
    assert safe["003"].data == "VN-HaNoVDH" and safe["245"].subfields == [Subfield("a", "Tiêu đề")]
    with pytest.raises(CopySafeError):
        CopySafeRules.of("X", ["95"], [])
    with pytest.raises(CopySafeError):
        CopySafeRules.of("X", ["952"], ["ab"])


def test_the_settings_carry_the_rules_and_refuse_bad_ones() -> None:
    settings = Settings(
        marc_org_code="VN-HaNoVDH", copy_safe_drop_tags=["9xx", "852"], copy_safe_drop_subfields=["9"]
    )
    assert rules_from(settings) == CopySafeRules("VN-HaNoVDH", ("9XX", "852"), ("9",))
    assert rules_from(Settings()) == CopySafeRules()
    for bad in (
        {"copy_safe_drop_tags": ["95"]},
        {"copy_safe_drop_subfields": ["99"]},
        {"marc_org_code": "a b"},
    ):
        with pytest.raises(ValidationError):
            Settings(**bad)  # type: ignore[arg-type]

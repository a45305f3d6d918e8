"""MARCXML is written by one writer (api/marcxml.py) for the exports and the OAI-PMH provider."""

from __future__ import annotations

import io

from lxml import etree
from pymarc import Field, Indicators, Record, Subfield, parse_xml_to_array, record_to_xml

from api import exports, marcxml
from catalog import fast_iso2709
from harvest.iso2709 import split_records
from tests.conftest import VIETNAMESE


def _raws(count: int) -> list[bytes]:
    with open(VIETNAMESE, "rb") as fh:
        return [raw for _offset, raw in split_records(fh)][:count]


def test_an_export_reads_back_as_the_record_it_was() -> None:
    for raw in _raws(60):
        record = exports.decode(raw, "iso2709")
        written = exports.serialise(record, "marcxml")
        assert written.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<record ')
        [read] = parse_xml_to_array(io.BytesIO(written))
        assert read.as_json() == record.as_json()


def test_a_light_record_and_a_pymarc_record_are_written_alike() -> None:
    """The OAI provider writes light records, the exports pymarc's: the same text either way."""
    checked = 0
    for raw in _raws(60):
        light = fast_iso2709.parse(raw)
        if light is None:
            continue
        assert marcxml.record_xml(light) == marcxml.record_xml(exports.decode(raw, "iso2709"))
        checked += 1
    assert checked > 50


def test_characters_xml_forbids_leave_the_record_well_formed() -> None:
    record = Record()
    record.add_field(Field(tag="001", data="vn\x1b001"))
    record.add_field(
        Field(
            tag="245",
            indicators=Indicators("1", "0"),
            subfields=[Subfield("a", 'Hà Nội & "Huế" <1975>\x1b(B'), Subfield("c", "line\r\nbreak")],
        )
    )
    # pymarc's own writer copies the escape character into its output, which no parser reads
    try:
        etree.fromstring(record_to_xml(record, namespace=True))
        pymarc_is_well_formed = True
    except etree.XMLSyntaxError:
        pymarc_is_well_formed = False
    assert not pymarc_is_well_formed
    for written in (exports.serialise(record, "marcxml"), marcxml.record_xml(record)):
        [read] = parse_xml_to_array(io.BytesIO(written))
        assert read["001"].data == "vn001"
        assert read["245"]["a"] == 'Hà Nội & "Huế" <1975>(B'
        assert read["245"]["c"] == "line\r\nbreak"  # the carriage return is kept

"""The one mapping entry point (catalog.mapping.prepare_record): the same prepared record whichever
path reads a record, the reader's careful decoding only for what the fast paths decline, and a
clear rejection, never an exception, for what no path can take."""

from __future__ import annotations

import pytest
from pymarc import Record, Subfield

from catalog import native
from catalog.light_record import LightField, LightRecord
from catalog.mapping import Decode, prepare_record
from catalog.records import PreparedRecord, RecordRejected
from harvest import sources
from harvest.incoming import Incoming
from tests.conftest import VIETNAMESE, fixture


def _same(a: PreparedRecord, b: PreparedRecord) -> None:
    assert (a.fields_json, a.keys, a.title_key, a.holdings, a.document, a.local_id) == (
        b.fields_json,
        b.keys,
        b.title_key,
        b.holdings,
        b.document,
        b.local_id,
    )


def _decoder(raw: bytes, calls: list[bytes]) -> Decode:
    """The ISO 2709 reader's careful decoding (pymarc), counting its calls."""

    def decode() -> tuple[Record, list[str]]:
        calls.append(raw)
        item = sources.decode(Incoming(1, 0, raw, "iso2709"))
        if item.record is None:
            raise RecordRejected(item.error or "unreadable record")
        return item.record, item.warnings

    return decode


def test_clean_records_never_need_the_careful_decoding_and_every_path_agrees() -> None:
    items = list(sources.read_path(VIETNAMESE))
    calls: list[bytes] = []
    for item in items[:120]:
        assert item.record is not None
        chosen = prepare_record(item.raw, "iso2709", None, decode=_decoder(item.raw, calls), library="lib")
        # tags="": the compiled mapping is left out, the fast Python reader reads the record
        python = prepare_record(
            item.raw, "iso2709", None, decode=_decoder(item.raw, calls), library="lib", tags=""
        )
        # a record the reader decoded already: pymarc's record, the reference
        reference = prepare_record(item.raw, "iso2709", None, record=item.record, library="lib")
        _same(chosen, reference)
        _same(python, reference)
    assert calls == []


def test_what_the_fast_paths_decline_goes_to_the_careful_decoding() -> None:
    calls: list[bytes] = []
    prepared = []
    for item in sources.split_path(fixture("marc8.dat")):  # MARC-8: only pymarc reads it
        prepared.append(prepare_record(item.raw, "iso2709", None, decode=_decoder(item.raw, calls)))
    assert prepared and len(calls) == len(prepared)
    assert all(p.title for p in prepared)


def test_unreadable_bytes_are_rejected_with_the_readers_reason() -> None:
    bad = next(i for i in sources.read_path(fixture("bad_records.mrc")) if i.record is None)
    with pytest.raises(RecordRejected, match="base address"):
        prepare_record(bad.raw, "iso2709", None, decode=_decoder(bad.raw, []))
    with pytest.raises(RecordRejected, match=r"^unreadable record$"):
        prepare_record(b"not a record", "iso2709", None)


def test_a_record_that_breaks_the_mapping_is_rejected_not_raised() -> None:
    # An indicator that is not a string: no reader makes one, the mapping cannot read it.
    field = LightField("245", "", ("0", 4), [Subfield("a", "Title")])  # type: ignore[arg-type]
    odd = LightRecord("00000nam a2200000 a 4500", [LightField("001", "id-1"), field])
    for raw_format in ("marcjson", "marcxml"):  # the Python path; the compiled one where it is built
        with pytest.raises(RecordRejected, match=r"^cannot map the record: (TypeError|AttributeError)"):
            prepare_record(b"", raw_format, None, record=odd)


@pytest.mark.skipif(native.map_fields is None, reason="the compiled mapping is not built")
def test_a_light_marcxml_record_takes_the_compiled_mapping_and_a_declined_one_the_python_path() -> None:
    def light(tag: str) -> LightRecord:
        fields = [LightField("001", "id-1"), LightField(tag, "", ("0", "0"), None, "\x1faTitle")]
        return LightRecord("00000nam a2200000 a 4500", fields)

    taken = prepare_record(b"<record/>", "marcxml", None, record=light("245"))
    assert taken.title == "Title" and taken.fields == {}  # the compiled mapping keeps only its JSON
    declined = prepare_record(b"<record/>", "marcxml", None, record=light("24"))
    assert declined.fields["title"] is None  # a two-character tag: the Python mapping reads the record

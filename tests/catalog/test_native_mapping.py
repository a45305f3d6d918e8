"""The compiled mapping (catalog/native) gives exactly what the Python path gives: on every real ISO
2709 file, with pymarc as the reference, on every real MARCXML file read as the OAI-PMH harvest
reads it, and on generated records full of the values the mapping's rules turn on (ISBD
punctuation, identifiers in every form, Vietnamese text, odd white space), in both formats."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pymarc import Field, Indicators, Leader, Record, Subfield, record_to_xml

from catalog import fast_iso2709, holdings, native
from catalog.light_record import LightField, LightRecord
from catalog.mapping import native_tags, prepare_iso2709, prepare_light
from catalog.native import CORE_FIELDS
from catalog.records import PreparedRecord, prepare
from harvest import marcxml, sources
from harvest.oai_page import _parse_wrapped
from harvest.prepare import process
from tests.conftest import ISO2709_FILES, KOHA, fixture

if native.map_iso2709 is None:
    if os.environ.get("UNIONCAT_REQUIRE_NATIVE") == "1":
        pytest.fail("UNIONCAT_REQUIRE_NATIVE=1 but the compiled mapping is not built", pytrace=False)
    pytest.skip(
        "the compiled mapping is not built (python -m catalog.native.build) or UNIONCAT_NATIVE=0",
        allow_module_level=True,
    )


def _same(native_record: PreparedRecord, reference: PreparedRecord) -> None:
    assert native_record.fields_json == reference.fields_json  # the same values, keys in the same order
    assert native_record.holdings == reference.holdings
    assert native_record.keys == reference.keys
    assert native_record.document == reference.document
    assert (native_record.local_id, native_record.title, native_record.title_key, native_record.warnings) == (
        reference.local_id,
        reference.title,
        reference.title_key,
        reference.warnings,
    )


@pytest.mark.parametrize("name", ISO2709_FILES)
def test_compiled_mapping_matches_pymarc_on_every_real_file(name: str) -> None:
    taken = 0
    # With a library, the search document (which reads every field) is compared too; without one,
    # the record is prepared from the few fields the compiled mapping hands back as objects.
    for profile, library in ((None, "lib"), (None, None), (holdings.KOHA, "lib"), (holdings.ITEM949, None)):
        tags = native_tags(profile)
        for item in sources.read_path(fixture(name)):
            if item.raw_format != "iso2709":
                continue
            compiled = prepare_iso2709(item.raw, profile, tags, item.warnings, library)
            if compiled is None:
                # What the compiled mapping declines, the Python fast path or pymarc reads.
                continue
            assert item.record is not None, f"the compiled mapping took a record pymarc rejects: {item.error}"
            taken += 1
            _same(compiled, prepare(item.record, item.raw, "iso2709", profile, item.warnings, library))
    if name in ("sample-2000.mrc", "vietnamese-529.mrc", "stray-combining-marks-182.mrc"):
        assert taken > 300  # clean UTF-8 exports, Vietnamese ones included, take it
    if name in ("marc8.dat", "1251.dat", "leader-says-marc8-bytes-are-utf8.marc"):
        assert taken == 0  # the same records as the Python fast path: UTF-8 flagged and valid


def _light_records(data: bytes) -> Iterator[tuple[bytes, LightRecord]]:
    """The MARCXML records of ``data`` as the OAI-PMH harvest reads them (harvest/oai_page.py)."""
    for item in marcxml.split(io.BytesIO(data)):
        namespaces, _ = item.context
        try:
            element = _parse_wrapped(item.raw, namespaces)[0]
        except etree.XMLSyntaxError:
            continue  # rejected before any mapping
        yield item.raw, marcxml.light_record_from_element(element)


@pytest.mark.parametrize("path", [KOHA, fixture("culturegraph-5-clusters.marcxml"), fixture("bad_tag.xml")])
def test_compiled_mapping_matches_the_python_path_on_every_real_marcxml_file(path: object) -> None:
    taken = 0
    for profile, library in ((None, "lib"), (None, None), (holdings.KOHA, None)):
        for raw, light in _light_records(path.read_bytes()):  # type: ignore[attr-defined]
            compiled = prepare_light(light, raw, "marcxml", profile, [], library)
            if compiled is None:
                continue
            taken += 1
            _same(compiled, prepare(light, raw, "marcxml", profile, [], library))  # type: ignore[arg-type]
    if path.name == "bad_tag.xml":  # type: ignore[attr-defined]
        assert taken == 0  # a tag of two characters ("42"): declined, the Python path reads it
    else:
        assert taken > 0
    if path == KOHA:
        assert taken == 3 * 436  # a Koha export, Vietnamese text and 952 items: every record


def test_compiled_mapping_declines_what_only_marcxml_can_hold() -> None:
    def light(tag: str = "245", code: str = "a", value: str = "Title", ind: str = "0") -> LightRecord:
        fields = [LightField("001", "id-1"), LightField(tag, "", (ind, "0"), [Subfield(code, value)])]
        return LightRecord("00000nam a2200000 a 4500", fields)

    assert prepare_light(light(), b"", "marcxml", None) is not None
    for odd in (light(code="ab"), light(code=""), light(code="é"), light(value="a\x1fb"), light(tag="24")):
        assert prepare_light(odd, b"", "marcxml", None) is None
    for odd in (light(tag="2450"), light(ind="é")):
        assert prepare_light(odd, b"", "marcxml", None) is None
    # a declined record still goes through: the Python path prepares it
    assert prepare(light(code="ab"), b"", "marcxml", None).title is None  # type: ignore[arg-type]


def test_the_ingest_takes_the_compiled_mapping_and_gives_the_same_outcomes() -> None:
    path = fixture("vietnamese-529.mrc")
    items = list(sources.read_path(path, decoded=False))
    with_it = [process(item, None, "lib") for item in items]
    without = [process(item, None, "lib", tags="") for item in sources.read_path(path, decoded=False)]
    assert [o.reason for o in with_it] == [o.reason for o in without]
    for a, b in zip(with_it, without, strict=True):
        if a.prepared is not None:
            assert b.prepared is not None
            _same(a.prepared, b.prepared)
    # The compiled mapping read the records: none was decoded by the Python readers.
    assert sum(item.record is None for item in items) > 500
    # It hands back as objects the fields prepare() reads, and no others.
    found = native.map_iso2709(items[0].raw, native_tags(None))  # type: ignore[misc]
    assert found is not None and tuple(found[3]) == CORE_FIELDS


# Values built from the pieces the mapping's rules look at.
_PIECES = [
    "978-0-306-40615-7",
    "0-306-40615-2",
    "030640615X",
    "0 306 40615 2",
    "9790060115615",
    "1234-5679",
    "0028-0836",
    "0317-8471",
    "(OCoLC)ocm00012345",
    "(OCoLC) on1234",
    "(DLC)  85-123",
    "(OCoLC)x12",
    "()",
    "(a)",
    "  2012035454",
    "85--123",
    "n 79-21215",
    "sh85/1",
    "c1998.",
    "[199-?]",
    "2005",
    "19999",
    "245 p.",
    "xii, 300 pages",
    "3 v. ;",
    "12pp",
    "15 tr.",
    "ill.",
    "eds.",
    "J.",
    "...",
    "Inc.",
    "etc.",
    "NXB.",
    "a",
    "The",
    "Hà Nội",
    "Đại học",
    "Nhà xuất bản",
    "Ché\u0301\u0302",
    "Nha \u0300xuất",
    "hoà",
    "thúy",
    "\u0301",
    "Москва",
    "東京",
    "vie",
    "eng fre",
    "engfreger",
    "online resource",
    "cr",
    "electronic resource",
    "http://example.org/a b",
    "_x_",
    'say "yes"',  # what JSON escapes: quotes, backslashes, control characters
    "C:\\dir\\",
    "bell\x07 esc\x1b del\x7f",
    'http://example.org/\x01"q"',
]
_LETTERS = 'aZ09 .,:;/=-()Xx\u00a0ếĐ\u0301\t"\\\x02'
_SEPARATORS = [" ", "", " /", " :", " ;", " =", ",", ".", " .", "  ", "-", "\u00a0", "\t", "\u2003", "/"]
_values = st.lists(
    st.one_of(st.sampled_from(_PIECES), st.text(alphabet=_LETTERS, max_size=8)),
    max_size=4,
).flatmap(
    lambda pieces: st.lists(
        st.sampled_from(_SEPARATORS), min_size=len(pieces) + 1, max_size=len(pieces) + 1
    ).map(lambda seps: seps[0] + "".join(p + s for p, s in zip(pieces, seps[1:], strict=True)))
)
_TAGS = [
    "010", "020", "022", "035", "041", "050", "080", "082", "084", "090", "100", "110", "111", "245", "245",
    "250", "260", "264", "300", "336", "338", "440", "490", "520", "600", "650", "651", "655", "700", "710",
    "711", "800", "830", "856", "880", "952", "949", "999", "942",
]  # fmt: skip
_subfields = st.lists(
    st.tuples(st.sampled_from("abcdehjlnpqtuvxyz0123456789"), _values), min_size=1, max_size=5
)
_fields = st.lists(
    st.tuples(st.sampled_from(_TAGS), st.sampled_from(" 0123456789"), st.sampled_from(" 0124"), _subfields),
    max_size=14,
)
_fixed = st.one_of(
    st.just("800108s1899    ilu           000 0 eng  "),
    st.text(alphabet="0123456789 abcdefghijklmnopqrstuvwxyz|^", min_size=0, max_size=40),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from("acdefgijkmoprtz"),
    level=st.sampled_from("abcdims"),
    fixed=_fixed,
    control=st.lists(st.sampled_from(["cr||||", "ta", "crbn"]), max_size=2),
    fields=_fields,
)
def test_compiled_mapping_matches_the_python_path_on_generated_records(
    kind: str, level: str, fixed: str, control: list[str], fields: list
) -> None:
    record = Record(force_utf8=True, leader=Leader(f"00000n{kind}{level} a2200000 a 4500"))
    record.add_field(Field(tag="001", data="rec-1"))
    for data in control:
        record.add_field(Field(tag="007", data=data))
    record.add_field(Field(tag="008", data=fixed))
    for tag, ind1, ind2, subfields in fields:
        subs = [Subfield(code, value) for code, value in subfields]
        record.add_field(Field(tag=tag, indicators=Indicators(ind1, ind2), subfields=subs))
    raw = record.as_marc()
    light = fast_iso2709.parse(raw)
    assert light is not None
    for profile, library in ((None, "lib"), (holdings.MARC852, None)):
        compiled = prepare_iso2709(raw, profile, native_tags(profile), [], library)
        if compiled is None:
            # Declined on purpose: languages in 041 written in another script (Python's lower()
            # and slicing by character decide what they give).
            languages = [v for t, _, _, subs in fields if t == "041" for c, v in subs if c in "ad"]
            assert any(not v.isascii() for v in languages)
            continue
        _same(compiled, prepare(light, raw, "iso2709", profile, [], library))  # type: ignore[arg-type]
    # The same record as MARCXML, read as the OAI-PMH harvest reads it.
    xml = b"<collection>" + record_to_xml(record) + b"</collection>"
    [(xml_raw, xml_light)] = list(_light_records(xml))
    for profile, library in ((None, None), (holdings.KOHA, "lib")):
        compiled = prepare_light(xml_light, xml_raw, "marcxml", profile, [], library)
        if compiled is None:
            languages = [v for t, _, _, subs in fields if t == "041" for c, v in subs if c in "ad"]
            assert any(not v.isascii() for v in languages)
            continue
        reference = prepare(xml_light, xml_raw, "marcxml", profile, [], library)  # type: ignore[arg-type]
        _same(compiled, reference)


def test_a_profile_with_a_tag_the_compiled_mapping_cannot_take_uses_the_python_path() -> None:
    odd = holdings.KOHA.with_overrides({"local_id": [["9", "a"]]})
    assert native_tags(odd) == ""
    assert native_tags(holdings.KOHA) != ""


def test_both_paths_keep_the_item_number_of_a_ddc_call_number() -> None:
    """A record whose only call number is its 082 gives "339.09597 NG527N" (class and item
    number) through the compiled mapping as through the Python one."""
    record = next(item.record for item in sources.read_path(fixture("vietnamese-529.mrc")) if item.record)
    for tag in ("090", "092", "050", "082"):
        record.remove_fields(tag)
    record.add_field(
        Field(
            tag="082",
            indicators=Indicators("0", "4"),
            subfields=[Subfield("a", "339/.09597"), Subfield("b", "NG527N"), Subfield("2", "23")],
        )
    )
    raw = record.as_marc()
    compiled = prepare_iso2709(raw, holdings.NONE, native_tags(holdings.NONE))
    python = prepare(record, raw, "iso2709", holdings.NONE)
    assert compiled is not None
    call_number = holdings.HOLDING_FIELDS.index("call_number")
    assert compiled.holdings[0][call_number] == python.holdings[0][call_number] == "339.09597 NG527N"

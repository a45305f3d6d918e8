"""An item of a digital repository, described in Dublin Core, as the MARC record it becomes in the
catalogue: a source record of its library like any other, so that it goes through the ingest's
mapping and deduplication (matched to a union record by its ISBN, else by title, author and year,
or kept as a digital-only union record).

The record is built the same way from the same description every time (no date of entry in 008),
so an item harvested again unchanged is an unchanged record.
"""

from __future__ import annotations

import re
import unicodedata

import pycountry
from pymarc import Field, Indicators, Record, Subfield
from pymarc.marcxml import record_to_xml

from catalog import holdings, identifiers
from catalog.mapping import prepare_record
from catalog.records import PreparedRecord
from harvest.dublin_core import DcItem

LEADER = "00000nam a2200000 i 4500"
_DOI = re.compile(r"(10\.\d{4,9}/\S+)")
_HANDLE_URL = re.compile(r"^https?://(?:hdl\.handle\.net/|[^/]+/(?:\S*/)?handle/)\S+$", re.IGNORECASE)
_HANDLE = re.compile(r"^(?:hdl:|info:hdl/)(\S+)$", re.IGNORECASE)
_ISBN_LIKE = re.compile(r"^(?:ISBN[:\s]*)?[\dXx][\d\s\-Xx]{8,16}$", re.IGNORECASE)


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def marc_language(code: str) -> str | None:
    """The MARC (ISO 639-2/B) code of a DC language: ``vi``, ``vi_VN``, ``en-US``, ``vie``, ``Vietnamese``."""
    value = re.split(r"[_\-]", code.strip(), maxsplit=1)[0].lower()
    if not value:
        return None
    found = None
    try:
        if len(value) == 2:
            found = pycountry.languages.get(alpha_2=value)
        elif len(value) == 3:
            found = pycountry.languages.get(alpha_3=value) or pycountry.languages.get(bibliographic=value)
        else:
            found = pycountry.languages.get(name=value.capitalize())
    except (KeyError, LookupError):
        found = None
    if found is None:
        return None
    return str(getattr(found, "bibliographic", None) or found.alpha_3)


def handle_url(item: DcItem) -> str | None:
    """The item's persistent link: its handle (``http://hdl.handle.net/...`` or a repository's
    ``/handle/`` page), else the first web address among its identifiers."""
    for value in item.identifiers:
        if _HANDLE_URL.match(value):
            return value
        bare = _HANDLE.match(value)
        if bare:
            return f"https://hdl.handle.net/{bare.group(1)}"
    return next((v for v in item.identifiers if v.startswith(("http://", "https://"))), None)


def _name_field(tag: str, name: str, role: str | None = None) -> Field:
    subfields = [Subfield("a", name)]
    if role:
        subfields.append(Subfield("e", role))
    return Field(tag=tag, indicators=Indicators("1" if "," in name else "0", " "), subfields=subfields)


def dc_to_marc(item: DcItem, local_id: str) -> Record:
    """The MARC record of the item whose OAI identifier is ``local_id``."""
    record = Record(leader=LEADER, force_utf8=True)
    record.add_field(Field(tag="001", data=local_id))
    year = item.year
    languages = list(dict.fromkeys(c for c in (marc_language(v) for v in item.languages) if c))
    language = languages[0] if languages else "und"
    fixed = f"{'':6}{'s' if year else 'n'}{year or 'uuuu'}{'':4}xx {'':17}{language} d"
    record.add_field(Field(tag="008", data=fixed))
    handle = handle_url(item)
    isbns, issns, dois = [], [], []
    for value in item.identifiers:
        doi = _DOI.search(value) if ("doi" in value.lower() or value.startswith("10.")) else None
        if doi:
            dois.append(doi.group(1).rstrip(".,;"))
        elif _ISBN_LIKE.match(value) and identifiers.isbn13(value):
            isbns.append(value)
        elif identifiers.issn(value) and "issn" in value.lower():
            issns.append(value)
    for isbn in dict.fromkeys(isbns):
        record.add_field(Field(tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", isbn)]))
    for issn in dict.fromkeys(issns):
        record.add_field(Field(tag="022", indicators=Indicators(" ", " "), subfields=[Subfield("a", issn)]))
    for doi in dict.fromkeys(dois):
        record.add_field(
            Field(
                tag="024",
                indicators=Indicators("7", " "),
                subfields=[Subfield("a", doi), Subfield("2", "doi")],
            )
        )
    if handle and _HANDLE_URL.match(handle):
        record.add_field(
            Field(
                tag="024",
                indicators=Indicators("7", " "),
                subfields=[Subfield("a", handle), Subfield("2", "hdl")],
            )
        )
    if languages:
        record.add_field(
            Field(tag="041", indicators=Indicators("0", " "), subfields=[Subfield("a", c) for c in languages])
        )
    creators = [_nfc(c) for c in dict.fromkeys(item.creators)]
    if creators:
        record.add_field(_name_field("100", creators[0]))
    titles = [_nfc(t) for t in dict.fromkeys(item.titles)]
    if titles:
        record.add_field(
            Field(
                tag="245",
                indicators=Indicators("1" if creators else "0", "0"),
                subfields=[Subfield("a", titles[0])],
            )
        )
    for other in titles[1:]:
        record.add_field(Field(tag="246", indicators=Indicators("3", " "), subfields=[Subfield("a", other)]))
    publication = [Subfield("b", _nfc(p)) for p in item.publishers[:1]]
    if item.issued:
        publication.append(Subfield("c", item.issued))
    if publication:
        record.add_field(Field(tag="264", indicators=Indicators(" ", "1"), subfields=publication))
    for note in item.descriptions:
        record.add_field(
            Field(tag="500", indicators=Indicators(" ", " "), subfields=[Subfield("a", _nfc(note))])
        )
    for abstract in item.abstracts:
        record.add_field(
            Field(tag="520", indicators=Indicators("3", " "), subfields=[Subfield("a", _nfc(abstract))])
        )
    for rights in item.rights:
        if not rights.startswith("info:eu-repo/"):
            record.add_field(
                Field(tag="540", indicators=Indicators(" ", " "), subfields=[Subfield("a", _nfc(rights))])
            )
    for subject in dict.fromkeys(item.subjects):
        record.add_field(
            Field(tag="650", indicators=Indicators(" ", "4"), subfields=[Subfield("a", _nfc(subject))])
        )
    for kind in dict.fromkeys(item.types):
        if not kind.startswith("info:eu-repo/"):
            record.add_field(
                Field(tag="655", indicators=Indicators(" ", "4"), subfields=[Subfield("a", _nfc(kind))])
            )
    for name in creators[1:]:
        record.add_field(_name_field("700", name))
    for name in dict.fromkeys(item.contributors):
        record.add_field(_name_field("700", _nfc(name), "contributor"))
    if handle:
        record.add_field(Field(tag="856", indicators=Indicators("4", "0"), subfields=[Subfield("u", handle)]))
    return record


def prepare_item(item: DcItem, local_id: str, library: str | None = None) -> PreparedRecord:
    """The item as the catalogue stores it (see :func:`catalog.mapping.prepare_record`; ``library``:
    see harvest.runner.rows_library): its MARCXML is its raw record, its one holding the item.
    Raises :class:`~catalog.records.RecordRejected` with the reason."""
    record = dc_to_marc(item, local_id)
    raw = record_to_xml(record, namespace=True)
    return prepare_record(raw, "marcxml", holdings.NONE, record=record, library=library)

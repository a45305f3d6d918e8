"""One OAI-PMH response of a digital repository read: a ListRecords page of Dublin Core
descriptions (each item's header and :class:`~harvest.dublin_core.DcItem`), or the metadata of a
GetRecord answer (an item's ORE or METS file list).

A record whose description cannot be read costs that record only; a response that is not an
OAI-PMH document raises :class:`~harvest.oai_page.PageError` (the client fetches it again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from harvest import marcxml
from harvest.dublin_core import DcItem, read_dc
from harvest.oai_page import OAI_NS, PageError


@dataclass
class RepositoryEntry:
    number: int  # position in the harvest, 1-based
    identifier: str | None
    datestamp: str | None
    deleted: bool = False
    item: DcItem | None = None
    error: str | None = None


@dataclass
class RepositoryPage:
    response_date: str | None = None
    token: str | None = None
    error_code: str | None = None
    error_message: str = ""
    entries: list[RepositoryEntry] = field(default_factory=list)


def _root(content: bytes) -> etree._Element:
    cleaned, _ = marcxml.strip_invalid_characters(content)
    try:
        root = etree.fromstring(cleaned, marcxml.parser())
    except etree.XMLSyntaxError as exc:
        raise PageError(f"the response is not a well-formed XML document: {exc}") from None
    if root is None or root.tag != f"{{{OAI_NS}}}OAI-PMH":
        raise PageError("the response is not an OAI-PMH document")
    return root


def _text(parent: etree._Element, name: str) -> str | None:
    found = parent.find(f"{{{OAI_NS}}}{name}")
    return (found.text or "").strip() or None if found is not None else None


def _error(root: etree._Element) -> tuple[str | None, str]:
    error = root.find(f"{{{OAI_NS}}}error")
    if error is None:
        return None, ""
    return error.get("code") or "unknown", (error.text or "").strip()


def _metadata(record: etree._Element) -> etree._Element | None:
    metadata = record.find(f"{{{OAI_NS}}}metadata")
    if metadata is None:
        return None
    return next((child for child in metadata if isinstance(child.tag, str)), None)


def read_list_page(content: bytes, first_number: int = 1) -> RepositoryPage:
    """A ListRecords response of Dublin Core records (``oai_dc`` or ``qdc``)."""
    root = _root(content)
    page = RepositoryPage(response_date=_text(root, "responseDate"))
    page.error_code, page.error_message = _error(root)
    if page.error_code:
        return page
    verb = root.find(f"{{{OAI_NS}}}ListRecords")
    if verb is None:
        raise PageError("the response holds no ListRecords")
    number = first_number
    for record in verb.iterfind(f"{{{OAI_NS}}}record"):
        header = record.find(f"{{{OAI_NS}}}header")
        identifier = _text(header, "identifier") if header is not None else None
        entry = RepositoryEntry(
            number, identifier, _text(header, "datestamp") if header is not None else None
        )
        number += 1
        page.entries.append(entry)
        if header is None or not identifier:
            entry.error = "the record's header has no identifier"
            continue
        if len(identifier) > 255:
            entry.error = "the record's identifier is longer than 255 characters"
            continue
        if header.get("status") == "deleted":
            entry.deleted = True
            continue
        metadata = _metadata(record)
        if metadata is None:
            entry.error = "the record has no metadata"
            continue
        entry.item = read_dc(metadata)
        if not (entry.item.titles or entry.item.identifiers):
            entry.item, entry.error = (
                None,
                "the record's metadata is not Dublin Core (no title, no identifier)",
            )
    token = verb.find(f"{{{OAI_NS}}}resumptionToken")
    if token is not None:
        page.token = (token.text or "").strip() or None
    return page


def read_record_metadata(content: bytes) -> tuple[etree._Element | None, str | None]:
    """The metadata element of a GetRecord response, or (None, the repository's error)."""
    root = _root(content)
    code, message = _error(root)
    if code:
        return None, f"{code}: {message}" if message else code
    record = root.find(f"{{{OAI_NS}}}GetRecord/{{{OAI_NS}}}record")
    if record is None:
        raise PageError("the response holds no GetRecord record")
    header = record.find(f"{{{OAI_NS}}}header")
    if header is not None and header.get("status") == "deleted":
        return None, "the item is deleted"
    metadata = _metadata(record)
    return (metadata, None) if metadata is not None else (None, "the record has no metadata")

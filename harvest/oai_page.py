"""One OAI-PMH response page, read record by record from its bytes.

A page's records are cut out of its bytes; what is left is parsed for the envelope (response date,
error, resumption token), with the control characters XML forbids removed first. The records are
parsed together where they are well-formed, else one by one, as ingest does with MARCXML files: a
record that is not well-formed costs that record only, and every MARC record keeps its exact bytes.
A page that is not a complete OAI-PMH document (an HTML error page, a body cut short) raises
:class:`PageError`, so that it is fetched again rather than taken for the end of the list.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from lxml import etree

from harvest import marcxml
from harvest.incoming import Incoming

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
# A record tag: rb"<(/?)(?:[A-Za-z_][\w.-]*:)?record(?=[\s/>])", found from its name (the pattern
# itself tried every "<" of a page, a quarter of a harvest worker's time): see _record_tags.
_RECORD_NAME = re.compile(rb"record(?=[\s/>])")
_NAME_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_NAME_START = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_HEADER_FIRST = re.compile(rb"\s*(?:<!--.*?-->\s*)*<(?:[A-Za-z_][\w.-]*:)?header(?=[\s/>])", re.DOTALL)
_IDENTIFIER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?identifier\s*>\s*([^<]{1,500}?)\s*<")
_END_OF_DOCUMENT = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?OAI-PMH\s*>\s*$")


class PageError(ValueError):
    """The response is not a complete OAI-PMH document."""


@dataclass(slots=True)
class OaiRecord:
    number: int  # position in the harvest, 1-based
    identifier: str | None
    datestamp: str | None
    deleted: bool = False
    item: Incoming | None = None  # the MARC record (not decoded yet), for a record that is not deleted
    error: str | None = None


@dataclass
class Page:
    response_date: str | None = None
    records: list[OaiRecord] = field(default_factory=list)
    token: str | None = None  # the resumption token; None on the last page
    complete_list_size: int | None = None
    error_code: str | None = None
    error_message: str = ""


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element:
        if _local(child) == name:
            return child
    return None


def _envelope(content: bytes) -> etree._Element:
    """The parsed envelope: strictly, or leniently when only its end is sound."""
    cleaned, _ = marcxml.strip_invalid_characters(content)
    try:
        root = etree.fromstring(cleaned, marcxml.parser())
    except etree.XMLSyntaxError as exc:
        if not _END_OF_DOCUMENT.search(cleaned[-200:]):
            raise PageError(f"the response is not a complete XML document: {exc}") from None
        lenient = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(cleaned, lenient)
    if root is None or _local(root) != "OAI-PMH":
        raise PageError("the response is not an OAI-PMH document")
    return root


def _record_tags(content: bytes) -> Iterator[tuple[int, int, bool]]:
    """(where its "<" is, where its name ends, whether it closes) of every ``record`` tag, with or
    without a namespace prefix."""
    for match in _RECORD_NAME.finditer(content):
        begin = match.start()
        if begin and content[begin - 1] == 0x3A:  # ":" ends a prefix
            first = begin - 1
            while first and content[first - 1] in _NAME_BYTES:
                first -= 1
            if first == begin - 1 or content[first] not in _NAME_START:
                continue
            begin = first
        closing = begin > 0 and content[begin - 1] == 0x2F  # "/"
        opening = begin - 1 - closing
        if opening >= 0 and content[opening] == 0x3C:  # "<"
            yield opening, match.end(), closing


def _record_chunks(content: bytes) -> list[tuple[int, int]]:
    """(start, end) of every OAI ``record`` element: a record element whose first child is a header."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = -1
    for opening, name_end, closing in _record_tags(content):
        tag_end = content.find(b">", name_end)
        if tag_end == -1:
            break
        if closing:
            depth -= 1
            if depth == 0 and start != -1:
                spans.append((start, tag_end + 1))
                start = -1
            depth = max(depth, 0)
        elif content[tag_end - 1 : tag_end] != b"/":  # not <record/>
            if depth == 0 and _HEADER_FIRST.match(content, tag_end + 1):
                start = opening
            depth += 1
    return spans


def _parse_wrapped(chunk: bytes, namespaces: dict[bytes, bytes]) -> etree._Element:
    """``chunk`` (one or more records) parsed inside a wrapper that declares ``namespaces``, the
    control characters XML forbids removed; the wrapper is returned."""
    cleaned, _ = marcxml.strip_invalid_characters(chunk)
    return etree.fromstring(marcxml.wrap(cleaned, namespaces), marcxml.parser())


def _read_record(
    chunk: bytes, element: etree._Element | None, namespaces: dict[bytes, bytes], number: int
) -> OaiRecord:
    """One OAI record: from its share's tree (``element``) when that run of records parsed, else
    from its own bytes; the MARC record keeps its exact bytes and becomes the ingest's light record."""
    if element is None:
        try:
            element = _parse_wrapped(chunk, namespaces)[0]
        except etree.XMLSyntaxError as exc:
            found = _IDENTIFIER.search(chunk)
            identifier = found.group(1).decode("utf-8", "replace") if found else None
            return OaiRecord(number, identifier, None, error=f"record is not well-formed XML: {exc}")
    header = _child(element, "header")
    assert header is not None  # _record_chunks only cuts out records that start with one
    identifier_el, datestamp_el = _child(header, "identifier"), _child(header, "datestamp")
    identifier = (identifier_el.text or "").strip() if identifier_el is not None else ""
    datestamp = (datestamp_el.text or "").strip() if datestamp_el is not None else None
    record = OaiRecord(number, identifier or None, datestamp, deleted=header.get("status") == "deleted")
    if not identifier:
        record.error = "the record's header has no identifier"
        return record
    if record.deleted:
        return record
    metadata = _child(element, "metadata")
    marc = metadata[0] if metadata is not None and len(metadata) else None
    inner = next(marcxml.split(io.BytesIO(chunk)), None) if marc is not None else None
    if inner is None or marc is None or _local(marc) != "record":
        kind = _local(marc) if marc is not None else "nothing"
        record.error = f"the record's metadata is not MARCXML (found {kind})"
        return record
    light = marcxml.light_record_from_element(marc)
    if not light.fields:
        record.error = "a MARC record element without fields"
        return record
    inner.number, inner.offset = number, None
    inner_namespaces, _ = inner.context
    inner.context = ({**namespaces, **inner_namespaces}, "utf-8")
    inner.record = light  # type: ignore[assignment]  # prepared as the ISO 2709 fast path's records are
    _, bad = marcxml.strip_invalid_characters(inner.raw)
    if bad:
        inner.warnings.append(f"removed control character(s) not allowed in XML: {', '.join(bad)}")
    record.item = inner
    return record


def _token(root: etree._Element) -> etree._Element | None:
    for verb in root:
        token = _child(verb, "resumptionToken") if isinstance(verb.tag, str) else None
        if token is not None:
            return token
    return None


def _outer(content: bytes, spans: list[tuple[int, int]]) -> bytes:
    """The page without its records: what its envelope is read from (a fraction of the bytes)."""
    return content[: spans[0][0]] + content[spans[-1][1] :] if spans else content


def _share_elements(
    content: bytes, spans: list[tuple[int, int]], namespaces: dict[bytes, bytes]
) -> Sequence[etree._Element | None]:
    """The record elements of a run of the page's records, parsed in one go; ``None`` for each (the
    records are then parsed one by one) when that part of the page is not well-formed."""
    none: list[etree._Element | None] = [None] * len(spans)
    if not spans:
        return none
    try:
        wrapper = _parse_wrapped(content[spans[0][0] : spans[-1][1]], namespaces)
    except etree.XMLSyntaxError:
        return none
    parsed = [r for r in wrapper if isinstance(r.tag, str)]
    if len(parsed) != len(spans) or any(_local(r) != "record" for r in parsed):
        return none
    return parsed


def page_token(content: bytes) -> str | None:
    """The resumption token of a response (None on the last page); :class:`PageError` when the
    response is not a complete OAI-PMH document."""
    token = _token(_envelope(_outer(content, _record_chunks(content))))
    return ((token.text or "").strip() or None) if token is not None else None


def read_page(content: bytes, first_number: int = 1, part: int = 0, parts: int = 1) -> Page:
    """The envelope and records of one ListRecords or GetRecord response; with ``parts`` > 1, only
    the records of share ``part`` (0-based) of ``parts`` equal runs, so that several processes can
    each read and prepare a share of one page. Each share parses only its own records."""
    spans = _record_chunks(content)
    root = _envelope(_outer(content, spans))
    page = Page()
    date = _child(root, "responseDate")
    page.response_date = (date.text or "").strip() if date is not None else None
    error = _child(root, "error")
    if error is not None:
        page.error_code = error.get("code") or "unknown"
        page.error_message = (error.text or "").strip()
        return page
    share = range(len(spans) * part // parts, len(spans) * (part + 1) // parts)
    namespaces: dict[bytes, bytes] = {}
    scanned = 0
    elements: Sequence[etree._Element | None] = ()
    for index in range(share.stop):
        start, end = spans[index]
        namespaces.update(marcxml.declared_namespaces(content[scanned:start]))
        scanned = end
        if index == share.start:
            elements = _share_elements(content, spans[share.start : share.stop], namespaces)
        if index >= share.start:
            element = elements[index - share.start]
            page.records.append(_read_record(content[start:end], element, namespaces, first_number + index))
    token = _token(root)
    if token is not None:
        page.token = (token.text or "").strip() or None
        size = token.get("completeListSize")
        page.complete_list_size = int(size) if size and size.isdigit() else None
    return page

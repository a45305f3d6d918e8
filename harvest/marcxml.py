"""MARCXML reading that streams, keeps each record's exact bytes, and survives a broken record.

The file is scanned as bytes for MARC ``record`` elements -- in a ``collection``, alone, or wrapped in
OAI-PMH or SRU responses -- and each record is parsed on its own with lxml, entity resolution,
DTD loading and network access off. So one malformed record (say a raw control byte) costs only that
record, memory stays flat, and no external entity or entity expansion can ever be processed: the
document's own DOCTYPE is never given to the parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree
from pymarc import Field, Indicators, Record, Subfield

from catalog.light_record import LightField, LightRecord
from harvest.chunked import ByteWindow
from harvest.incoming import MAX_RECORD_BYTES, Incoming, oversized

_START = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?record(?=[\s/>])")
_XMLNS = re.compile(rb"""xmlns(?::([A-Za-z_][\w.-]*))?\s*=\s*(["'])(.*?)\2""")
_FIRST_CHILD = re.compile(rb"\s*(?:<!--.*?-->\s*)*<(?:[A-Za-z_][\w.-]*:)?(\w+)(?=[\s/>])", re.DOTALL)
_ENCODING = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_MARC_CHILDREN = {b"leader", b"controlfield", b"datafield"}
MAX_RECORD = MAX_RECORD_BYTES["marcxml"]
# The control characters XML forbids.
_INVALID_XML_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def declared_namespaces(data: bytes) -> dict[bytes, bytes]:
    """Every namespace declared in ``data`` (prefix -> URI; b"" for the default namespace)."""
    return {ns.group(1) or b"": ns.group(3) for ns in _XMLNS.finditer(data)}


def strip_invalid_characters(data: bytes) -> tuple[bytes, list[str]]:
    """``data`` without the control characters XML forbids, and those found (as 0xNN).

    One ``bytes.translate`` that deletes them, in C: a harvest passes every page through here twice,
    and a regular expression's scan took a tenth of its workers' time."""
    cleaned = data.translate(None, _INVALID_XML_BYTES)
    if len(cleaned) == len(data):
        return data, []
    return cleaned, sorted(f"0x{b:02X}" for b in set(data).intersection(_INVALID_XML_BYTES))


def parser(encoding: str | None = None) -> etree.XMLParser:
    """A parser safe for untrusted XML: no entities resolved, no DTD, no network, no huge trees."""
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


# Elements by local name, in any namespace or none (lxml's "{*}" wildcard).
_FIELD_TAGS = ("{*}leader", "{*}controlfield", "{*}datafield")
_SUBFIELD = "{*}subfield"
_new = tuple.__new__  # Subfield(code, value) without the namedtuple's Python-level __new__


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""  # a comment or processing instruction
    return tag[tag.rfind("}") + 1 :]


def light_record_from_element(element: etree._Element) -> LightRecord:
    """The same record as :func:`record_from_element`, as the ingest's light record (faster: lxml
    picks the elements by local name, and subfields are built as plain tuples)."""
    leader = " " * 24
    fields: list[LightField] = []
    for child in element.iterchildren(*_FIELD_TAGS):
        tag = child.tag
        name = tag[tag.rfind("}") + 1 :]
        if name == "datafield":
            subfields = [
                _new(Subfield, (sf.get("code", ""), sf.text or "")) for sf in child.iterchildren(_SUBFIELD)
            ]
            indicators = ((child.get("ind1") or " ")[:1], (child.get("ind2") or " ")[:1])
            fields.append(LightField((child.get("tag") or "").strip(), "", indicators, subfields))
        elif name == "controlfield":
            fields.append(LightField((child.get("tag") or "").strip(), child.text or ""))
        else:
            leader = (child.text or "").ljust(24)[:24]
    return LightRecord(leader, fields)


def _indicator(element: etree._Element, name: str) -> str:
    return (element.get(name) or " ")[:1]


def record_from_element(element: etree._Element) -> Record:
    """A pymarc record from a MARCXML ``record`` element (namespaced or not)."""
    record = Record(leader=" " * 24)
    for child in element:
        name = _local(child.tag)
        if name == "leader":
            record.leader = (child.text or "").ljust(24)[:24]
        elif name == "controlfield":
            record.add_field(Field(tag=child.get("tag", "").strip(), data=child.text or ""))
        elif name == "datafield":
            subfields = [
                Subfield(code=sf.get("code", ""), value=sf.text or "")
                for sf in child
                if _local(sf.tag) == "subfield"
            ]
            record.add_field(
                Field(
                    tag=child.get("tag", "").strip(),
                    indicators=Indicators(_indicator(child, "ind1"), _indicator(child, "ind2")),
                    subfields=subfields,
                )
            )
    return record


def wrap(chunk: bytes, namespaces: dict[bytes, bytes]) -> bytes:
    """``chunk`` inside an element that declares ``namespaces``, so that it parses on its own."""
    declarations = b" ".join(
        b'xmlns:%s="%s"' % (prefix, uri) if prefix else b'xmlns="%s"' % uri
        for prefix, uri in namespaces.items()
    )
    return b"<wrapper " + declarations + b">" + chunk + b"</wrapper>"


def parse_record(
    chunk: bytes, namespaces: dict[bytes, bytes], encoding: str | None
) -> tuple[Record, list[str]]:
    """Parse one record element's bytes; invalid control characters are removed with a warning."""
    notes: list[str] = []
    try:
        wrapper = etree.fromstring(wrap(chunk, namespaces), parser(encoding))
    except etree.XMLSyntaxError:
        cleaned, bad = strip_invalid_characters(chunk)
        if not bad:
            raise
        wrapper = etree.fromstring(wrap(cleaned, namespaces), parser(encoding))
        notes.append(f"removed control character(s) not allowed in XML: {', '.join(bad)}")
    element = wrapper[0]
    record = record_from_element(element)
    if not record.fields:
        raise ValueError("a record element without fields")
    return record, notes


def _record_end(buffer: bytes, prefix: bytes | None, start: int) -> int:
    """Index just past the closing tag of the record opened at ``start``, or -1 if not in buffer."""
    tag_end = buffer.find(b">", start)
    if tag_end == -1:
        return -1
    if buffer[tag_end - 1 : tag_end] == b"/":
        return tag_end + 1
    closing = b"</" + (prefix + b":" if prefix else b"") + b"record"
    pos = buffer.find(closing, tag_end)
    while pos != -1:
        after = buffer.find(b">", pos)
        if after == -1:
            return -1
        if not buffer[pos + len(closing) : after].strip():
            return after + 1
        pos = buffer.find(closing, after)
    return -1


def decode_item(item: Incoming) -> Incoming:
    """Fill in ``item.record`` and its warnings, or ``item.error``."""
    if item.error is not None:
        return item
    namespaces, encoding = item.context
    try:
        item.record, item.warnings = parse_record(item.raw, namespaces, encoding)
    except (etree.XMLSyntaxError, ValueError) as exc:
        item.error = f"not well-formed MARCXML: {exc}"
    return item


def split(stream: BinaryIO) -> Iterator[Incoming]:
    """The MARC record elements of ``stream``, not yet parsed."""
    window = ByteWindow(stream)
    number = 0
    namespaces: dict[bytes, bytes] = {}
    encoding: str | None = None
    first = True
    skipping: bytes | None = None  # the closing tag that ends an oversized record being skipped
    while window.fill():
        buffer, eof, offset = window.data, window.eof, window.offset
        if first:
            first = False
            declared = _ENCODING.match(buffer.lstrip(b"\xef\xbb\xbf \r\n\t"))
            encoding = declared.group(1).decode("ascii") if declared else None
        pos = 0
        if skipping is not None:
            closed = buffer.find(skipping)
            if closed == -1:
                if eof:
                    return
                window.consume(max(0, len(buffer) - len(skipping)))  # a tag may straddle chunks
                continue
            pos, skipping = closed + len(skipping), None
        while True:
            match = _START.search(buffer, pos)
            if match is None:
                keep = max(pos, len(buffer) - 64)  # a start tag may straddle the chunk boundary
                for ns in _XMLNS.finditer(buffer, pos, keep):
                    namespaces[ns.group(1) or b""] = ns.group(3)
                break
            for ns in _XMLNS.finditer(buffer, pos, match.start()):
                namespaces[ns.group(1) or b""] = ns.group(3)
            tag_close = buffer.find(b">", match.end())
            child = _FIRST_CHILD.match(buffer, tag_close + 1) if tag_close != -1 else None
            if tag_close == -1 or (child is None and not eof and len(buffer) - tag_close < 4096):
                keep = match.start()
                break
            if child is None or child.group(1) not in _MARC_CHILDREN:
                pos = match.end()  # an OAI-PMH or SRU record wrapper: the MARC record is inside
                continue
            end = _record_end(buffer, match.group(1), match.start())
            if end == -1:
                if eof:
                    number += 1
                    yield Incoming(
                        number=number,
                        offset=offset + match.start(),
                        raw=buffer[match.start() :],
                        raw_format="marcxml",
                        error="record element is not closed before the end of the file",
                    )
                    keep = len(buffer)
                elif len(buffer) - match.start() > MAX_RECORD:
                    number += 1
                    yield oversized(number, offset + match.start(), buffer[match.start() :], "marcxml")
                    prefix = match.group(1)
                    skipping = b"</" + (prefix + b":" if prefix else b"") + b"record"
                    keep = len(buffer) - len(skipping)
                else:
                    keep = match.start()
                break
            number += 1
            yield Incoming(
                number=number,
                offset=offset + match.start(),
                raw=buffer[match.start() : end],
                raw_format="marcxml",
                context=(dict(namespaces), encoding),
            )
            pos = end
        if eof:
            return
        window.consume(keep)

"""MARCXML, written once for the exports and the OAI-PMH provider: a pymarc record or a light record
of catalog.fast_iso2709 (anything with a leader and fields of pymarc's shape) as text.

Written as text, not as a tree: an element per subfield took most of the time of an OAI-PMH page.
pymarc's own writer is not used: it copies the characters XML 1.0 forbids (escape sequences left
by MARC-8, stray control characters) into its output, which no XML parser then reads, and a carriage
return in a subfield reaches the reader as a line feed. Here the forbidden characters are dropped
(they stay in the raw record) and a carriage return is kept as a reference."""

from __future__ import annotations

import re
from typing import Any

NAMESPACE = "http://www.loc.gov/MARC21/slim"
SCHEMA = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# What MARCXML text cannot hold as it is: XML's markup characters and carriage return (kept as
# references), and the characters XML 1.0 forbids (dropped: they stay in the raw record, not here).
_SPECIAL = re.compile('[&<>"\r\t\n\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", '"': '"', "\t": "\t", "\n": "\n"}
_ATTRIBUTE_ESCAPES = {**_TEXT_ESCAPES, '"': "&quot;", "\t": "&#9;", "\n": "&#10;"}
_RECORD_START = f'<record xmlns="{NAMESPACE}">'
_DOCUMENT_START = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<record xmlns="{NAMESPACE}" xmlns:xsi="{XSI}" '
    f'xsi:schemaLocation="{NAMESPACE} {SCHEMA}">'
)


def _escaped(value: str, escapes: dict[str, str]) -> str:
    if not _SPECIAL.search(value):
        return value
    return _SPECIAL.sub(lambda m: escapes.get(m.group(), ""), value)


def record_xml(record: Any, start: str = _RECORD_START) -> bytes:
    """The MARCXML record element of a pymarc or light record, as UTF-8 text."""
    text, attr = _TEXT_ESCAPES, _ATTRIBUTE_ESCAPES
    out = [start, "<leader>", _escaped(str(record.leader), text), "</leader>"]
    for field in record.fields:
        tag = _escaped(field.tag, attr)
        if field.is_control_field():
            out.append(f'<controlfield tag="{tag}">{_escaped(field.data or "", text)}</controlfield>')
            continue
        ind1 = _escaped(field.indicator1 or " ", attr)
        ind2 = _escaped(field.indicator2 or " ", attr)
        out.append(f'<datafield tag="{tag}" ind1="{ind1}" ind2="{ind2}">')
        for code, value in field.subfields:
            out.append(f'<subfield code="{_escaped(code, attr)}">{_escaped(value or "", text)}</subfield>')
        out.append("</datafield>")
    out.append("</record>")
    return "".join(out).encode()


def document(record: Any) -> bytes:
    """A MARCXML file of one record (a download): the XML declaration, then the record, naming its
    schema."""
    return record_xml(record, _DOCUMENT_START)

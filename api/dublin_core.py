"""Simple Dublin Core of a union or source record's catalogue fields (the DCMI/MARC crosswalk, in
short): one crosswalk for the OAI-PMH provider (``oai_dc``) and SRU (``info:srw/schema/1/dc-v1.1``),
which differ only in the element that wraps it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lxml import etree
from lxml.etree import SubElement

from catalog.links import linkable

DC = "http://purl.org/dc/elements/1.1/"
# What XML 1.0 cannot hold: dropped from every text written (they stay in the raw record).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """``value`` as text XML 1.0 can hold."""
    return _NOT_XML.sub("", str(value))


def add_elements(wrapper: etree._Element, fields: dict[str, Any], identifiers: Iterable[str] = ()) -> None:
    """Append the Dublin Core elements of ``fields`` to ``wrapper``; ``identifiers`` first among the
    identifiers (the record's own number where the caller gives one)."""

    def add(name: str, value: Any) -> None:
        if value:
            SubElement(wrapper, f"{{{DC}}}{name}").text = xml_text(value)

    title = fields.get("title")
    add("title", f"{title} : {fields['subtitle']}" if title and fields.get("subtitle") else title)
    for author in fields.get("authors") or []:
        add("creator" if author.get("main") else "contributor", author.get("name"))
    for subject in fields.get("subjects") or []:
        add("subject", subject)
    add("description", fields.get("summary"))
    add("publisher", fields.get("publisher"))
    add("date", fields.get("year"))
    add("type", fields.get("material_type"))
    add("format", fields.get("extent"))
    for identifier in identifiers:
        add("identifier", identifier)
    for isbn in fields.get("isbns") or []:
        add("identifier", f"urn:isbn:{isbn}")
    for issn in fields.get("issns") or []:
        add("identifier", f"urn:issn:{issn}")
    for link in fields.get("links") or []:
        if linkable(link.get("url")):
            add("identifier", link.get("url"))
    for language in fields.get("languages") or []:
        add("language", language)
    for series in fields.get("series") or []:
        add("relation", series.get("title"))

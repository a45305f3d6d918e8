"""Atom feeds (RFC 4287): a member library's new acquisitions (its records as first seen, newest
first) and the union records of a search.

Every text is an Atom text construct of ``type="text"``: a reader shows it as text, never as markup,
whatever a member's record holds; the only links are to this catalogue's own record pages. The XML
is written by lxml (escaped), without the control characters XML cannot carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import Connection, select

from catalog.db import as_utc
from catalog.models import Library, RecordStatus, SourceRecord, UnionRecord, utcnow

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
ENTRIES = 50
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Entry:
    record_id: int
    title: str
    updated: datetime
    authors: list[str] = field(default_factory=list)
    summary: str = ""


def _text(value: object) -> str:
    return _NOT_XML.sub(" ", str(value or ""))


def _summary(fields: dict[str, Any]) -> str:
    parts = [fields.get("publisher"), fields.get("place"), fields.get("year")]
    return " · ".join(str(p).strip(" :,;/") for p in parts if p)


def _authors(fields: dict[str, Any]) -> list[str]:
    return [str(a["name"]) for a in fields.get("authors", [])[:5] if a.get("name")]


def render(feed_id: str, title: str, self_url: str, page_url: str, entries: list[Entry]) -> bytes:
    """The Atom document of ``entries``."""
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})

    def add(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", **attrs)
        if text is not None:
            element.text = _text(text)
        return element

    add(root, "id", feed_id)
    add(root, "title", title, type="text")
    updated = max((e.updated for e in entries), default=utcnow())
    add(root, "updated", as_utc(updated).isoformat())  # type: ignore[union-attr]
    add(root, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    add(root, "link", rel="alternate", type="text/html", href=page_url)
    add(add(root, "author"), "name", "unioncat")
    add(root, "generator", "unioncat")
    base = page_url.split("/", 3)
    origin = "/".join(base[:3])
    for item in entries:
        entry = add(root, "entry")
        url = f"{origin}/records/{item.record_id}"
        add(entry, "id", url)
        add(entry, "title", item.title or f"#{item.record_id}", type="text")
        add(entry, "updated", as_utc(item.updated).isoformat())  # type: ignore[union-attr]
        add(entry, "link", rel="alternate", type="text/html", href=url)
        for name in item.authors:
            add(add(entry, "author"), "name", name)
        if item.summary:
            add(entry, "summary", item.summary, type="text")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")  # type: ignore[no-any-return]


def acquisitions(conn: Connection, library: Library, limit: int = ENTRIES) -> list[Entry]:
    """The library's newest records (as first seen), each as its union record."""
    rows = conn.execute(
        select(SourceRecord.union_record_id, SourceRecord.first_seen, UnionRecord.title, UnionRecord.fields)
        .join(UnionRecord, UnionRecord.id == SourceRecord.union_record_id)  # type: ignore[arg-type]
        .where(SourceRecord.library_id == library.id, SourceRecord.status == RecordStatus.ACTIVE.value)
        .order_by(SourceRecord.first_seen.desc(), SourceRecord.id.desc())  # type: ignore[union-attr,attr-defined]
        .limit(limit)
    ).all()
    return [
        Entry(union_id, title or "", first_seen, _authors(fields or {}), _summary(fields or {}))
        for union_id, first_seen, title, fields in rows
    ]


def union_entries(conn: Connection, record_ids: list[int]) -> list[Entry]:
    """The union records ``record_ids`` (a search's hits), in that order."""
    if not record_ids:
        return []
    rows = conn.execute(
        select(UnionRecord.id, UnionRecord.title, UnionRecord.fields, UnionRecord.updated_at).where(
            UnionRecord.id.in_(record_ids)  # type: ignore[union-attr]
        )
    ).all()
    found = {
        row[0]: Entry(row[0], row[1] or "", row[3], _authors(row[2] or {}), _summary(row[2] or {}))
        for row in rows
    }
    return [found[i] for i in record_ids if i in found]

"""The record schemas SRU hands records out in: MARCXML (MARC 21 slim, the default) of the copy-safe
union record, and simple Dublin Core and MODS 3.6 of its catalogue fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from lxml.etree import SubElement
from sqlalchemy import Connection, select

from catalog.copy_safe import CopySafeRules, copy_safe
from catalog.models import UnionRecord

from .. import exports, marcxml
from ..dublin_core import DC, add_elements, xml_text

SRW_DC = "info:srw/schema/1/dc-schema"
MODS = "http://www.loc.gov/mods/v3"
# The catalogue's material types (catalog.mapping_tables) as MODS typeOfResource.
RESOURCE_TYPES = {
    "book": "text",
    "serial": "text",
    "manuscript": "text",
    "score": "notated music",
    "manuscript score": "notated music",
    "map": "cartographic",
    "manuscript map": "cartographic",
    "video": "moving image",
    "audio": "sound recording-nonmusical",
    "music recording": "sound recording-musical",
    "image": "still image",
    "computer file": "software, multimedia",
    "kit": "mixed material",
    "mixed materials": "mixed material",
    "object": "three dimensional object",
}
UNION = UnionRecord.__table__  # type: ignore[attr-defined]


class RecordUnavailable(Exception):
    """A record that cannot be written in the schema (its stored MARC cannot be read)."""


@dataclass(frozen=True)
class Schema:
    name: str
    identifier: str  # the schema's URI, as recordSchema and explain give it
    namespace: str
    title: str
    write: Callable[[Connection, list[int], CopySafeRules], dict[int, etree._Element]]


def _marcxml(conn: Connection, ids: list[int], rules: CopySafeRules) -> dict[int, etree._Element]:
    return {
        uid: etree.fromstring(marcxml.record_xml(copy_safe(record, uid, rules)))
        for uid, record in exports.union_marcs(conn, ids).items()
    }


def _dublin_core(conn: Connection, ids: list[int], rules: CopySafeRules) -> dict[int, etree._Element]:
    rows = conn.execute(select(UNION.c.id, UNION.c.fields).where(UNION.c.id.in_(ids))).all()
    out = {}
    for uid, fields in rows:
        dc = etree.Element(f"{{{SRW_DC}}}dc", nsmap={"srw_dc": SRW_DC, "dc": DC})
        add_elements(dc, fields or {}, [f"{rules.org_code}:union-{uid}"])
        out[int(uid)] = dc
    return out


def _mods(conn: Connection, ids: list[int], rules: CopySafeRules) -> dict[int, etree._Element]:
    """MODS 3 of the union record's catalogue fields (the MARC to MODS mapping, in short)."""
    rows = conn.execute(select(UNION.c.id, UNION.c.fields).where(UNION.c.id.in_(ids))).all()
    out = {}
    m = f"{{{MODS}}}"
    for uid, fields in rows:
        fields = fields or {}
        mods = etree.Element(f"{m}mods", nsmap={None: MODS}, version="3.6")

        def add(parent: etree._Element, name: str, value: Any, **attributes: str) -> etree._Element | None:
            if not value:
                return None
            element = SubElement(parent, f"{m}{name}", **attributes)
            element.text = xml_text(value)
            return element

        if fields.get("title"):
            title = SubElement(mods, f"{m}titleInfo")
            add(title, "title", fields["title"])
            add(title, "subTitle", fields.get("subtitle"))
        for author in fields.get("authors") or []:
            if author.get("name"):
                name = SubElement(mods, f"{m}name")
                add(name, "namePart", author["name"])
                if author.get("main"):
                    add(SubElement(name, f"{m}role"), "roleTerm", "creator", type="text")
        add(mods, "typeOfResource", RESOURCE_TYPES.get(fields.get("material_type") or ""))
        if fields.get("publisher") or fields.get("year"):
            origin = SubElement(mods, f"{m}originInfo")
            add(origin, "publisher", fields.get("publisher"))
            add(origin, "dateIssued", fields.get("year"))
        for language in fields.get("languages") or []:
            add(
                SubElement(mods, f"{m}language"), "languageTerm", language, type="code", authority="iso639-2b"
            )
        for subject in fields.get("subjects") or []:
            add(SubElement(mods, f"{m}subject"), "topic", subject)
        for isbn in fields.get("isbns") or []:
            add(mods, "identifier", isbn, type="isbn")
        for issn in fields.get("issns") or []:
            add(mods, "identifier", issn, type="issn")
        add(SubElement(mods, f"{m}recordInfo"), "recordIdentifier", f"union-{uid}", source=rules.org_code)
        out[int(uid)] = mods
    return out


SCHEMAS = (
    Schema(
        "marcxml", "info:srw/schema/1/marcxml-v1.1", marcxml.NAMESPACE, "MARCXML (MARC 21 slim)", _marcxml
    ),
    Schema("dc", "info:srw/schema/1/dc-v1.1", SRW_DC, "Dublin Core", _dublin_core),
    Schema("mods", "info:srw/schema/1/mods-v3.6", MODS, "MODS 3.6", _mods),
)
_BY_NAME = {
    **{s.name: s for s in SCHEMAS},
    **{s.identifier.lower(): s for s in SCHEMAS},
    "marc21": SCHEMAS[0],
    "marcxml-v1.1": SCHEMAS[0],
    "marc21slim": SCHEMAS[0],
    marcxml.NAMESPACE.lower(): SCHEMAS[0],
    "info:srw/schema/1/marcxml-v1.1-light": SCHEMAS[0],
    "dc-v1.1": SCHEMAS[0 + 1],
    "info:srw/schema/1/dc-schema": SCHEMAS[1],
    "mods-v3.6": SCHEMAS[2],
    "info:srw/schema/1/mods-v3.5": SCHEMAS[2],
    MODS.lower(): SCHEMAS[2],
}
DEFAULT = SCHEMAS[0]


def schema_named(name: str | None) -> Schema | None:
    """The schema of a recordSchema value (a short name or an identifier, any case)."""
    if not name:
        return DEFAULT
    return _BY_NAME.get(name.strip().lower())

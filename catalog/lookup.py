"""Holdings lookup: which member libraries hold this ISBN, ISSN, LCCN, OCLC number or union record."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, text

from catalog.dedup.keys import IDENTIFIER_KEYS
from catalog.identifiers import isbn13, issn, lccn
from catalog.models import Holding, Library, RecordKey, SourceRecord, UnionRecord

SR = SourceRecord.__table__  # type: ignore[attr-defined]
KEY = RecordKey.__table__  # type: ignore[attr-defined]
HOLDING = Holding.__table__  # type: ignore[attr-defined]
UNION = UnionRecord.__table__  # type: ignore[attr-defined]
LIBRARY = Library.__table__  # type: ignore[attr-defined]
MAX_EDITIONS = 50


class InvalidIdentifier(ValueError):
    """The identifier given is not valid."""


@dataclass
class Identifier:
    kind: str
    value: str


def identifier(kind: str, raw: str) -> Identifier:
    """A normalised identifier; ISBN-10 and -13, with or without hyphens, are one."""
    if kind == "isbn":
        value = isbn13(raw)
        if not value:
            raise InvalidIdentifier(f"not a valid ISBN: {raw!r}")
        return Identifier("isbn", value)
    if kind == "issn":
        value = issn(raw)
        if not value:
            raise InvalidIdentifier(f"not a valid ISSN: {raw!r}")
        return Identifier("issn", value.replace("-", ""))
    if kind == "lccn":
        value = lccn(raw)
        if not value:
            raise InvalidIdentifier(f"not a valid LCCN: {raw!r}")
        return Identifier("lccn", value)
    if kind == "oclc":
        digits = "".join(ch for ch in raw if ch.isdigit()).lstrip("0")
        if not digits:
            raise InvalidIdentifier(f"not a valid OCLC number: {raw!r}")
        return Identifier("oclc", digits)
    raise InvalidIdentifier(f"unknown identifier kind {kind!r}")


def union_ids_for(conn: Connection, ident: Identifier) -> list[int]:
    rows = conn.execute(
        select(SR.c.union_record_id)
        .join(KEY, KEY.c.source_record_id == SR.c.id)
        .where(KEY.c.kind == ident.kind, KEY.c.value == ident.value, text(IDENTIFIER_KEYS))
        .where(SR.c.status == "active")
        .distinct()
    ).scalars()
    return sorted(uid for uid in rows if uid is not None)


def other_editions(conn: Connection, union_ids: list[int]) -> list[int]:
    """Union records of the same work: the same title key (folded filing title)."""
    keys = {
        k for k in conn.execute(select(UNION.c.title_key).where(UNION.c.id.in_(union_ids))).scalars() if k
    }
    if not keys:
        return []
    rows = conn.execute(
        select(UNION.c.id).where(UNION.c.title_key.in_(sorted(keys))).order_by(UNION.c.id).limit(MAX_EDITIONS)
    ).scalars()
    return [uid for uid in rows if uid not in union_ids]


def holdings_of(
    conn: Connection, union_ids: list[int], libraries: list[str] | None = None, region: str | None = None
) -> list[dict[str, Any]]:
    """For each union record: its description and, per holding library, the holdings."""
    if not union_ids:
        return []
    unions = {
        row.id: row
        for row in conn.execute(
            select(UNION.c.id, UNION.c.title, UNION.c.year, UNION.c.fields).where(UNION.c.id.in_(union_ids))
        )
    }
    query = (
        select(
            SR.c.union_record_id,
            SR.c.local_id,
            LIBRARY.c.code,
            LIBRARY.c.name_vi,
            LIBRARY.c.name_en,
            LIBRARY.c.region,
            LIBRARY.c.city,
            LIBRARY.c.opac_url_pattern,
            HOLDING.c.call_number,
            HOLDING.c.location,
            HOLDING.c.sublocation,
            HOLDING.c.barcode,
            HOLDING.c.copies,
            HOLDING.c.item_type,
            HOLDING.c.status,
        )
        .select_from(HOLDING)
        .join(SR, SR.c.id == HOLDING.c.source_record_id)
        .join(LIBRARY, LIBRARY.c.id == HOLDING.c.library_id)
        .where(SR.c.union_record_id.in_(union_ids), SR.c.status == "active")
        .order_by(LIBRARY.c.code, HOLDING.c.location, HOLDING.c.call_number, HOLDING.c.id)
    )
    if libraries:
        query = query.where(LIBRARY.c.code.in_([c.upper() for c in libraries]))
    if region:
        query = query.where(LIBRARY.c.region == region)
    per_union: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in conn.execute(query):
        library = per_union[row.union_record_id].setdefault(
            row.code,
            {
                "code": row.code,
                "name": row.name_vi,
                "name_en": row.name_en,
                "region": row.region,
                "city": row.city,
                "local_id": row.local_id,
                "opac_url": row.opac_url_pattern.replace("{id}", row.local_id)
                if row.opac_url_pattern
                else None,
                "copies": 0,
                "items": [],
            },
        )
        library["copies"] += row.copies if row.copies is not None else 1
        library["items"].append(
            {
                "call_number": row.call_number,
                "location": row.location,
                "sublocation": row.sublocation,
                "barcode": row.barcode,
                "copies": row.copies,
                "item_type": row.item_type,
                "status": row.status,
            }
        )
    out = []
    for uid in union_ids:
        union = unions.get(uid)
        if union is None:
            continue
        fields = union.fields or {}
        held = list(per_union.get(uid, {}).values())
        out.append(
            {
                "id": uid,
                "title": union.title,
                "year": union.year,
                "isbns": fields.get("isbns", []),
                "libraries": held,
                "library_count": len(held),
                "copies": sum(lib["copies"] for lib in held),
            }
        )
    return out


def lookup(
    conn: Connection,
    kind: str,
    value: str,
    libraries: list[str] | None = None,
    region: str | None = None,
    all_editions: bool = False,
) -> dict[str, Any]:
    """Who holds it: the union records an identifier (or a union record id) leads to, with holdings."""
    if kind == "id":
        try:
            union_ids = [int(value)]
        except ValueError:
            raise InvalidIdentifier(f"not a union record id: {value!r}") from None
        query = {"kind": "id", "value": str(union_ids[0])}
    else:
        ident = identifier(kind, value)
        union_ids = union_ids_for(conn, ident)
        query = {"kind": ident.kind, "value": ident.value}
    editions = other_editions(conn, union_ids) if all_editions and union_ids else []
    records = holdings_of(conn, union_ids, libraries, region)
    for record in records:
        record["match"] = "identifier"
    for record in holdings_of(conn, editions, libraries, region):
        record["match"] = "same work"
        records.append(record)
    return {
        "query": query,
        "records": records,
        "library_count": len({lib["code"] for r in records for lib in r["libraries"]}),
    }

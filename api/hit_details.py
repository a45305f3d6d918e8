"""What a hit of the search page shows beyond the search index's hit: per holding library, its name
in the page's language, its copies and, where the library's holdings profile gives an item status,
how many of them are available; and the record's subjects (links to searches).

The search index keeps copies per library only; the statuses and subjects are read from the
catalogue for the hits of one page (two queries for at most a page of records)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from catalog.lookup import UNION, holdings_of

AVAILABLE = "available"  # the status the ready holdings profiles give an item on the shelf
SUBJECTS_SHOWN = 4


@dataclass(frozen=True)
class LibraryCopies:
    code: str
    name: str
    copies: int
    available: int | None  # None: no item of this library says its status


@dataclass(frozen=True)
class HitDetails:
    libraries: list[LibraryCopies]
    subjects: list[str]


def hit_details(conn: Connection, union_ids: list[int], lang: str) -> dict[int, HitDetails]:
    """The details of a page's hits, by union record id."""
    if not union_ids:
        return {}
    held = availability(conn, union_ids, lang)
    rows = conn.execute(select(UNION.c.id, UNION.c.fields).where(UNION.c.id.in_(union_ids)))
    subjects = {row.id: list((row.fields or {}).get("subjects") or [])[:SUBJECTS_SHOWN] for row in rows}
    return {uid: HitDetails(held.get(uid, []), subjects.get(uid, [])) for uid in union_ids}


def availability(conn: Connection, union_ids: list[int], lang: str) -> dict[int, list[LibraryCopies]]:
    """For each union record: the holding libraries with their copies and available copies."""
    out: dict[int, list[LibraryCopies]] = {}
    for record in holdings_of(conn, union_ids):
        libraries = []
        for lib in record["libraries"]:
            items = lib["items"]
            known = [item for item in items if item["status"]]
            available = (
                sum(_copies(item) for item in known if item["status"].strip().lower() == AVAILABLE)
                if known
                else None
            )
            name = (lib["name_en"] or lib["name"]) if lang == "en" else lib["name"]
            libraries.append(LibraryCopies(lib["code"], name or lib["code"], lib["copies"], available))
        out[record["id"]] = libraries
    return out


def _copies(item: dict[str, object]) -> int:
    copies = item.get("copies")
    return copies if isinstance(copies, int) else 1

"""The overlap matrix: for two members, the union records both hold (read from the summary tables)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from catalog.analytics.members import Member, members
from catalog.analytics.tables import OVERLAP


def shared_counts(conn: Connection) -> dict[tuple[int, int], int]:
    """(member id, member id) -> union records both hold, both ways round; (a, a): the titles a holds."""
    out: dict[tuple[int, int], int] = {}
    for a, b, titles in conn.execute(select(OVERLAP.c.library_a, OVERLAP.c.library_b, OVERLAP.c.titles)):
        out[(a, b)] = out[(b, a)] = int(titles)
    return out


def _share(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def overlap(conn: Connection, library: Member | None = None, lang: str = "vi") -> dict[str, Any]:
    """The matrix of every member against every other (``matrix[i][j]``: titles held by both the
    i-th and the j-th of ``libraries``; the diagonal: the titles each holds); with ``library``,
    also that member against each other one (``pairs``), with the shares of both sides."""
    everyone = members(conn)
    shared = shared_counts(conn)
    titles = {m.id: shared.get((m.id, m.id), 0) for m in everyone}
    out: dict[str, Any] = {
        "library": library.code if library else None,
        "libraries": [{"code": m.code, "name": m.name(lang), "titles": titles[m.id]} for m in everyone],
        "matrix": [[shared.get((a.id, b.id), 0) for b in everyone] for a in everyone],
        "pairs": [],
    }
    if library is not None:
        mine = titles[library.id]
        out["pairs"] = [
            {
                "code": other.code,
                "name": other.name(lang),
                "titles": titles[other.id],
                "shared": shared.get((library.id, other.id), 0),
                "share_of_library": _share(shared.get((library.id, other.id), 0), mine),
                "share_of_other": _share(shared.get((library.id, other.id), 0), titles[other.id]),
            }
            for other in everyone
            if other.id != library.id
        ]
        out["pairs"].sort(key=lambda p: (-p["shared"], p["code"]))
    return out

"""The summary of a collection (the consortium's, or one member's): its titles, how many members hold
them (1, 2, 3 ... N), and its titles (and unique titles) by subject class, language, decade and
material type. Read from the summary tables."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, select

from catalog.analytics.dimensions import DIMENSIONS
from catalog.analytics.members import Member
from catalog.analytics.tables import CONSORTIUM, COUNT, HOLDERS


def _order(dimension: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Classes and decades in their own order (unknown last); languages and types by titles."""
    if dimension in ("class", "decade"):
        return sorted(entries, key=lambda e: (e["value"] == "", _sort_key(e["value"])))
    return sorted(entries, key=lambda e: (e["value"] == "", -e["titles"], e["value"]))


def _sort_key(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def summary(conn: Connection, library: Member | None = None, min_libraries: int = 2) -> dict[str, Any]:
    """The collection's figures. ``distribution``: titles by the number of members that hold them;
    ``held_by_at_least``: the titles held by ``min_libraries`` members or more; ``breakdowns``:
    dimension -> [{value ('' when unknown), titles, unique_titles}]."""
    scope = library.id if library is not None else CONSORTIUM
    rows = conn.execute(
        select(COUNT.c.dimension, COUNT.c.value, COUNT.c.titles, COUNT.c.unique_titles).where(
            COUNT.c.scope == scope
        )
    ).all()
    distribution: dict[int, int] = {}
    breakdowns: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for dimension, value, titles, unique in rows:
        if dimension == HOLDERS:
            distribution[int(value)] = int(titles)
        else:
            breakdowns[dimension].append(
                {"value": value, "titles": int(titles), "unique_titles": int(unique)}
            )
    titles = sum(distribution.values())
    unique = distribution.get(1, 0)
    return {
        "library": library.code if library is not None else None,
        "titles": titles,
        "unique_titles": unique,
        "min_libraries": min_libraries,
        "held_by_at_least": sum(n for k, n in distribution.items() if k >= min_libraries),
        "distribution": [{"libraries": k, "titles": distribution[k]} for k in sorted(distribution)],
        "breakdowns": {d: _order(d, breakdowns.get(d, [])) for d in DIMENSIONS},
    }

"""The four analytics reports as the API, the web pages and the command line give them: the figures
of :mod:`catalog.analytics` with how current they are, and the values' names in the reader's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from catalog.analytics import breakdowns, cache, growth, overlap, unique
from catalog.analytics.dimensions import CLASS
from catalog.analytics.members import Member, UnknownMember, member

from .labels import facet_value_label
from .subject_classes import class_label

REPORTS = ("summary", "overlap", "unique", "growth")
UNKNOWN = {"vi": "Không rõ", "en": "Unknown"}


def member_or_none(conn: Connection, code: str | None) -> Member | None:
    """The member ``code`` (:class:`UnknownMember` when there is none); None for the consortium."""
    return member(conn, code) if code else None


def _freshness(conn: Connection) -> dict[str, Any]:
    state = cache.status(conn)
    return {"refreshed_at": state.refreshed_at, "pending": state.pending}


def value_label(dimension: str, value: str, lang: str) -> str:
    if not value:
        return UNKNOWN.get(lang, UNKNOWN["vi"])
    return class_label(value, lang) if dimension == CLASS else facet_value_label(dimension, value, lang, {})


def summary_report(conn: Connection, library: Member | None, min_libraries: int, lang: str) -> dict[str, Any]:
    data = breakdowns.summary(conn, library, min_libraries)
    for dimension, entries in data["breakdowns"].items():
        for entry in entries:
            entry["label"] = value_label(dimension, entry["value"], lang)
    return {**data, **_freshness(conn)}


def overlap_report(conn: Connection, library: Member | None, lang: str) -> dict[str, Any]:
    return {**overlap.overlap(conn, library, lang), **_freshness(conn)}


def unique_report(
    conn: Connection, library: Member | None, after: int, limit: int, lang: str
) -> dict[str, Any]:
    titles = unique.unique_titles(conn, library, after, limit)
    return {
        "library": library.code if library is not None else None,
        "members": unique.unique_counts(conn, lang),
        "titles": titles,
        "next_after": titles[-1]["id"] if len(titles) == limit and titles else None,
        **_freshness(conn),
    }


def growth_report(conn: Connection, library: Member | None) -> dict[str, Any]:
    return growth.growth(conn, library)


__all__ = [
    "REPORTS",
    "UnknownMember",
    "growth_report",
    "member_or_none",
    "overlap_report",
    "summary_report",
    "unique_report",
    "value_label",
]

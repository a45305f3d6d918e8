"""The member libraries as the analytics name them: id, code and names, in the order of their codes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from catalog.models import Library

LIBRARY = Library.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Member:
    id: int
    code: str
    name_vi: str
    name_en: str | None

    def name(self, lang: str = "vi") -> str:
        return (self.name_en or self.name_vi) if lang == "en" else self.name_vi


class UnknownMember(LookupError):
    """No member library has the code asked for."""


def members(conn: Connection) -> list[Member]:
    rows = conn.execute(
        select(LIBRARY.c.id, LIBRARY.c.code, LIBRARY.c.name_vi, LIBRARY.c.name_en).order_by(LIBRARY.c.code)
    ).all()
    return [Member(r.id, r.code, r.name_vi, r.name_en) for r in rows]


def member(conn: Connection, code: str) -> Member:
    """The member ``code`` (as typed: case and spaces do not matter)."""
    wanted = code.strip().upper()
    for found in members(conn):
        if found.code.upper() == wanted:
            return found
    raise UnknownMember(f"no library {code.strip()[:40]!r}")

"""Manual match decisions: librarians' corrections of union records, which win over every rule.

A decision names its records by library code and local id (never by row ids), so that it holds for
the same records after they are ingested again, deleted and sent back, or after ``dedup --rebuild``:

* ``split``: side A's one record is kept apart from side B, the other members of its union record
  when it was split out: no rule merges it back into that cluster;
* ``merge``: every record of side A is taken as the same edition as every record of side B;
* ``never``: no record of side A is merged with a record of side B.

Where two decisions speak of one pair, the later one wins. The deduplication reads them through a
:class:`ManualIndex`: the verdict on a pair (stored as a match decision of rule ``manual``, so that
``--explain`` shows it), and the pairs the clustering must never put in one union record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from catalog.db import as_utc, rows_in
from catalog.dedup.rules import Decision
from catalog.models import Library, ManualDecision

MANUAL = ManualDecision.__table__  # type: ignore[attr-defined]
LIBRARY = Library.__table__  # type: ignore[attr-defined]

ACTIONS = ("split", "merge", "never")
RULE = "manual"
_VERBS = {"split": "split", "merge": "merged", "never": "kept apart"}

Key = tuple[str, str]  # (library code, local id)


@dataclass(frozen=True, slots=True)
class Correction:
    """A stored manual decision."""

    id: int
    action: str
    side_a: tuple[Key, ...]
    side_b: tuple[Key, ...]
    decided_by: str
    note: str | None
    decided_at: datetime

    @property
    def label(self) -> str:
        """How the decision reads in an explanation: "manual: split by VNU-LIC on 2026-12-07"."""
        when = (as_utc(self.decided_at) or self.decided_at).date().isoformat()
        text = f"{RULE}: {_VERBS[self.action]} by {self.decided_by} on {when}"
        return f"{text} ({self.note})" if self.note else text

    @property
    def accepted(self) -> bool:
        return self.action == "merge"

    def named(self) -> set[Key]:
        return {*self.side_a, *self.side_b}

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "side_a": [list(k) for k in self.side_a],
            "side_b": [list(k) for k in self.side_b],
            "decided_by": self.decided_by,
            "note": self.note,
            "decided_at": (as_utc(self.decided_at) or self.decided_at).isoformat(),
            "label": self.label,
        }


def _keys(value: Any) -> tuple[Key, ...]:
    return tuple(sorted({(str(code), str(local)) for code, local in value}))


def _correction(row: Any) -> Correction:
    return Correction(
        id=row.id,
        action=row.action,
        side_a=_keys(row.side_a),
        side_b=_keys(row.side_b),
        decided_by=row.decided_by,
        note=row.note,
        decided_at=row.decided_at,
    )


def load(conn: Connection) -> list[Correction]:
    """Every manual decision, oldest first."""
    return [_correction(r) for r in conn.execute(select(MANUAL).order_by(MANUAL.c.id))]


def get(conn: Connection, decision_id: int) -> Correction | None:
    row = conn.execute(select(MANUAL).where(MANUAL.c.id == decision_id)).first()
    return _correction(row) if row is not None else None


def touching(conn: Connection, keys: Iterable[Key]) -> list[Correction]:
    """The decisions that name one of ``keys``, oldest first."""
    wanted = set(keys)
    return [c for c in load(conn) if c.named() & wanted]


def store(
    conn: Connection,
    action: str,
    side_a: Iterable[Key],
    side_b: Iterable[Key],
    decided_by: str,
    note: str | None,
    decided_at: datetime,
) -> Correction:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    row = {
        "action": action,
        "side_a": [list(k) for k in _keys(side_a)],
        "side_b": [list(k) for k in _keys(side_b)],
        "decided_by": decided_by,
        "note": note or None,
        "decided_at": decided_at,
    }
    new_id = conn.execute(MANUAL.insert().values(**row)).inserted_primary_key[0]  # type: ignore[index]
    return Correction(
        id=new_id,
        action=action,
        side_a=_keys(row["side_a"]),
        side_b=_keys(row["side_b"]),
        decided_by=decided_by,
        note=row["note"],
        decided_at=decided_at,
    )


def delete(conn: Connection, decision_id: int) -> None:
    conn.execute(MANUAL.delete().where(MANUAL.c.id == decision_id))


def resolve(conn: Connection, keys: Iterable[Key]) -> dict[Key, int]:
    """The active source records that ``keys`` name now: key -> record id."""
    by_code: dict[str, list[str]] = defaultdict(list)
    for code, local in set(keys):
        by_code[code].append(local)
    if not by_code:
        return {}
    libraries = dict(
        conn.execute(select(LIBRARY.c.code, LIBRARY.c.id).where(LIBRARY.c.code.in_(sorted(by_code)))).all()
    )
    out: dict[Key, int] = {}
    for code, locals_ in by_code.items():
        if code not in libraries:
            continue
        sql = (
            "SELECT local_id, id FROM source_record WHERE library_id = {mark} AND status = 'active' "
            "AND local_id IN ({ids})"
        )
        for local, rid in rows_in(conn, sql, sorted(locals_), before=(libraries[code],)):
            out[(code, local)] = rid
    return out


@dataclass
class ManualIndex:
    """The manual decisions in force on the catalogue's active records, as the clustering reads them."""

    verdicts: dict[tuple[int, int], Decision] = field(default_factory=dict)
    partners: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def load(cls, conn: Connection) -> ManualIndex:
        index = cls()
        corrections = load(conn)
        if not corrections:
            return index
        ids = resolve(conn, {k for c in corrections for k in c.named()})
        for c in corrections:  # oldest first: a later decision on a pair replaces an earlier one
            decision = Decision(c.accepted, RULE, c.label)
            for ka in c.side_a:
                for kb in c.side_b:
                    a, b = ids.get(ka), ids.get(kb)
                    if a is None or b is None or a == b:
                        continue
                    index.verdicts[(min(a, b), max(a, b))] = decision
                    index.partners[a].add(b)
                    index.partners[b].add(a)
        return index

    @property
    def records(self) -> set[int]:
        return set(self.partners)

    def get(self, a: int, b: int) -> Decision | None:
        return self.verdicts.get((min(a, b), max(a, b)))

    def pairs_of(self, ids: Iterable[int]) -> set[tuple[int, int]]:
        """Every pair with a manual verdict that has one of ``ids`` at one end."""
        return {(min(a, b), max(a, b)) for a in ids for b in self.partners.get(a, ())}

    def apart_among(self, nodes: Sequence[int] | set[int]) -> dict[int, set[int]]:
        """Node -> the nodes it must never share a union record with, among ``nodes``."""
        inside = set(nodes)
        out: dict[int, set[int]] = {}
        for a in inside & self.partners.keys():
            others = {b for b in self.partners[a] if b in inside and not self.get(a, b).accepted}  # type: ignore[union-attr]
            if others:
                out[a] = others
        return out

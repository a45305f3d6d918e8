"""Librarians correct union records: split a record out, merge two union records, keep two apart,
undo a correction; who may do which; and the decisions exported and imported with the catalogue.

Each correction is stored as a manual match decision (catalog.dedup.manual) and the union records
of the records it names are brought up to date at once, on the caller's transaction, with the
search documents of an engine that writes in it (see catalog.updates). An admin may make any
correction; a library may split its own record, keep its own record apart from another, merge two
union records when it holds a member of one of them, and undo its own corrections.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from catalog.db import as_utc
from catalog.dedup import manual
from catalog.dedup.manual import Correction, Key
from catalog.models import Library, SourceRecord, UnionRecord, UnionTombstone, utcnow
from catalog.search.engine import SearchEngine
from catalog.updates import CatalogueUpdater

SR = SourceRecord.__table__  # type: ignore[attr-defined]
UNION = UnionRecord.__table__  # type: ignore[attr-defined]
LIBRARY = Library.__table__  # type: ignore[attr-defined]
TOMB = UnionTombstone.__table__  # type: ignore[attr-defined]

ADMIN = "admin"
EXPORT_FORMAT = "unioncat-manual-decisions"
MAX_NOTE = 1000
MAX_ID = 2_147_483_647

Target = int | Key  # a union record id, or a source record as (library code, local id)


class CorrectionError(ValueError):
    """A correction that cannot be made, with the reason (a bad request)."""


class NotFound(CorrectionError):
    """A union record, source record or decision that does not exist."""


class Forbidden(CorrectionError):
    """A library asked for a correction of records it does not hold."""


@dataclass
class Outcome:
    """A correction made (or undone), and the union records it changed."""

    correction: Correction
    undone: bool = False
    changed: set[int] = field(default_factory=set)
    unions: list[int] = field(default_factory=list)  # where the records it names are now

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.correction.as_dict(),
            "undone": self.undone,
            "union_records": self.unions,
            "union_records_changed": sorted(self.changed),
        }


def parse_target(text: str) -> Target:
    """``123`` (a union record) or ``CODE:LOCAL_ID`` (a library's record)."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        number = int(text)
        if not 0 < number <= MAX_ID:
            raise NotFound(f"no union record {text}")
        return number
    code, sep, local = text.partition(":")
    if not sep or not code or not local:
        raise CorrectionError(f"{text!r} is neither a union record id nor CODE:LOCAL_ID")
    return (code.strip().upper(), local)


def target_text(target: Target) -> str:
    return str(target) if isinstance(target, int) else f"{target[0]}:{target[1]}"


# ------------------------------------------------------------------------------------ reading
def _members(conn: Connection, union_id: int) -> list[tuple[Key, int]]:
    if (
        not 0 < union_id <= MAX_ID
        or conn.execute(select(UNION.c.id).where(UNION.c.id == union_id)).first() is None
    ):
        raise NotFound(f"no union record {union_id}")
    rows = conn.execute(
        select(LIBRARY.c.code, SR.c.local_id, SR.c.id)
        .join(LIBRARY, LIBRARY.c.id == SR.c.library_id)
        .where(SR.c.union_record_id == union_id, SR.c.status == "active")
        .order_by(LIBRARY.c.code, SR.c.local_id)
    ).all()
    return [((code, local), rid) for code, local, rid in rows]


def _source(conn: Connection, key: Key) -> tuple[int, int | None]:
    """(record id, union record id) of an active source record."""
    _checked(key)
    row = conn.execute(
        select(SR.c.id, SR.c.union_record_id)
        .join(LIBRARY, LIBRARY.c.id == SR.c.library_id)
        .where(LIBRARY.c.code == key[0], SR.c.local_id == key[1], SR.c.status == "active")
    ).first()
    if row is None:
        raise NotFound(f"library {key[0]} has no record {key[1]!r}")
    return row[0], row[1]


def _side(conn: Connection, target: Target) -> list[Key]:
    if isinstance(target, int):
        return [key for key, _rid in _members(conn, target)]
    _source(conn, target)
    return [target]


def _where(conn: Connection, keys: Iterable[Key]) -> list[int]:
    ids = manual.resolve(conn, keys)
    if not ids:
        return []
    return sorted(
        {
            u
            for (u,) in conn.execute(
                select(SR.c.union_record_id).where(
                    SR.c.id.in_(sorted(ids.values())), SR.c.union_record_id.is_not(None)
                )
            )
        }
    )


def merged_into(conn: Connection, union_id: int, hops: int = 20) -> int | None:
    """The union record that a deleted union record's members went into (following later merges),
    or None when it was really deleted or is not deleted at all."""
    seen = {union_id}
    current = union_id
    for _ in range(hops):
        if not 0 < current <= MAX_ID:
            return None
        target = conn.execute(select(TOMB.c.merged_into).where(TOMB.c.id == current)).scalar()
        if target is None or target in seen:
            return None
        if conn.execute(select(UNION.c.id).where(UNION.c.id == target)).first() is not None:
            return int(target)
        seen.add(target)
        current = target
    return None


# ---------------------------------------------------------------------------------- who may
def check_allowed(conn: Connection, who: str, action: str, targets: Sequence[Target]) -> None:
    """Raise Forbidden unless ``who`` (a library code, or ``admin``) may make this correction: a
    library splits its own record, keeps its own record (or a union record it holds a member of)
    apart from another, and merges two union records when it holds a member of one of them."""
    if who == ADMIN:
        return
    own = any(not isinstance(t, int) and t[0] == who for t in targets)
    holds = any(isinstance(t, int) and _holds(conn, who, t) for t in targets)
    if action == "split" and not own:
        raise Forbidden("only an admin or the library whose record it is may split it")
    if action == "never" and not (own or holds):
        raise Forbidden(f"{who} holds none of these records: only an admin may keep them apart")
    if action == "merge" and not holds:
        raise Forbidden(f"{who} holds no member of either union record: only an admin may merge them")


def _holds(conn: Connection, code: str, union_id: int) -> bool:
    return any(key[0] == code for key, _rid in _members(conn, union_id))


# -------------------------------------------------------------------------------- correcting
def _note(note: str | None) -> str | None:
    if note is not None and len(note) > MAX_NOTE:
        raise CorrectionError(f"the note is longer than {MAX_NOTE} characters")
    if note and any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in note):
        raise CorrectionError("the note holds control characters")
    return note.strip() or None if note else None


def _checked(key: Key) -> Key:
    """A record's key, refused when no record can have it (control characters, too long)."""
    code, local = key
    if not code or not local or len(code) > 16 or len(local) > 255:
        raise NotFound(f"library {code} has no record {local!r}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in code + local):
        raise CorrectionError("a library code or local id holds control characters")
    return key


def _apply(
    conn: Connection,
    correction: Correction,
    ignore_isbns: Iterable[str],
    search: SearchEngine | None,
    undone: bool = False,
) -> Outcome:
    ids = manual.resolve(conn, correction.named())
    updater = CatalogueUpdater(conn, ignore_isbns, search)
    updater.records_changed(sorted(ids.values()))
    return Outcome(
        correction, undone, set(updater.summary.changed_union_ids), _where(conn, correction.named())
    )


def split(
    conn: Connection,
    key: Key,
    decided_by: str,
    note: str | None = None,
    ignore_isbns: Iterable[str] = (),
    search: SearchEngine | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Take a library's record out of its union record: it becomes a union record of its own, and no
    rule merges it back with the members it had."""
    check_allowed(conn, decided_by, "split", [key])
    _rid, union_id = _source(conn, key)
    others = [k for k, _ in _members(conn, union_id)] if union_id is not None else []
    others = [k for k in others if k != key]
    if not others:
        raise CorrectionError(f"{key[0]}:{key[1]} is already a union record of its own")
    correction = manual.store(conn, "split", [key], others, decided_by, _note(note), now or utcnow())
    return _apply(conn, correction, ignore_isbns, search)


def merge(
    conn: Connection,
    union_a: int,
    union_b: int,
    decided_by: str,
    note: str | None = None,
    ignore_isbns: Iterable[str] = (),
    search: SearchEngine | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Put every member of two union records in one. Refused where two records of one library would
    meet: a union record holds one record per library."""
    if union_a == union_b:
        raise CorrectionError(f"union records to merge must differ (both are {union_a})")
    side_a = [k for k, _ in _members(conn, union_a)]
    side_b = [k for k, _ in _members(conn, union_b)]
    check_allowed(conn, decided_by, "merge", [union_a, union_b])
    both = sorted({k[0] for k in side_a} & {k[0] for k in side_b})
    if both:
        raise CorrectionError(
            f"union records {union_a} and {union_b} both hold a record of {', '.join(both)}: "
            "a union record holds one record per library"
        )
    correction = manual.store(conn, "merge", side_a, side_b, decided_by, _note(note), now or utcnow())
    return _apply(conn, correction, ignore_isbns, search)


def keep_apart(
    conn: Connection,
    a: Target,
    b: Target,
    decided_by: str,
    note: str | None = None,
    ignore_isbns: Iterable[str] = (),
    search: SearchEngine | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Never merge these two (union records or source records); split them now if they are one."""
    if a == b:
        raise CorrectionError(f"{target_text(a)} cannot be kept apart from itself")
    side_a, side_b = _side(conn, a), _side(conn, b)
    check_allowed(conn, decided_by, "never", [a, b])
    overlap = sorted(set(side_a) & set(side_b))
    if overlap:
        raise CorrectionError(f"{overlap[0][0]}:{overlap[0][1]} is on both sides")
    if len(side_a) == len(side_b) == 1 and side_a[0][0] == side_b[0][0]:
        raise CorrectionError("records of one library are never merged: nothing to keep apart")
    correction = manual.store(conn, "never", side_a, side_b, decided_by, _note(note), now or utcnow())
    return _apply(conn, correction, ignore_isbns, search)


def undo(
    conn: Connection,
    decision_id: int,
    decided_by: str,
    ignore_isbns: Iterable[str] = (),
    search: SearchEngine | None = None,
) -> Outcome:
    """Delete a manual decision: the rules decide its records again."""
    correction = manual.get(conn, decision_id) if 0 < decision_id <= MAX_ID else None
    if correction is None:
        raise NotFound(f"no manual decision {decision_id}")
    if decided_by != ADMIN and correction.decided_by != decided_by:
        raise Forbidden(f"only an admin or {correction.decided_by} may undo decision {decision_id}")
    manual.delete(conn, decision_id)
    return _apply(conn, correction, ignore_isbns, search, undone=True)


def listed(conn: Connection, library: str | None = None) -> list[dict[str, Any]]:
    """The manual decisions (those naming a record of ``library``, when given), oldest first."""
    return [
        c.as_dict()
        for c in manual.load(conn)
        if library is None or c.decided_by == library or any(k[0] == library for k in c.named())
    ]


# ------------------------------------------------------------------------------ export, import
def export_decisions(conn: Connection) -> dict[str, Any]:
    """Every manual decision, keyed by library code and local id: what a full reload needs back."""
    decisions = []
    for c in manual.load(conn):
        entry = c.as_dict()
        entry.pop("label")
        decisions.append(entry)
    return {"format": EXPORT_FORMAT, "version": 1, "decisions": decisions}


def _read_side(value: Any, where: str) -> list[Key]:
    if not isinstance(value, list) or not value:
        raise CorrectionError(f"{where}: a side must be a non-empty list of [library code, local id]")
    keys = []
    for item in value:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not all(isinstance(x, str) and x and len(x) <= 255 for x in item)
        ):
            raise CorrectionError(f"{where}: {item!r} is not [library code, local id]")
        keys.append(_checked((item[0], item[1])))
    return keys


def import_decisions(
    conn: Connection,
    data: Any,
    ignore_isbns: Iterable[str] = (),
    search: SearchEngine | None = None,
) -> tuple[dict[str, int], set[int]]:
    """Store the decisions of an export (those already stored are skipped) and bring the union
    records of the records they name up to date: the counts, and the union records changed.
    Records not yet in the catalogue are decided when they arrive."""
    if (
        not isinstance(data, dict)
        or data.get("format") != EXPORT_FORMAT
        or not isinstance(data.get("decisions"), list)
    ):
        raise CorrectionError(f"not an export of manual decisions (format {EXPORT_FORMAT!r} expected)")
    existing = {
        (c.action, c.side_a, c.side_b, c.decided_by, (as_utc(c.decided_at) or c.decided_at).isoformat())
        for c in manual.load(conn)
    }
    parsed = []
    for n, entry in enumerate(data["decisions"], 1):
        where = f"decision {n}"
        if not isinstance(entry, dict) or entry.get("action") not in manual.ACTIONS:
            raise CorrectionError(f"{where}: action must be one of {', '.join(manual.ACTIONS)}")
        side_a, side_b = _read_side(entry.get("side_a"), where), _read_side(entry.get("side_b"), where)
        by = entry.get("decided_by")
        if not isinstance(by, str) or not by or len(by) > 32:
            raise CorrectionError(f"{where}: decided_by must be a library code or 'admin'")
        note = entry.get("note")
        if note is not None and not isinstance(note, str):
            raise CorrectionError(f"{where}: note must be text")
        try:
            when = as_utc(datetime.fromisoformat(str(entry.get("decided_at"))))
        except ValueError:
            raise CorrectionError(f"{where}: decided_at must be an ISO 8601 date and time") from None
        parsed.append((entry["action"], side_a, side_b, by, _note(note), when))
    added: list[Correction] = []
    for action, side_a, side_b, by, note, when in parsed:
        marker = (action, tuple(sorted(set(side_a))), tuple(sorted(set(side_b))), by, when.isoformat())  # type: ignore[union-attr]
        if marker in existing:
            continue
        existing.add(marker)
        added.append(manual.store(conn, action, side_a, side_b, by, note, when))  # type: ignore[arg-type]
    ids = manual.resolve(conn, {k for c in added for k in c.named()})
    changed: set[int] = set()
    if ids:
        updater = CatalogueUpdater(conn, ignore_isbns, search)
        updater.records_changed(sorted(ids.values()))
        changed = set(updater.summary.changed_union_ids)
    counts = {"decisions": len(parsed), "added": len(added), "union_records_changed": len(changed)}
    return counts, changed

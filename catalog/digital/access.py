"""Who may read a digital object: its file, its page images and the text inside it (search snippets
included). One rule, used by every route that hands out any of these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from catalog.models import DigitalAccess, DigitalStatus


@dataclass(frozen=True)
class Reader:
    """Who asks. ``library_id``: the member library the request is made for (its token, a librarian
    signed in, a reader account of that member, or one of its IP ranges); ``admin``: the consortium's
    administrator."""

    library_id: int | None = None
    admin: bool = False

    @property
    def member(self) -> bool:
        return self.library_id is not None


ANONYMOUS = Reader()


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def effective_access(access: str, embargo_until: datetime | None, now: datetime | None = None) -> str:
    """The rule in force now: an embargo that has passed is open."""
    if access == DigitalAccess.EMBARGO:
        until = _aware(embargo_until)
        if until is not None and (now or datetime.now(UTC)) >= until:
            return DigitalAccess.OPEN.value
    return str(access)


def may_read(obj: Any, reader: Reader, now: datetime | None = None) -> bool:
    """Whether ``reader`` may read ``obj`` (a DigitalObject or a row with the same attributes). Its own
    library and the administrator always may, a withdrawn object nobody else."""
    if reader.admin or (reader.library_id is not None and reader.library_id == obj.library_id):
        return True
    if obj.status != DigitalStatus.ACTIVE:
        return False
    rule = effective_access(obj.access, obj.embargo_until, now)
    if rule == DigitalAccess.OPEN:
        return True
    if rule == DigitalAccess.MEMBERS:
        return reader.member
    return False


def parse_rule(rule: str) -> tuple[str, datetime | None]:
    """``open``, ``members`` or ``embargo:YYYY-MM-DD`` (open from that day, 00:00 UTC) as the access
    and the embargo's end; ValueError with the reason for anything else."""
    text = rule.strip().lower()
    if text in (DigitalAccess.OPEN, DigitalAccess.MEMBERS):
        return text, None
    kind, _, day = text.partition(":")
    if kind == DigitalAccess.EMBARGO and not day.strip():
        raise ValueError("an embargo needs the date it ends: embargo:YYYY-MM-DD")
    if kind == DigitalAccess.EMBARGO:
        try:
            return DigitalAccess.EMBARGO.value, datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(f"the embargo's end {day!r} is not a date YYYY-MM-DD") from None
    raise ValueError(f"unknown access {rule[:40]!r}; use open, members or embargo:YYYY-MM-DD")


def rule_text(access: str, embargo_until: datetime | None) -> str:
    """The rule as :func:`parse_rule` reads it."""
    if access == DigitalAccess.EMBARGO and embargo_until is not None:
        return f"embargo:{embargo_until:%Y-%m-%d}"
    return str(access)

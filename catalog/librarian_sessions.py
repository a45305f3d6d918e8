"""Librarians' sessions on the web pages, kept in the catalogue: every replica of the service knows
them, a restart keeps them, and logging out ends them for every replica at once. A session id is
random; only its SHA-256 is stored. A session speaks for the library of the token it was opened
with, only while that token is not revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlmodel import Session

from catalog.db import as_utc
from catalog.models import ApiToken, LibrarianSession, Library, utcnow
from catalog.tokens import Principal


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(db: Session, token_id: int, lifetime: timedelta) -> str:
    """A new session for the library whose token ``token_id`` signed in; its id (shown once)."""
    now = utcnow()
    db.execute(delete(LibrarianSession).where(LibrarianSession.expires_at <= now))  # type: ignore[arg-type]
    session_id = secrets.token_urlsafe(32)
    db.add(LibrarianSession(id_hash=_hash(session_id), token_id=token_id, expires_at=now + lifetime))
    return session_id


def principal(db: Session, session_id: str) -> Principal | None:
    """The library the open, unexpired session ``session_id`` speaks for, if its token is not revoked."""
    row = db.execute(
        select(LibrarianSession.expires_at, ApiToken.id, ApiToken.revoked_at, Library.code)
        .join(ApiToken, ApiToken.id == LibrarianSession.token_id)  # type: ignore[arg-type]
        .join(Library, Library.id == ApiToken.library_id)  # type: ignore[arg-type]
        .where(LibrarianSession.id_hash == _hash(session_id))
    ).first()
    if row is None:
        return None
    expires_at, token_id, revoked_at, code = row
    if revoked_at is not None or as_utc(expires_at) <= utcnow():  # type: ignore[operator]
        return None
    return Principal(admin=False, library_code=code, token_id=token_id)


def close_session(db: Session, session_id: str) -> None:
    db.execute(delete(LibrarianSession).where(LibrarianSession.id_hash == _hash(session_id)))  # type: ignore[arg-type]

"""API tokens: one or more per member library, created by an admin, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from catalog.libraries import get_library
from catalog.models import ApiToken, Library, utcnow

PREFIX = "uc_"


class TokenError(ValueError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Principal:
    """Who a request speaks for: an admin, or one library."""

    admin: bool
    library_code: str | None = None
    token_id: int | None = None

    def may_write(self, library_code: str) -> bool:
        return self.admin or self.library_code == library_code


def create_token(session: Session, library_code: str, name: str = "") -> tuple[ApiToken, str]:
    """A new token for the library: (its record, the token itself, which is never stored)."""
    library = get_library(session, library_code)
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(library_id=library.id, name=name[:200], prefix=token[:10], token_hash=_hash(token))
    session.add(record)
    session.flush()
    return record, token


def revoke(session: Session, token_id: int) -> ApiToken:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise TokenError(f"no token {token_id}")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        session.add(record)
        session.flush()
    return record


def list_tokens(session: Session, library_code: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(ApiToken, Library.code).join(Library, Library.id == ApiToken.library_id).order_by(ApiToken.id)
    )
    if library_code:
        query = query.where(Library.code == get_library(session, library_code).code)
    return [token_dict(token, code) for token, code in session.execute(query).all()]


def token_dict(token: ApiToken, library_code: str) -> dict[str, Any]:
    return {
        "id": token.id,
        "library": library_code,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat() if token.created_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked": token.revoked_at is not None,
    }


def authenticate(session: Session, presented: str, admin_token: str | None) -> Principal | None:
    """The principal a bearer token speaks for, or None (unknown or revoked)."""
    if admin_token and hmac.compare_digest(presented.encode(), admin_token.encode()):
        return Principal(admin=True)
    if not presented.startswith(PREFIX):
        return None
    row = session.execute(
        select(ApiToken, Library.code)
        .join(Library, Library.id == ApiToken.library_id)
        .where(ApiToken.token_hash == _hash(presented))
    ).first()
    if row is None:
        return None
    token, code = row
    if token.revoked_at is not None:
        return None
    return Principal(admin=False, library_code=code, token_id=token.id)

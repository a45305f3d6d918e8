"""Librarians' sessions on the web pages: the cookie holds a random session id signed with the
service's key, never the library's API token. The sessions themselves are kept in the catalogue
(:mod:`catalog.librarian_sessions`), so that every replica of the service knows them and a restart
keeps them; every request checks the token behind a session again, so a revoked token ends its
sessions at once, and logging out ends the session on the server, so a copied cookie is worth
nothing afterwards."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import librarian_sessions
from catalog.db import session_scope
from catalog.tokens import Principal

COOKIE = "unioncat_session"
LIFETIME_S = 8 * 3600


class Sessions:
    def __init__(self, key: bytes, engine: Engine) -> None:
        self._key = key
        self._engine = engine

    def _sign(self, session_id: str) -> str:
        digest = hmac.new(self._key, session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def start(self, who: Principal) -> str:
        """A new session for the library ``who`` (signed in with one of its tokens); the cookie's value."""
        assert who.token_id is not None and who.library_code is not None
        with session_scope(self._engine) as db:
            session_id = librarian_sessions.open_session(db, who.token_id, timedelta(seconds=LIFETIME_S))
        return f"{session_id}.{self._sign(session_id)}"

    def principal(self, cookie: str | None) -> Principal | None:
        """The library the session ``cookie`` names speaks for, if the cookie is signed by us and the
        session is open, unexpired and its token not revoked."""
        session_id = self._verified(cookie)
        if session_id is None:
            return None
        with Session(self._engine) as db:
            return librarian_sessions.principal(db, session_id)

    def end(self, cookie: str | None) -> None:
        session_id = self._verified(cookie)
        if session_id:
            with session_scope(self._engine) as db:
                librarian_sessions.close_session(db, session_id)

    def _verified(self, cookie: str | None) -> str | None:
        session_id, _, signature = (cookie or "").partition(".")
        if not session_id or not hmac.compare_digest(
            self._sign(session_id).encode(), signature.encode("utf-8", "replace")
        ):
            return None
        return session_id

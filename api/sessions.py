"""Librarians' sessions on the web pages: the cookie holds a random session id signed with the
service's key, never the library's API token. The token stays on the server with the session,
and every request checks it again, so a revoked token ends its sessions at once; logging out ends
the session on the server, so a copied cookie is worth nothing afterwards. Sessions live in the
service's memory: a restart signs everyone out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

COOKIE = "unioncat_session"
LIFETIME_S = 8 * 3600


@dataclass(frozen=True, slots=True)
class _Session:
    token: str
    expires: float


class Sessions:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self._open: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def _sign(self, sid: str) -> str:
        digest = hmac.new(self._key, sid.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def start(self, token: str) -> str:
        """A new session for the library whose ``token`` signed in; the cookie's value."""
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self._open = {k: s for k, s in self._open.items() if s.expires > now}  # the expired go
            self._open[sid] = _Session(token, now + LIFETIME_S)
        return f"{sid}.{self._sign(sid)}"

    def token(self, cookie: str | None) -> str | None:
        """The token of the session ``cookie`` names, if it is signed by us, open and not expired."""
        sid = self._verified(cookie)
        with self._lock:
            found = self._open.get(sid) if sid else None
        return found.token if found is not None and found.expires > time.time() else None

    def end(self, cookie: str | None) -> None:
        sid = self._verified(cookie)
        if sid:
            with self._lock:
                self._open.pop(sid, None)

    def _verified(self, cookie: str | None) -> str | None:
        sid, _, signature = (cookie or "").partition(".")
        if not sid or not hmac.compare_digest(self._sign(sid).encode(), signature.encode("utf-8", "replace")):
            return None
        return sid

"""CSRF tokens of the librarian's forms (sign in, upload, sign out), beside the Origin check.

Every form carries a hidden field :data:`FIELD` whose value is an HMAC, with the service's key, of
the browser's secret cookie: the session cookie once signed in (so the token is per session and
changes with it), and before that a random pre-session cookie :data:`COOKIE` that the sign-in page
sets. Another site can make the browser send the cookies, never read them, so it cannot write the
field: a POST whose field is missing or wrong is refused with 403. Nothing is stored on the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request, Response

from .sessions import COOKIE as SESSION_COOKIE

COOKIE = "unioncat_csrf"
FIELD = "csrf_token"


def _secret(request: Request) -> str | None:
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return f"session:{session}"
    anonymous = request.cookies.get(COOKIE)
    return f"anonymous:{anonymous}" if anonymous else None


def _mac(key: bytes, secret: str) -> str:
    digest = hmac.new(key, f"csrf:{secret}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _key(request: Request) -> bytes:
    return request.app.state.settings.signing_key()  # type: ignore[no-any-return]


def form_token(request: Request) -> str:
    """The value of the hidden field for the forms of this page. Without any cookie yet, a
    pre-session cookie is made, for :func:`set_cookie` to set on the page."""
    secret = _secret(request)
    if secret is None:
        anonymous = secrets.token_urlsafe(24)
        request.state.new_csrf_cookie = anonymous
        secret = f"anonymous:{anonymous}"
    return _mac(_key(request), secret)


def set_cookie(request: Request, response: Response) -> None:
    """Set the pre-session cookie :func:`form_token` made for this page, if it made one."""
    anonymous = getattr(request.state, "new_csrf_cookie", None)
    if anonymous:
        response.set_cookie(
            COOKIE, anonymous, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )


def valid(request: Request, presented: str | None) -> bool:
    """Whether ``presented`` (the form's field) is the token of the browser's cookies."""
    secret = _secret(request)
    if secret is None or not presented:
        return False
    return hmac.compare_digest(_mac(_key(request), secret).encode(), presented.encode("utf-8", "replace"))

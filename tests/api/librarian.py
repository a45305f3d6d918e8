"""Signing in on the librarians' pages as a browser does: with the CSRF field the page gives."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response


def form_token(client: TestClient, session: str | None = None, base: str = "") -> str:
    """The CSRF field of the librarian's forms, as the page gives it (with the session ``session``)."""
    if session is not None:
        client.cookies.set("unioncat_session", session)
    page = client.get(f"{base}/librarian")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def sign_in(client: TestClient, token: str, query: str = "") -> Response:
    """POST the login form with ``token`` (``query``: e.g. ``?lang=vi``); the answer, not followed."""
    return client.post(
        f"/librarian/login{query}",
        data={"token": token, "csrf_token": form_token(client)},
        follow_redirects=False,
    )

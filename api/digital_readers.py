"""Who asks for a digital object, as :class:`catalog.digital.access.Reader`: a member library's
token (``Authorization: Bearer``), a librarian signed in on the web pages, or a reader on one of a
member's networks (its IP ranges, ``UNIONCAT_DIGITAL_MEMBER_NETWORKS``, configured per library);
the administrator's token reads everything. Everyone else is anonymous. Also the app's digital
library state: its object storage and its usage counter, made on first use."""

from __future__ import annotations

import ipaddress
import threading
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session, select

from catalog import tokens
from catalog.digital.access import ANONYMOUS, Reader
from catalog.digital.storage import ObjectStorage, open_storage
from catalog.digital.usage import UsageCounter
from catalog.models import Library
from catalog.settings import Settings

from .deps import PrincipalDep, SessionDep, SettingsDep
from .sessions import COOKIE, Sessions

_STATE_LOCK = threading.Lock()


def digital_storage(request: Request) -> ObjectStorage:
    state = request.app.state
    with _STATE_LOCK:
        if getattr(state, "digital_storage", None) is None:
            state.digital_storage = open_storage(state.settings)
    return state.digital_storage  # type: ignore[no-any-return]


def usage_counter(request: Request) -> UsageCounter:
    state = request.app.state
    with _STATE_LOCK:
        if getattr(state, "digital_usage", None) is None:
            state.digital_usage = UsageCounter(state.engine)
    return state.digital_usage  # type: ignore[no-any-return]


StorageDep = Annotated[ObjectStorage, Depends(digital_storage)]
UsageDep = Annotated[UsageCounter, Depends(usage_counter)]


def member_of_network(settings: Settings, address: str | None) -> str | None:
    """The member library whose configured networks hold ``address``, if any."""
    if not address or not settings.digital_member_networks:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    for code, networks in sorted(settings.digital_member_networks.items()):
        if any(ip in ipaddress.ip_network(n, strict=False) for n in networks):
            return code
    return None


def reader(request: Request, db: SessionDep, settings: SettingsDep, who: PrincipalDep) -> Reader:
    """The reader a request is made by (a wrong token is a 401, from :func:`api.deps.principal`)."""
    principal = who or _librarian(request)
    if principal is not None and principal.admin:
        return Reader(admin=True)
    code = principal.library_code if principal is not None else None
    code = code or member_of_network(settings, request.client.host if request.client else None)
    if code is None:
        return ANONYMOUS
    library_id = db.exec(select(Library.id).where(Library.code == code)).first()
    return Reader(library_id=library_id) if library_id is not None else ANONYMOUS


def _librarian(request: Request) -> tokens.Principal | None:
    sessions: Sessions = request.app.state.sessions
    cookie = request.cookies.get(COOKIE)
    return sessions.principal(cookie) if cookie else None


ReaderDep = Annotated[Reader, Depends(reader)]


def requester_code(db: Session, reader: Reader) -> str:
    """The member a reader's use is counted for ('' for none, or the administrator)."""
    if reader.library_id is None:
        return ""
    library = db.get(Library, reader.library_id)
    return library.code if library is not None else ""


def client_key(request: Request) -> str:
    """A client for the double-click rule: its address and browser (COUNTER's fallback session)."""
    host = request.client.host if request.client else ""
    return f"{host}|{request.headers.get('user-agent', '')[:200]}"


def with_urls(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """An object's dict with the addresses of its file and of its reader page."""
    data["file_url"] = str(request.url_for("digital_file", object_id=data["id"]))
    data["reader_url"] = str(request.url_for("digital_reader", object_id=data["id"]))
    return data

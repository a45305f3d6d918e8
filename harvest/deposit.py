"""A member's file into the digital library, from the command line, the API and the librarian's
page alike: checked (type by content, size, a PDF opened in a bounded child process), stored,
recorded for one of the library's own records and committed, then its full text queued for
extraction. Each refusal says why, and nothing is half-stored: the row is committed only once its
bytes are in the storage (a refused file is never stored)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.db import session_scope
from catalog.digital.access import parse_rule
from catalog.digital.objects import (
    Checked,
    DigitalError,
    add_file,
    change,
    check_file,
    find_record,
    replace_file,
    withdraw,
)
from catalog.digital.storage import ObjectStorage, StorageError, content_key
from catalog.digital.validate import DEFAULT_MAX_PAGES
from catalog.libraries import UnknownLibrary, get_library
from catalog.models import DigitalObject, DigitalStatus, Library
from harvest.queue import enqueue_text

log = logging.getLogger("unioncat.deposit")


@dataclass(frozen=True)
class Deposited:
    object_id: int
    new: bool
    text_job: int | None


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pages: int = DEFAULT_MAX_PAGES


def deposit(
    engine: Engine,
    storage: ObjectStorage,
    limits: Limits,
    code: str,
    local_id: str,
    path: Path,
    filename: str | None,
    *,
    rule: str = "open",
    label: str | None = None,
    declared_type: str | None = None,
) -> Deposited:
    """Deposit the file at ``path`` for record ``local_id`` of library ``code``; DigitalError with
    the reason when it is refused."""
    try:
        access, embargo_until = parse_rule(rule)
    except ValueError as exc:
        raise DigitalError(str(exc)) from None
    with Session(engine) as session:  # whose record, before the file is looked at
        library = _library(session, code)
        library_id, code = library.id, library.code
        find_record(session, library_id, local_id)  # type: ignore[arg-type]
    checked = check_file(path, limits.max_bytes, declared_type, max_pages=limits.max_pages)
    _store(storage, checked)
    with session_scope(engine) as session:  # the write lock only for the row
        record = find_record(session, library_id, local_id)  # type: ignore[arg-type]
        obj, new = add_file(
            session, storage, record, checked, filename, access=access, embargo_until=embargo_until,
            label=(label or "").strip()[:300] or None,
        )  # fmt: skip
        assert obj.id is not None
        object_id = obj.id
    return Deposited(object_id, new, _queue_text(engine, code, object_id))


def _store(storage: ObjectStorage, checked: Checked) -> None:
    """The file into the storage before any transaction (it may take long; storing is idempotent,
    so the write that follows finds it there)."""
    try:
        storage.put(content_key(checked.sha256), checked.path)
    except StorageError as exc:
        raise DigitalError(f"the file could not be stored: {exc}") from None


def replace(
    engine: Engine,
    storage: ObjectStorage,
    limits: Limits,
    object_id: int,
    path: Path,
    filename: str | None,
    *,
    owner: str | None = None,
    declared_type: str | None = None,
) -> Deposited:
    """Put a new version of object ``object_id``'s file in place (same id, record, rule and label);
    ``owner``: the library that must own it (None: any, for the administrator)."""
    with Session(engine) as session:
        owned(session, object_id, owner)
    checked = check_file(path, limits.max_bytes, declared_type, max_pages=limits.max_pages)
    _store(storage, checked)
    with session_scope(engine) as session:
        obj = owned(session, object_id, owner)
        old_key = replace_file(session, storage, obj, checked, filename)
        code = _library_code(session, obj)
    if old_key is not None:
        try:
            storage.delete(old_key)
        except StorageError:  # an unreferenced file stays: harmless, and removed by a later replace
            log.warning("the replaced file %s could not be deleted", old_key)
    return Deposited(object_id, False, _queue_text(engine, code, object_id))


def set_rule(
    engine: Engine,
    object_id: int,
    *,
    rule: str | None = None,
    label: str | None = None,
    owner: str | None = None,
) -> None:
    """Change the access rule (``open``, ``members``, ``embargo:YYYY-MM-DD``) and/or the label."""
    access = embargo_until = None
    if rule is not None:
        try:
            access, embargo_until = parse_rule(rule)
        except ValueError as exc:
            raise DigitalError(str(exc)) from None
    with session_scope(engine) as session:
        obj = owned(session, object_id, owner)
        change(session, obj, access=access, embargo_until=embargo_until, label=label)


def withdraw_object(engine: Engine, object_id: int, owner: str | None = None) -> None:
    with session_scope(engine) as session:
        obj = owned(session, object_id, owner)
        if obj.status != DigitalStatus.WITHDRAWN:
            withdraw(session, obj)


class NotFound(DigitalError):
    """No such object, or another library's (the two are not told apart)."""


def owned(session: Session, object_id: int, owner: str | None) -> DigitalObject:
    obj = session.get(DigitalObject, object_id) if 0 < object_id <= 2_147_483_647 else None
    if obj is None or (owner is not None and _library_code(session, obj) != owner):
        raise NotFound(f"no digital object {object_id}" + (f" of {owner}" if owner else ""))
    return obj


def _library(session: Session, code: str) -> Library:
    try:
        return get_library(session, code)
    except UnknownLibrary as exc:
        raise DigitalError(str(exc)) from None


def _library_code(session: Session, obj: DigitalObject) -> str:
    library = session.get(Library, obj.library_id)
    assert library is not None
    return library.code


def _queue_text(engine: Engine, code: str, object_id: int) -> int | None:
    """Queue the text extraction; a failure to queue it leaves the deposit done (the object's text
    stays pending, and is queued again by the next replace or by a text job sweep)."""
    try:
        with Session(engine) as session:
            library = get_library(session, code)
        return enqueue_text(engine, library, object_id)
    except Exception:
        log.warning("the text extraction of digital object %s could not be queued", object_id, exc_info=True)
        return None

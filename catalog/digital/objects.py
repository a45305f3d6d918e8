"""Adding a file to the digital library: checked (type by its content, size), checksummed,
stored once per content, and recorded as a digital object of one of its library's records. The
file is in the storage before its row is committed, so a failure leaves at most an unreferenced
file, never a row without its bytes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, delete, select

from catalog.digital.storage import ObjectStorage, content_key
from catalog.digital.validate import DEFAULT_MAX_PAGES, PdfRefused, check_pdf
from catalog.models import (
    DigitalAccess,
    DigitalObject,
    DigitalPage,
    DigitalStatus,
    RecordStatus,
    SourceRecord,
    TextStatus,
    utcnow,
)

PDF = "application/pdf"
EPUB = "application/epub+zip"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
ACCEPTED_TYPES = (PDF, EPUB, PNG, JPEG, TIFF)
_NAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


class DigitalError(ValueError):
    """A file the digital library cannot take, with the reason (shown to the member as is)."""


@dataclass(frozen=True)
class Checked:
    path: Path
    sha256: str
    size: int
    content_type: str
    page_count: int | None = None


def clean_filename(name: str | None, content_type: str) -> str:
    """The file's own name without any directory, control or path characters (``../../x.pdf`` ->
    ``x.pdf``), at most 200 characters; a name from its type when nothing is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", _NAME_UNSAFE.sub("_", base)).strip(" ._")
    if not base:
        base = "file" + {PDF: ".pdf", EPUB: ".epub", PNG: ".png", JPEG: ".jpg", TIFF: ".tif"}.get(
            content_type, ""
        )
    stem, dot, ext = base.rpartition(".")
    if len(base) > 200:
        base = (stem[: 190 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:200]
    return base


def sniff(path: Path) -> str | None:
    """The file's type from its first bytes (never from its name or a declared type)."""
    with path.open("rb") as handle:
        head = handle.read(1024)
    if head.startswith(b"%PDF-") or (
        b"%PDF-" in head and head.lstrip(b"\xef\xbb\xbf\r\n\t ").startswith(b"%PDF-")
    ):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if (
        head.startswith(b"PK\x03\x04")
        and head[30:38] == b"mimetype"
        and head[38:58].startswith(b"application/epub+zip")
    ):
        return EPUB
    return None


def check_file(
    path: Path, max_bytes: int, declared_type: str | None = None, *, max_pages: int = DEFAULT_MAX_PAGES
) -> Checked:
    """Read ``path`` once: its size (at most ``max_bytes``), SHA-256 and type by content. A declared
    type that contradicts the content is refused, so is an empty file or one of another type. A PDF
    is opened in a bounded child process (:mod:`.validate`): encrypted, damaged ones and those of
    more than ``max_pages`` pages are refused."""
    size = path.stat().st_size
    if size == 0:
        raise DigitalError("the file is empty")
    if size > max_bytes:
        raise DigitalError(f"the file is {size} bytes; the limit is {max_bytes}")
    content_type = sniff(path)
    if content_type is None:
        raise DigitalError("not a PDF, EPUB, PNG, JPEG or TIFF file (judged by its content)")
    declared = (declared_type or "").split(";", 1)[0].strip().lower()
    if declared and declared not in {"application/octet-stream", content_type}:
        raise DigitalError(f"the file is {content_type}, not {declared} as declared")
    if content_type == EPUB:
        try:
            with zipfile.ZipFile(path) as archive:
                if archive.testzip() is not None:
                    raise DigitalError("the EPUB file is damaged")
        except zipfile.BadZipFile as exc:
            raise DigitalError("the EPUB file is damaged") from exc
    page_count = None
    if content_type == PDF:
        try:
            page_count = check_pdf(path, max_pages).pages
        except PdfRefused as exc:
            raise DigitalError(str(exc)) from None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return Checked(path, digest.hexdigest(), size, content_type, page_count)


def find_record(session: Session, library_id: int, local_id: str) -> SourceRecord:
    """The active record ``local_id`` of library ``library_id``: a file belongs to one of its
    library's own records only."""
    record = session.exec(
        select(SourceRecord).where(SourceRecord.library_id == library_id, SourceRecord.local_id == local_id)
    ).first()
    if record is None or record.status != RecordStatus.ACTIVE:
        raise DigitalError(f"the library has no record {local_id!r}")
    return record


def add_file(
    session: Session,
    storage: ObjectStorage,
    record: SourceRecord,
    checked: Checked,
    filename: str | None,
    *,
    access: str = DigitalAccess.OPEN,
    embargo_until: datetime | None = None,
    label: str | None = None,
    origin: str = "deposit",
    origin_url: str | None = None,
) -> tuple[DigitalObject, bool]:
    """Store ``checked`` and record it for ``record`` (flushed, not committed). The same content for
    the same record is the same object (made active again if it was withdrawn, with the new rule);
    returns the object and whether it is new."""
    if access not in {a.value for a in DigitalAccess}:
        raise DigitalError(f"unknown access {access!r}; use open, members or embargo:YYYY-MM-DD")
    if access == DigitalAccess.EMBARGO and embargo_until is None:
        raise DigitalError("an embargo needs the date it ends")
    key = content_key(checked.sha256)
    storage.put(key, checked.path)
    existing = session.exec(
        select(DigitalObject).where(
            DigitalObject.source_record_id == record.id, DigitalObject.sha256 == checked.sha256
        )
    ).first()
    now = utcnow()
    values: dict[str, Any] = {
        "access": access,
        "embargo_until": embargo_until if access == DigitalAccess.EMBARGO else None,
        "updated_at": now,
    }
    if label is not None:
        values["label"] = label
    if existing is not None:
        if existing.status != DigitalStatus.ACTIVE:
            values.update(status=DigitalStatus.ACTIVE.value, withdrawn_at=None)
        for name, value in values.items():
            setattr(existing, name, value)
        session.add(existing)
        session.flush()
        return existing, False
    obj = DigitalObject(
        library_id=record.library_id,
        source_record_id=record.id,
        filename=clean_filename(filename, checked.content_type),
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        storage_key=key,
        origin=origin,
        origin_url=origin_url,
        text_status=TextStatus.PENDING.value,
        page_count=checked.page_count,
        created_at=now,
        **values,
    )
    session.add(obj)
    session.flush()
    return obj, True


def withdraw(session: Session, obj: DigitalObject) -> None:
    """Withdraw ``obj``: it stays recorded (its id is never reused) but nobody but its library and
    the administrator reads it. Its bytes stay while another object shares them."""
    obj.status = DigitalStatus.WITHDRAWN.value
    obj.withdrawn_at = obj.updated_at = utcnow()
    session.add(obj)
    session.flush()


def replace_file(
    session: Session, storage: ObjectStorage, obj: DigitalObject, checked: Checked, filename: str | None
) -> str | None:
    """Put the file ``checked`` in the place of ``obj``'s, keeping its id, record, rule, label and
    usage (links to it stay valid); its text is extracted again. Flushed, not committed. The old
    file's storage key, when no other object uses it (for the caller to delete after committing)."""
    if obj.sha256 == checked.sha256:
        raise DigitalError("the new file is the same as the one in place")
    if obj.source_record_id is not None:
        twin = session.exec(
            select(DigitalObject).where(
                DigitalObject.source_record_id == obj.source_record_id,
                DigitalObject.sha256 == checked.sha256,
            )
        ).first()
        if twin is not None:
            raise DigitalError(f"this file is already object {twin.id} of the same record")
    key = content_key(checked.sha256)
    storage.put(key, checked.path)
    old_key = obj.storage_key
    session.exec(delete(DigitalPage).where(DigitalPage.object_id == obj.id))  # type: ignore[call-overload]
    obj.filename = clean_filename(filename, checked.content_type)
    obj.content_type = checked.content_type
    obj.size = checked.size
    obj.sha256 = checked.sha256
    obj.storage_key = key
    obj.page_count = checked.page_count
    obj.text_status = TextStatus.PENDING.value
    obj.text_error = None
    obj.status = DigitalStatus.ACTIVE.value
    obj.withdrawn_at = None
    obj.updated_at = utcnow()
    session.add(obj)
    session.flush()
    still_used = session.exec(
        select(DigitalObject.id).where(DigitalObject.storage_key == old_key, DigitalObject.id != obj.id)
    ).first()
    return None if still_used is not None else old_key


def change(
    session: Session,
    obj: DigitalObject,
    *,
    access: str | None = None,
    embargo_until: datetime | None = None,
    label: str | None = None,
) -> None:
    """Change ``obj``'s access rule and/or label (flushed, not committed); None leaves one as it is."""
    if access is not None:
        if access not in {a.value for a in DigitalAccess}:
            raise DigitalError(f"unknown access {access!r}; use open, members or embargo:YYYY-MM-DD")
        if access == DigitalAccess.EMBARGO and embargo_until is None:
            raise DigitalError("an embargo needs the date it ends")
        obj.access = access
        obj.embargo_until = embargo_until if access == DigitalAccess.EMBARGO else None
    if label is not None:
        obj.label = label.strip()[:300] or None
    obj.updated_at = utcnow()
    session.add(obj)
    session.flush()

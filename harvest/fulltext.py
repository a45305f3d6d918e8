"""The "text" job: the text of one digital object extracted, stored page by page and indexed, or
removed when the object was withdrawn.

A job is queued for an object when it is deposited, harvested or replaced (its text extracted
anew) and when it is withdrawn (its pages removed from the catalogue and the search index). The
extraction runs in a child process with its memory and time limited (catalog.digital.extract), so a
hostile file fails its own job with the reason, recorded on the object (``text_status`` failed,
``text_error``) and the job, and the worker goes on. The pages of an object are replaced in one
transaction with their index (embedded engine): a search sees the old text or the new, never half.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import Engine

from catalog import jobs
from catalog.db import writing
from catalog.digital.extract import ExtractionError, extract_to_file, has_text_layer
from catalog.digital.storage import ObjectStorage, StorageError
from catalog.models import DigitalObject, DigitalPage, DigitalStatus, SourceRecord, TextStatus, utcnow
from catalog.search.documents import documents
from catalog.search.engine import SearchEngine

log = logging.getLogger("unioncat.fulltext")
OBJECT = DigitalObject.__table__  # type: ignore[attr-defined]
PAGE = DigitalPage.__table__  # type: ignore[attr-defined]
SOURCE = SourceRecord.__table__  # type: ignore[attr-defined]
PAGE_BATCH = 500


def _remove_pages(conn: Connection, search: SearchEngine | None, object_id: int) -> None:
    if search is not None and search.transactional:
        search.unindex_pages(conn, object_id)
    conn.execute(delete(PAGE).where(PAGE.c.object_id == object_id))


def _store_pages(conn: Connection, object_id: int, pages: Iterable[tuple[int, str]]) -> None:
    batch: list[dict[str, Any]] = []
    for page, text in pages:
        batch.append({"object_id": object_id, "page": page, "text": text})
        if len(batch) >= PAGE_BATCH:
            conn.execute(insert(PAGE), batch)
            batch = []
    if batch:
        conn.execute(insert(PAGE), batch)


def _set_text(
    conn: Connection, object_id: int, status: TextStatus, pages: int | None, error: str | None
) -> None:
    conn.execute(
        update(OBJECT)
        .where(OBJECT.c.id == object_id)
        .values(text_status=status.value, page_count=pages, text_error=error, updated_at=utcnow())
    )


def _union_of(conn: Connection, object_id: int) -> int | None:
    return conn.execute(
        select(SOURCE.c.union_record_id)
        .select_from(OBJECT.join(SOURCE, SOURCE.c.id == OBJECT.c.source_record_id))
        .where(OBJECT.c.id == object_id)
    ).scalar()


def _after_commit(engine: Engine, search: SearchEngine | None, object_id: int, indexed: bool) -> None:
    """An engine outside the catalogue's transaction (Meilisearch): its page index and the record's
    "has full text" brought up to date once the catalogue committed."""
    if search is None or search.transactional:
        return
    with engine.connect() as conn:
        search.unindex_pages(None, object_id)
        if indexed:
            rows = conn.execute(
                select(PAGE.c.page, PAGE.c.text).where(PAGE.c.object_id == object_id).order_by(PAGE.c.page)
            ).all()
            search.index_pages(conn, object_id, [(p, t) for p, t in rows])
        union_id = _union_of(conn, object_id)
        if union_id is not None:
            docs, _gone = documents(conn, [union_id])
            search.upsert(None, docs)


def _copy_out(storage: ObjectStorage, key: str, workdir: Path) -> Path:
    """The object's bytes in a file of ``workdir`` (the extracting process reads a path)."""
    handle, name = tempfile.mkstemp(prefix="object-", dir=workdir)
    path = Path(name)
    with open(handle, "wb") as out:
        for chunk in storage.read(key):
            out.write(chunk)
    return path


def run_text_job(
    engine: Engine,
    job_id: int,
    object_id: int,
    storage: ObjectStorage,
    search: SearchEngine | None,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Run text job ``job_id`` for object ``object_id``; the job ends succeeded or failed (with the
    reason), and what was done is returned: ``{"status": ..., "pages": ...}``."""
    with engine.connect() as conn:
        obj = conn.execute(select(OBJECT).where(OBJECT.c.id == object_id)).mappings().first()
    if obj is None:
        jobs.fail(engine, job_id, f"there is no digital object {object_id}")
        return {"status": "missing", "pages": 0}
    if obj["status"] != DigitalStatus.ACTIVE:
        with writing(engine) as conn:
            _remove_pages(conn, search, object_id)
            jobs.finish(conn, job_id, {"deleted": 1})
        _after_commit(engine, search, object_id, indexed=False)
        return {"status": "removed", "pages": 0}
    if not has_text_layer(obj["content_type"]):
        with writing(engine) as conn:
            _remove_pages(conn, search, object_id)
            _set_text(conn, object_id, TextStatus.NONE, None, None)
            jobs.finish(conn, job_id, {"read": 0})
        _after_commit(engine, search, object_id, indexed=False)
        return {"status": TextStatus.NONE.value, "pages": 0}
    scratch = Path(tempfile.mkdtemp(prefix="text-", dir=workdir))
    try:
        try:
            source = _copy_out(storage, obj["storage_key"], scratch)
            extracted = extract_to_file(source, obj["content_type"], scratch)
        except (ExtractionError, StorageError) as exc:
            reason = (
                str(exc) if isinstance(exc, ExtractionError) else f"the file is not in the storage ({exc})"
            )
            with writing(engine) as conn:
                _remove_pages(conn, search, object_id)
                _set_text(conn, object_id, TextStatus.FAILED, None, reason)
            jobs.fail(engine, job_id, f"object {object_id} ({obj['filename']}): {reason}")
            _after_commit(engine, search, object_id, indexed=False)
            log.info("text of object %s not extracted: %s", object_id, reason)
            return {"status": TextStatus.FAILED.value, "pages": 0, "error": reason}
        status = TextStatus.EXTRACTED if extracted.pages_with_text else TextStatus.NONE
        with writing(engine) as conn:
            _remove_pages(conn, search, object_id)
            if status is TextStatus.EXTRACTED:
                _store_pages(conn, object_id, extracted.pages())
                if search is not None and search.transactional:
                    search.index_pages(conn, object_id, extracted.pages())
            _set_text(conn, object_id, status, extracted.page_count, None)
            jobs.finish(conn, job_id, {"read": extracted.page_count, "added": extracted.pages_with_text})
        _after_commit(engine, search, object_id, indexed=status is TextStatus.EXTRACTED)
        return {"status": status.value, "pages": extracted.page_count}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


__all__ = ["run_text_job"]

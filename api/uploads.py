"""Accepting a library's upload, from the API (raw body or multipart) and from the librarian's page:
stream it to disk within the size limit, record its job and queue it for the worker."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine

from catalog.settings import Settings

from .problems import Problem
from .worker import JobWorker


async def accept_upload(
    engine: Engine,
    settings: Settings,
    worker: JobWorker,
    code: str,
    mode: str,
    fmt: str,
    *,
    request: Request | None = None,
    file: Any = None,
) -> int:
    """Stream an upload (a request's body, or a form's ``file``) to disk, record its job and queue
    it; the job id."""
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    received = settings.uploads_dir / f"incoming-{uuid.uuid4().hex}"
    if file is not None:
        filename = await _receive_file(file, received, settings.max_upload_bytes)
    elif request is not None:
        filename = await _receive(request, received, settings.max_upload_bytes)
    else:
        raise ValueError("an upload needs a request or a file")
    # The database work runs in the thread pool, never on the event loop.
    return await run_in_threadpool(worker.enqueue_upload, code, mode, fmt, filename, received)


async def _receive_file(upload: Any, target: Path, limit: int) -> str:
    size = 0
    with open(target, "wb") as out:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise Problem(413, f"the upload is larger than {limit} bytes")
            out.write(chunk)
    return upload.filename or "upload"


async def _receive(request: Request, target: Path, limit: int) -> str:
    """Stream the upload (multipart 'file' or raw body) to ``target``; the original file name."""
    content_type = request.headers.get("content-type", "")
    size = 0
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem(422, "the multipart upload needs a 'file' field")
        return await _receive_file(upload, target, limit)
    with open(target, "wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise Problem(413, f"the upload is larger than {limit} bytes")
            out.write(chunk)
    if size == 0:
        target.unlink(missing_ok=True)
        raise Problem(422, "the upload is empty")
    return request.headers.get("x-filename", "upload")[:200]

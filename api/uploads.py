"""Accepting a library's upload, from the API (raw body or multipart) and from the librarian's page:
stream it to disk within the size limit, record its job and queue it for the worker.

The caller is authenticated before any of the body is read (the routes do it from headers and
cookies alone). The body is read as it arrives, multipart included, and the size limit holds while
reading: no more than the limit is ever written, and nothing is spooled elsewhere first. A partial
file is removed whatever ends the upload (a refusal, an error, the client going away), and files
left by a service that stopped mid-upload are removed when it starts again."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from catalog.settings import Settings

from .problems import Problem
from .worker import JobWorker

INCOMING = "incoming-"
# What a multipart body may hold besides its file: boundaries, part headers, small form fields.
FORM_OVERHEAD = 64 * 1024
FIELD_LIMIT = 1024
# An incoming file unchanged for this long at start-up belongs to no upload still under way.
ORPHAN_AGE_S = 60.0


@dataclass
class Received:
    """An upload on disk: where, the name the library gave it, and the form's other fields."""

    path: Path
    filename: str
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def clean_incoming(settings: Settings, older_than: float = ORPHAN_AGE_S) -> list[Path]:
    """Remove the partial uploads a previous run left (stopped mid-upload); those removed."""
    removed = []
    now = time.time()
    for path in settings.uploads_dir.glob(f"{INCOMING}*"):
        try:
            if now - path.stat().st_mtime >= older_than:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue
    return removed


async def receive(
    request: Request, settings: Settings, multipart_only: bool = False, limit: int | None = None
) -> Received:
    """Stream the request's upload (multipart field 'file', or the raw body) to a new incoming file
    within ``limit`` bytes (by default ``settings.max_upload_bytes``); the file is removed if
    anything goes wrong."""
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    target = settings.uploads_dir / f"{INCOMING}{uuid.uuid4().hex}"
    limit = limit or settings.max_upload_bytes
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("multipart/form-data"):
            received = await _receive_form(request, target, limit, content_type)
        elif multipart_only:
            raise Problem(415, "send the file as multipart/form-data")
        else:
            received = Received(target, request.headers.get("x-filename", "upload")[:200])
            with open(target, "wb") as out:
                size = 0
                async for chunk in request.stream():
                    size += len(chunk)
                    _within(size, limit)
                    out.write(chunk)
            if size == 0:
                raise Problem(422, "the upload is empty")
    except BaseException:  # a refusal, a broken body, the client gone: no partial file stays
        target.unlink(missing_ok=True)
        raise
    return received


def _within(size: int, limit: int) -> None:
    if size > limit:
        raise Problem(413, f"the upload is larger than {limit} bytes")


async def _receive_form(request: Request, target: Path, limit: int, content_type: str) -> Received:
    _kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise Problem(422, "the multipart upload has no boundary")
    form = _Form(target, limit)
    parser = MultipartParser(boundary, form.callbacks())
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            _within(size, limit + FORM_OVERHEAD)
            parser.write(chunk)
            form.check()
        parser.finalize()
    except MultipartParseError as exc:
        raise Problem(422, f"the multipart body is malformed: {exc}") from None
    finally:
        form.close()
    form.check()
    if form.filename is None:
        raise Problem(422, "the multipart upload needs a 'file' field")
    if form.size == 0:
        raise Problem(422, "the upload is empty")
    return Received(target, form.filename[:200] or "upload", form.fields)


class _Form:
    """The parts of a multipart body as they arrive: the 'file' part to disk, small fields kept."""

    def __init__(self, target: Path, limit: int) -> None:
        self.target, self.limit = target, limit
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.size = 0
        self.problem: Problem | None = None
        self._out: IO[bytes] | None = None
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._value = b""

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._add("_header_name", data[start:end]),
            "on_header_value": lambda data, start, end: self._add("_header_value", data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def check(self) -> None:
        if self.problem is not None:
            raise self.problem

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def _add(self, name: str, data: bytes) -> None:
        setattr(self, name, getattr(self, name) + data)

    def _part_begin(self) -> None:
        self._headers, self._name, self._value = {}, None, b""

    def _header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _disposition, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if self._name == "file" and b"filename" in options:
            if self.filename is not None:
                self.problem = self.problem or Problem(422, "the multipart upload has more than one file")
                return
            self.filename = Path(options[b"filename"].decode("utf-8", "replace")).name
            self._out = open(self.target, "wb")  # noqa: SIM115 - closed by close()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.problem is not None:
            return
        if self._out is not None:
            self.size += end - start
            if self.size > self.limit:
                self.problem = Problem(413, f"the upload is larger than {self.limit} bytes")
                return
            self._out.write(data[start:end])
        else:
            self._value += data[start:end]
            if len(self._value) > FIELD_LIMIT:
                self.problem = Problem(422, f"the form field {self._name!r} is too long")

    def _part_end(self) -> None:
        if self._out is not None:
            self.close()
        elif self._name:
            self.fields[self._name] = self._value.decode("utf-8", "replace")


async def queue_upload(worker: JobWorker, code: str, mode: str, fmt: str, received: Received) -> int:
    """Queue the job of an upload on disk (see :mod:`harvest.queue`); the job id, at once. The
    database work runs in the thread pool, never on the event loop."""
    try:
        return await run_in_threadpool(
            worker.enqueue_upload, code, mode, fmt, received.filename, received.path
        )
    except BaseException:
        received.discard()
        raise

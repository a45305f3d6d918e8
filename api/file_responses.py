"""A stored file as an HTTP answer (RFC 9110): whole (200), one range (206), several ranges
(206 multipart/byteranges), none that can be satisfied (416, a problem document), or not
modified (304); with its
ETag (the SHA-256), its real type, ``Content-Disposition`` with the clean file name (RFC 6266, a
plain ASCII ``filename`` and the exact UTF-8 ``filename*``), ``nosniff`` and a sandboxing policy
so that nothing in a file can run as the site. A Range header that cannot be read is ignored (the
whole file), as the RFC allows."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from .problems import problem_response

MAX_RANGES = 16
FILE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
Reader = Callable[[int, int], Iterator[bytes]]  # start, end (exclusive)


class Unsatisfiable(Exception):
    pass


def parse_ranges(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """The byte ranges (start, end exclusive) a ``Range`` header asks of a file of ``size`` bytes,
    merged where they overlap; None to send the whole file (no header, one that cannot be read, or
    too many ranges); :class:`Unsatisfiable` when none of them lies in the file."""
    if not header:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        return None
    wanted = []
    parts = specs.split(",")
    if len(parts) > MAX_RANGES:
        return None
    for part in parts:
        match = _SPEC.match(part)
        if match is None or match.group(0).strip() == "-":
            return None
        first, last = match.groups()
        if first == "":  # the last N bytes
            length = int(last)
            if length == 0:
                continue
            wanted.append((max(0, size - length), size))
            continue
        start = int(first)
        end = size if last == "" else int(last) + 1
        if last != "" and end <= start:
            return None  # last before first: not a valid range, so the header is ignored
        if start >= size:
            continue
        wanted.append((start, min(end, size)))
    if not wanted:
        raise Unsatisfiable
    wanted.sort()
    merged = [wanted[0]]
    for start, end in wanted[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def content_disposition(filename: str, inline: bool) -> str:
    """RFC 6266: an ASCII fallback name and the exact one in RFC 5987 encoding."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]+", "_", ascii_name).strip() or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(
    request: Request,
    read: Reader,
    size: int,
    sha256: str,
    content_type: str,
    filename: str,
    *,
    private: bool,
) -> Response:
    """The answer to a GET of a stored file of ``size`` bytes read by ``read``."""
    etag = f'"{sha256}"'
    # Shown in the browser: pictures it draws itself. Anything else is downloaded (a browser's own
    # PDF viewer does not run in the sandbox; the reader pages show a PDF in the browser instead).
    inline = content_type in ("image/png", "image/jpeg")
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(filename, inline),
        "Content-Security-Policy": FILE_POLICY,
        "X-Content-Type-Options": "nosniff",
        # asked again every time (a 304 by the ETag is cheap): a file withdrawn or closed is closed at once
        "Cache-Control": ("private" if private else "public") + ", no-cache",
        "Vary": "Authorization, Cookie",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    ranges = None
    if_range = request.headers.get("if-range")
    if if_range is None or if_range.strip() == etag:
        try:
            ranges = parse_ranges(request.headers.get("range"), size)
        except Unsatisfiable:
            return problem_response(
                416,
                f"no requested range lies in the file of {size} bytes",
                request,
                headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes", "ETag": etag},
            )
    if ranges is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(read(0, size), 200, headers=headers, media_type=content_type)
    if len(ranges) == 1:
        start, end = ranges[0]
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        headers["Content-Length"] = str(end - start)
        return StreamingResponse(read(start, end), 206, headers=headers, media_type=content_type)
    boundary = secrets.token_hex(16)
    heads = [
        (
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
        ).encode()
        for start, end in ranges
    ]
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = sum(len(h) for h in heads) + sum(end - start for start, end in ranges) + len(tail)
    headers["Content-Length"] = str(length)

    def parts() -> Iterator[bytes]:
        for head, (start, end) in zip(heads, ranges, strict=True):
            yield head
            yield from read(start, end)
        yield tail

    return StreamingResponse(
        parts(), 206, headers=headers, media_type=f"multipart/byteranges; boundary={boundary}"
    )


def _matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (or any tag, ``*``)."""
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def counts_as_download(response: Response) -> bool:
    """A download for the statistics: the whole file, or a range from its first byte."""
    if response.status_code == 200:
        return True
    if response.status_code == 206:
        return str(response.headers.get("content-range", "")).startswith("bytes 0-")
    return False

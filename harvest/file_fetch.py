"""Fetching a repository's file over HTTP(S): streamed to a temporary file under a size limit,
with timeouts, retries with backoff, and redirects followed only to other http(s) addresses.

What the file is (its type by content, its checksum) is judged afterwards, by
:func:`catalog.digital.objects.check_file`, as for a file a member deposits.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

log = logging.getLogger(__name__)
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
USER_AGENT = "unioncat repository harvester"
CHUNK = 1 << 16


class FetchFailed(Exception):
    """The file could not be fetched; the message says why (reported on the harvest's job).
    ``final``: fetching it again as it is listed cannot succeed (too large, not at an http(s)
    address); otherwise the server may give it another time (an error, a timeout)."""

    def __init__(self, message: str, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


@dataclass(frozen=True)
class Fetched:
    path: Path | None  # the file's bytes (the caller removes it); None when not modified
    etag: str | None
    content_type: str | None
    url: str  # where the bytes came from, after redirects


def http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class FileFetcher:
    """Fetches files of at most ``max_bytes``. ``timeout``: seconds to connect and between two
    reads; ``deadline``: seconds for a whole file. Timeouts, connection errors and HTTP 408/429/5xx
    are tried again ``retries`` times with exponential backoff (``Retry-After`` honoured up to
    ``max_delay``); a file too large, a 4xx or a redirect elsewhere than http(s) is final."""

    def __init__(
        self,
        max_bytes: int,
        *,
        timeout: float = 60.0,
        deadline: float = 3600.0,
        retries: int = 3,
        backoff: float = 2.0,
        max_delay: float = 120.0,
        max_redirects: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.retries = retries
        self.backoff = backoff
        self.max_delay = max_delay
        self.max_redirects = max_redirects
        self.sleep = sleep
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )
        self.requests_made = 0
        self.retried = 0

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> FileFetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def fetch(self, url: str, directory: Path, etag: str | None = None) -> Fetched:
        """The file at ``url`` in a new temporary file of ``directory``; with the ``etag`` it had
        when last fetched, a file the server says is not modified is not fetched again."""
        if not http_url(url):
            raise FetchFailed(f"not an http(s) address: {url[:200]!r}", final=True)
        problem = ""
        for attempt in range(self.retries + 1):
            try:
                return self._once(url, directory, etag)
            except _Retry as exc:
                problem = str(exc)
                wait = exc.wait
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                wait = None
            if attempt < self.retries:
                self.retried += 1
                delay = min(wait if wait is not None else self.backoff * (2**attempt), self.max_delay)
                log.warning("fetching %s failed (%s); retrying in %.1f s", url, problem, delay)
                self.sleep(delay)
        raise FetchFailed(f"no answer after {self.retries + 1} attempts: {problem}")

    def _once(self, url: str, directory: Path, etag: str | None) -> Fetched:
        started = time.monotonic()
        headers = {"If-None-Match": etag} if etag else {}
        for _hop in range(self.max_redirects + 1):
            self.requests_made += 1
            with self.client.stream("GET", url, headers=headers) as response:
                if response.is_redirect:
                    target = urljoin(url, response.headers.get("Location", ""))
                    if not http_url(target):
                        raise FetchFailed(
                            f"redirected to an address that is not http(s): {target[:200]!r}", final=True
                        )
                    url = target
                    continue
                if response.status_code == 304 and etag:
                    return Fetched(None, etag, None, url)
                if response.status_code in RETRY_STATUS:
                    raise _Retry(f"HTTP {response.status_code}", _retry_after(response))
                if response.status_code >= 400:
                    raise FetchFailed(f"the server answered HTTP {response.status_code}")
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchFailed(
                        f"the file is {int(declared)} bytes; the limit is {self.max_bytes}", final=True
                    )
                path = self._save(response, directory, started)
                return Fetched(path, response.headers.get("ETag"), response.headers.get("Content-Type"), url)
        raise FetchFailed(f"more than {self.max_redirects} redirects")

    def _save(self, response: httpx.Response, directory: Path, started: float) -> Path:
        handle, name = tempfile.mkstemp(prefix="harvest-", suffix=".part", dir=directory)
        path = Path(name)
        size = 0
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchFailed(
                            f"the file is larger than the limit of {self.max_bytes} bytes", final=True
                        )
                    if time.monotonic() - started > self.deadline:
                        raise FetchFailed(f"the file took longer than {self.deadline:.0f} s to fetch")
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path


class _Retry(Exception):
    def __init__(self, message: str, wait: float | None) -> None:
        super().__init__(message)
        self.wait = wait


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None

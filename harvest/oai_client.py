"""Talking to an OAI-PMH repository: Sickle, with the retries and the page reading a harvest needs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import requests
from sickle import Sickle
from sickle.oaiexceptions import OAIError
from sickle.response import OAIResponse

from harvest.oai_page import PageError, page_token
from harvest.runner import IngestError

log = logging.getLogger(__name__)
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
USER_AGENT = "unioncat OAI-PMH harvester"
T = TypeVar("T")


class HarvestError(IngestError):
    """The harvest cannot go on; what was committed stays, and the next harvest resumes after it."""


class OaiClient(Sickle):
    """Sickle with the retries a nightly harvest needs: timeouts, connection errors, HTTP 408/429/5xx
    and pages that are not complete OAI-PMH documents are tried again with exponential backoff
    (``Retry-After`` is honoured, up to ``max_delay``)."""

    def __init__(
        self,
        endpoint: str,
        retries: int = 5,
        backoff: float = 2.0,
        max_delay: float = 300.0,
        timeout: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(endpoint, max_retries=0, timeout=timeout, headers={"User-Agent": USER_AGENT})
        self.retries = retries
        self.backoff = backoff
        self.max_delay = max_delay
        self.sleep = sleep
        self.requests_made = 0
        self.retried = 0

    def delay(self, attempt: int, response: requests.Response | None) -> float:
        after = response.headers.get("Retry-After") if response is not None else None
        if after and after.strip().isdigit():
            return min(float(after), self.max_delay)
        return min(self.backoff * (2**attempt), self.max_delay)

    def harvest(self, **kwargs: Any) -> OAIResponse:
        """One request, retried; raises :class:`HarvestError` when every attempt failed."""
        problem = ""
        for attempt in range(self.retries + 1):
            response: requests.Response | None = None
            try:
                self.requests_made += 1
                response = self._request(kwargs)
            except (requests.Timeout, requests.ConnectionError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code in RETRY_STATUS:
                    problem = f"HTTP {response.status_code}"
                elif response.status_code >= 400:
                    raise HarvestError(f"{self.endpoint} answered HTTP {response.status_code} to {kwargs}")
                else:
                    return OAIResponse(response, params=kwargs)
            if attempt < self.retries:
                self.pause(attempt, f"request {kwargs} failed ({problem})", response)
        raise HarvestError(f"{self.endpoint} did not answer after {self.retries + 1} attempts: {problem}")

    def pause(self, attempt: int, why: str, response: requests.Response | None = None) -> None:
        """One backoff step before attempt ``attempt + 1``, counted in ``retried``."""
        self.retried += 1
        delay = self.delay(attempt, response)
        log.warning("OAI-PMH %s; retrying in %.1f s", why, delay)
        self.sleep(delay)

    def until_usable(self, read: Callable[[], T], unusable: type[Exception], failure: str) -> T:
        """``read()``, again with backoff while what came back is unusable (it raises ``unusable``);
        :class:`HarvestError` with ``failure`` when no attempt gave anything usable."""
        problem = ""
        for attempt in range(self.retries + 1):
            try:
                return read()
            except HarvestError:
                raise
            except unusable as exc:
                problem = str(exc) or type(exc).__name__
            if attempt < self.retries:
                self.pause(attempt, f"answer unusable ({problem})")
        raise HarvestError(f"{failure}: {problem} (after {self.retries + 1} attempts)")

    def fetch(self, params: dict[str, str]) -> tuple[bytes, str | None]:
        """A ListRecords response and its resumption token; fetched again (with backoff) while it is
        not a complete OAI-PMH document."""

        def read() -> tuple[bytes, str | None]:
            content = self.harvest(**params).http_response.content
            return content, page_token(content)

        return self.until_usable(read, PageError, self.endpoint)


@dataclass
class Repository:
    """What Identify says about a repository."""

    granularity: str = "YYYY-MM-DD"
    deleted_record: str = "no"
    earliest: str | None = None

    @property
    def seconds(self) -> bool:
        return "hh" in self.granularity


def identify(client: OaiClient) -> Repository:
    """Identify, asked again (with backoff) while the answer is not an Identify response."""

    def ask() -> Any:
        try:
            return client.Identify()
        except OAIError as exc:  # the repository's own error: final
            raise HarvestError(f"Identify failed: {exc}") from None

    # anything else Sickle raises means garbage where an Identify response should be
    info = client.until_usable(ask, Exception, f"{client.endpoint} gave no usable Identify response")
    return Repository(
        granularity=getattr(info, "granularity", None) or "YYYY-MM-DD",
        deleted_record=(getattr(info, "deletedRecord", None) or "no").strip(),
        earliest=getattr(info, "earliestDatestamp", None),
    )


def parse_datestamp(value: str) -> datetime:
    value = value.strip()
    if "T" in value:
        return datetime.strptime(value.rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)


def next_from(last_start: str, repository: Repository) -> str:
    """Where an incremental harvest starts: the last complete harvest's start, less one granularity
    unit of overlap (a record stamped in the same day or second as that start is read again)."""
    when = parse_datestamp(last_start)
    if repository.seconds:
        return (when - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (when - timedelta(days=1)).strftime("%Y-%m-%d")

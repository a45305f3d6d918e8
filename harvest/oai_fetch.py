"""A ListRecords page fetched and its records prepared (decoded, mapped, keyed), ready to be written.

For a long harvest this runs in a worker process, one page ahead of the writer: fetching, parsing
and preparing a page then overlaps with writing the previous one on another core (in a thread it
would only contend for the interpreter lock with the writer).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.holdings import HoldingsProfile
from catalog.records import PreparedRecord
from harvest.ingest import process
from harvest.oai_client import OaiClient


@dataclass(slots=True)
class Entry:
    number: int
    identifier: str | None
    deleted: bool = False
    prepared: PreparedRecord | None = None
    reason: str | None = None


@dataclass
class PreparedPage:
    response_date: str | None = None
    token: str | None = None
    error_code: str | None = None
    error_message: str = ""
    entries: list[Entry] = field(default_factory=list)
    requests: int = 0  # made for this page (retries included), when fetched in another process
    retries: int = 0


def fetch_prepared(
    client: OaiClient,
    params: dict[str, str],
    first_number: int,
    profile: HoldingsProfile | None,
    compact: bool,
) -> PreparedPage:
    requests, retries = client.requests_made, client.retried
    page = client.page(params, first_number)
    out = PreparedPage(page.response_date, page.token, page.error_code, page.error_message)
    for record in page.records:
        entry = Entry(record.number, record.identifier, record.deleted, reason=record.error)
        if record.error is None and not record.deleted and record.item is not None:
            outcome = process(record.item, profile)
            entry.reason = outcome.reason
            if outcome.prepared is not None:
                outcome.prepared.oai_identifier = record.identifier
                entry.prepared = outcome.prepared.compact() if compact else outcome.prepared
        out.entries.append(entry)
    out.requests, out.retries = client.requests_made - requests, client.retried - retries
    return out

"""A fetched ListRecords response read and its records prepared (decoded, mapped, keyed), ready to
be written.

In a long harvest this runs in a worker process while the writer writes the page before and a
thread already fetches the page after: the repository, the preparing and the writing then overlap
on the machine's cores (in a thread, preparing would only contend with the writer for the
interpreter lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.holdings import HoldingsProfile
from catalog.pickling import by_constructor
from catalog.records import PreparedRecord
from harvest.oai_page import read_page
from harvest.prepare import process


@by_constructor  # the harvest's writer unpickles one for every record (see catalog.pickling)
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


def prepare_page(
    content: bytes,
    first_number: int,
    profile: HoldingsProfile | None,
    compact: bool = False,
    library: str | None = None,
    part: int = 0,
    parts: int = 1,
) -> PreparedPage:
    """Read a fetched response and prepare its records (``compact``: to send to another process;
    ``library``: see harvest.runner.rows_library; ``part`` of ``parts``: see oai_page.read_page)."""
    page = read_page(content, first_number, part, parts)
    out = PreparedPage(page.response_date, page.token, page.error_code, page.error_message)
    for record in page.records:
        entry = Entry(record.number, record.identifier, record.deleted, reason=record.error)
        if record.error is None and not record.deleted and record.item is not None:
            outcome = process(record.item, profile, library)
            entry.reason = outcome.reason
            if outcome.prepared is not None:
                outcome.prepared.oai_identifier = record.identifier
                entry.prepared = outcome.prepared.compact() if compact else outcome.prepared
        out.entries.append(entry)
    return out


def joined(shares: list[PreparedPage]) -> PreparedPage:
    """One page from the shares that workers prepared (see ``part``), its records in page order."""
    page = shares[0]
    for share in shares[1:]:
        page.entries.extend(share.entries)
    return page

"""From a decoded MARC record to what the catalogue stores: fields, match keys, holdings, checksum."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from pymarc import Field, Record

from catalog import holdings, marc_fields
from catalog.dedup.keys import blocking_keys
from catalog.holdings import HoldingsProfile
from catalog.links import fields_link_warnings
from catalog.pickling import by_constructor
from catalog.search.rows import document, index_rows
from catalog.text import fold


class RecordRejected(ValueError):
    """A record that cannot enter the catalogue, with the reason as its message."""


@by_constructor
@dataclass(slots=True)
class PreparedRecord:
    local_id: str
    raw: bytes
    raw_format: str
    checksum: str
    fields: dict[str, Any]
    title: str | None
    title_key: str | None
    year: int | None
    material_type: str | None
    keys: list[tuple[str, str]]
    holdings: list[tuple[Any, ...]]  # values in holdings.HOLDING_FIELDS order
    warnings: list[str] = field(default_factory=list)
    # The record's rows in the embedded search index as a union record of its own (the common case),
    # with the library they were built for: built by ingest workers, not the single writer.
    document: dict[str, Any] | None = None
    oai_identifier: str | None = None  # the record's identifier at the OAI-PMH repository it came from

    fields_json: str = ""

    def __post_init__(self) -> None:
        if not self.fields_json:
            self.fields_json = orjson.dumps(self.fields).decode()

    @property
    def warnings_json(self) -> str | None:
        return orjson.dumps(self.warnings).decode() if self.warnings else None

    def compact(self) -> PreparedRecord:
        """Drop the fields dict (its JSON stays): cheaper to send from a worker process."""
        self.fields = {}
        return self


def checksum(raw_format: str, raw: bytes) -> str:
    return hashlib.sha256(raw_format.encode() + b"\0" + raw).hexdigest()


def title_key_of(fields: dict[str, Any]) -> str | None:
    """The folded filing title (the title without its initial article), which orders and matches
    titles; ``None`` for a record without a title."""
    return fold(fields.get("sort_title") or fields.get("title")) or None


def match_keys(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """Identifier keys for lookups, and the blocking keys that find candidate duplicates."""
    keys: list[tuple[str, str]] = [("isbn", v) for v in fields.get("isbns", [])]
    keys += [("issn", v.replace("-", "")) for v in fields.get("issns", [])]
    if fields.get("lccn"):
        keys.append(("lccn", fields["lccn"]))
    for sysno in fields.get("system_numbers", []):
        if sysno["org"] == "OCoLC":
            keys.append(("oclc", sysno["number"]))
        else:
            keys.append(("sysno", f"{sysno['org']}:{sysno['number']}"[:255]))
    keys += blocking_keys(fields)
    seen: set[tuple[str, str]] = set()
    return [k for k in keys if not (k in seen or seen.add(k))]


@dataclass(slots=True)
class Mapped:
    """A record the compiled mapping read (see :mod:`catalog.mapping`): the fields holdings read,
    the catalogue fields (without a search document to build, only
    :data:`catalog.native.CORE_FIELDS`), the JSON of all of them, its match keys and its title key."""

    grouped: dict[str, list[Field]]
    fields: dict[str, Any]
    fields_json: str
    keys: list[tuple[str, str]]
    title_key: str | None


def prepare(
    record: Record | None,
    raw: bytes,
    raw_format: str,
    profile: HoldingsProfile | None,
    warnings: list[str] | None = None,
    library: str | None = None,
    mapped: Mapped | None = None,
) -> PreparedRecord:
    """Everything the catalogue stores for ``record``; ``profile`` None means detect it per record.

    With the ``library`` that holds it, the record's rows in the embedded search index (as a union
    record of its own, the common case) are computed here too: ingest workers compute, the single
    writer only inserts. Without it (no embedded index to keep), no search document is built.

    ``mapped``: what the compiled mapping gives (:class:`Mapped`), in place of ``record``."""
    if mapped is not None:
        grouped = mapped.grouped
    else:
        assert record is not None
        grouped = marc_fields.fields_by_tag(record)
    chosen = profile or holdings.detect(grouped)
    local_id = holdings.local_id(chosen, grouped)
    if not local_id:
        where = " or ".join(f"{t}${c}" if c else t for t, c in chosen.local_id)
        raise RecordRejected(f"no local record identifier ({where})")
    if len(local_id) > 255:
        raise RecordRejected("local record identifier longer than 255 characters")
    if mapped is None:
        fields = marc_fields.extract(record, grouped)  # type: ignore[arg-type]
        keys, title_key = match_keys(fields), title_key_of(fields)
    else:
        fields, keys, title_key = mapped.fields, mapped.keys, mapped.title_key
    notes = list(warnings or [])
    notes += fields_link_warnings(fields, "" if mapped is None else mapped.fields_json)
    if not fields.get("title"):
        notes.append("no title (245 $a)")
    title = marc_fields.display_title(fields)
    items = [tuple(h[name] for name in holdings.HOLDING_FIELDS) for h in holdings.extract(chosen, grouped)]
    copies_at = holdings.HOLDING_FIELDS.index("copies")
    copies = sum(1 if item[copies_at] is None else item[copies_at] for item in items)
    rows = index_rows(document(0, title, fields, {library: copies})) if library else None
    return PreparedRecord(
        local_id=local_id,
        raw=raw,
        raw_format=raw_format,
        checksum=checksum(raw_format, raw),
        fields=fields if mapped is None else {},  # mapped: its JSON holds all of them (see compact)
        title=title,
        title_key=title_key,
        year=fields.get("year"),
        material_type=fields.get("material_type"),
        keys=keys,
        holdings=items,
        warnings=notes,
        document={"libraries": [library], "index_rows": rows} if rows else None,
        fields_json="" if mapped is None else mapped.fields_json,
    )

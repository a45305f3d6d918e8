"""A real OAI-PMH data provider for the harvester tests, built on the server side of the ``oaipmh``
package (the maintained fork of pyoai), serving real MARCXML records over HTTP on 127.0.0.1.

Nothing here is unioncat's code: the protocol (verbs, arguments, resumption tokens, errors, from/until)
is the package's. The peer adds what a test needs: records that change and disappear while it runs,
and faults on demand (HTTP errors, garbage bodies, bodies cut short, raw control characters).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from lxml import etree
from oaipmh import common, error
from oaipmh.metadata import MetadataRegistry
from oaipmh.server import BatchingServer

MARC_NS = "http://www.loc.gov/MARC21/slim"


@dataclass
class PeerRecord:
    identifier: str
    datestamp: datetime
    element: etree._Element | None  # None once deleted


def marc_elements(path: Path) -> Iterator[etree._Element]:
    """The well-formed MARCXML records of a file (the Koha sample has one with a raw control byte)."""
    from harvest import marcxml

    with path.open("rb") as stream:
        for item in marcxml.split(stream):
            namespaces, _ = item.context
            try:
                wrapper = etree.fromstring(marcxml.wrap(item.raw, namespaces), marcxml.parser())
            except etree.XMLSyntaxError:
                continue
            yield wrapper[0]


def control_number(element: etree._Element) -> str:
    """Koha's biblionumber (999 $c), else 001."""
    for field in element:
        if field.get("tag") == "999":
            for sub in field:
                if sub.get("code") == "c" and sub.text:
                    return sub.text.strip()
    for field in element:
        if field.get("tag") == "001" and field.text:
            return field.text.strip()
    raise ValueError("record without a control number")


class ListingRepository:
    """What the two peers' repositories share for the ``oaipmh`` server: no sets, and identifiers
    and records listed from the items in a datestamp window (those of ``_selected``), a batch at a
    time. A subclass says which metadata formats it has (``_check``) and how an item becomes a
    header and metadata."""

    def listSets(self, cursor: int = 0, batch_size: int = 10) -> list[Any]:
        raise error.NoSetHierarchyError("this repository has no sets")

    def _check(self, prefix: str) -> None:
        raise NotImplementedError

    def _selected(self, from_: datetime | None, until: datetime | None) -> list[Any]:
        raise NotImplementedError

    def _header(self, item: Any) -> common.Header:
        raise NotImplementedError

    def _metadata(self, item: Any) -> common.Metadata | None:
        raise NotImplementedError

    def listIdentifiers(
        self,
        metadataPrefix: str,
        set: str | None = None,
        from_: datetime | None = None,
        until: datetime | None = None,
        cursor: int = 0,
        batch_size: int = 10,
    ) -> list[common.Header]:
        return [self._header(i) for i in self._batch(metadataPrefix, from_, until, cursor, batch_size)]

    def listRecords(
        self,
        metadataPrefix: str,
        set: str | None = None,
        from_: datetime | None = None,
        until: datetime | None = None,
        cursor: int = 0,
        batch_size: int = 10,
    ) -> list[tuple[Any, Any, None]]:
        chosen = self._batch(metadataPrefix, from_, until, cursor, batch_size)
        return [(self._header(i), self._metadata(i), None) for i in chosen]

    def _batch(
        self, prefix: str, from_: datetime | None, until: datetime | None, cursor: int, batch_size: int
    ) -> list[Any]:
        """The items of one page of a listing (the ``oaipmh`` server names the arguments of both
        listings, so they cannot be gathered in their signatures)."""
        self._check(prefix)
        return self._selected(from_, until)[cursor : cursor + batch_size]


class PeerRepository(ListingRepository):
    """The IBatchingOAI implementation the ``oaipmh`` server calls."""

    def __init__(self, base_url: str, granularity: str, deleted_record: str) -> None:
        self.base_url = base_url
        self.granularity = granularity
        self.deleted_record = deleted_record
        self.records: dict[str, PeerRecord] = {}
        self.lock = threading.Lock()

    def identify(self) -> common.Identify:
        earliest = min((r.datestamp for r in self.records.values()), default=datetime(2000, 1, 1))
        return common.Identify(
            repositoryName="Peer Koha repository",
            baseURL=self.base_url,
            protocolVersion="2.0",
            adminEmails=["admin@peer.example.org"],
            earliestDatestamp=earliest,
            deletedRecord=self.deleted_record,
            granularity=self.granularity,
            compression=["identity"],
        )

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:
        return [("marc21", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", MARC_NS)]

    def _selected(self, from_: datetime | None, until: datetime | None) -> list[PeerRecord]:
        with self.lock:
            chosen = sorted(self.records.values(), key=lambda r: (r.datestamp, r.identifier))
        return [
            r
            for r in chosen
            if (from_ is None or r.datestamp >= from_)
            and (until is None or r.datestamp <= until)
            and (r.element is not None or self.deleted_record != "no")
        ]

    @staticmethod
    def _header(record: PeerRecord) -> common.Header:
        return common.Header(None, record.identifier, record.datestamp, [], record.element is None)

    def _check(self, prefix: str) -> None:
        if prefix != "marc21":
            raise error.CannotDisseminateFormatError(f"unknown metadata format {prefix}")

    def getRecord(self, metadataPrefix: str, identifier: str) -> tuple[Any, Any, None]:
        self._check(metadataPrefix)
        record = self.records.get(identifier)
        if record is None:
            raise error.IdDoesNotExistError(identifier)
        return self._header(record), self._metadata(record), None

    @staticmethod
    def _metadata(record: PeerRecord) -> common.Metadata | None:
        return None if record.element is None else common.Metadata(record.element, {"record": record.element})


def _write_marc(element: etree._Element, metadata: common.Metadata) -> None:
    element.append(_copy(metadata["record"]))


def _copy(element: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(element))


class Peer:
    """The provider on 127.0.0.1 with a handle on its records and its faults."""

    def __init__(
        self,
        granularity: str = "YYYY-MM-DDThh:mm:ssZ",
        deleted_record: str = "persistent",
        batch_size: int = 50,
    ) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oai"
        self.repository = PeerRepository(self.url, granularity, deleted_record)
        registry = MetadataRegistry()
        registry.registerWriter("marc21", _write_marc)
        self.server = BatchingServer(self.repository, registry, resumption_batch_size=batch_size)
        self.requests: list[dict[str, str]] = []
        self.faults: list[tuple[str, Any]] = []  # consumed one per request, in order
        self.corruptions: dict[str, bytes] = {}  # identifier -> bytes put into that record's text
        self.clock = datetime(2026, 1, 1, 8, 0, 0)  # datestamps of the records loaded
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --------------------------------------------------------------- records
    def load(self, path: Path, prefix: str = "oai:peer:", limit: int | None = None) -> list[str]:
        added = []
        for element in marc_elements(path):
            identifier = prefix + control_number(element)
            self.clock += timedelta(seconds=1)
            self.repository.records[identifier] = PeerRecord(identifier, self.clock, element)
            added.append(identifier)
            if limit is not None and len(added) >= limit:
                break
        return added

    @staticmethod
    def now() -> datetime:
        """Changes are stamped with the real time (UTC, naive, as the package wants), as a live
        repository does: a harvester's incremental window is computed from the response dates."""
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    def change_title(self, identifier: str, title: str) -> None:
        record = self.repository.records[identifier]
        assert record.element is not None
        element = _copy(record.element)
        for field in element:
            if field.get("tag") == "245":
                for sub in field:
                    if sub.get("code") == "a":
                        sub.text = title
        record.element, record.datestamp = element, self.now()

    def add(self, identifier: str, element: etree._Element) -> None:
        self.repository.records[identifier] = PeerRecord(identifier, self.now(), element)

    def remove(self, identifier: str) -> None:
        """Gone without a trace, as from a repository that keeps no deletions."""
        del self.repository.records[identifier]

    def delete(self, identifier: str) -> None:
        record = self.repository.records[identifier]
        record.element, record.datestamp = None, self.now()

    # --------------------------------------------------------------- faults
    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        self.faults += [("status", (status, retry_after))] * times

    def garbage_next(self, times: int = 1) -> None:
        self.faults += [("garbage", None)] * times

    def cut_next(self, times: int = 1) -> None:
        self.faults += [("cut", None)] * times

    def expire_tokens_next(self, times: int = 1) -> None:
        self.faults += [("badtoken", None)] * times

    # --------------------------------------------------------------- HTTP
    def _respond(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.requests.append(params)
        fault = self.faults.pop(0) if self.faults else None
        if fault and fault[0] == "status":
            status, retry_after = fault[1]
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return status, headers, b"<html><body>Service unavailable</body></html>"
        if fault and fault[0] == "garbage":
            return 200, {}, b"<html><head><title>Koha</title></head><body>Database error</body></html>"
        if fault and fault[0] == "badtoken" and "resumptionToken" in params:
            params = {"verb": params["verb"], "resumptionToken": "expired-token"}
        body = self.server.handleRequest(dict(params))
        if isinstance(body, str):
            body = body.encode("utf-8")
        for identifier, junk in self.corruptions.items():
            body = _corrupt(body, identifier, junk)
        if fault and fault[0] == "cut":
            body = body[: len(body) // 2]
        return 200, {}, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, params: dict[str, str]) -> None:
                status, headers, body = peer._respond(params)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                self._answer({k: v[0] for k, v in query.items()})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                query = parse_qs(self.rfile.read(length).decode())
                self._answer({k: v[0] for k, v in query.items()})

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Peer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _corrupt(body: bytes, identifier: str, junk: bytes) -> bytes:
    """Put ``junk`` (say a raw control byte) into the first subfield of the record ``identifier``."""
    at = body.find(b"<identifier>" + identifier.encode() + b"</identifier>")
    if at == -1:
        return body
    sub = body.find(b"<subfield", at)
    text = body.find(b">", sub) + 1
    return body[:text] + junk + body[text:]

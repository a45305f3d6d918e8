"""A DSpace-like repository for the repository harvest tests: an OAI-PMH data provider (the server
side of the ``oaipmh`` package, as in tests/oai_peer.py) giving its items as DSpace's crosswalks do
(``oai_dc``, ``qdc``, the ORE resource map and METS), and a web server giving their bitstreams, with
the faults a harvest meets: a missing file, a slow one, one over the size limit, an HTML page
calling itself a PDF, a redirect to another scheme, a server busy once.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

from lxml import etree
from oaipmh import common, error
from oaipmh.metadata import MetadataRegistry
from oaipmh.server import BatchingServer

from tests.oai_peer import ListingRepository

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
ATOM = "http://www.w3.org/2005/Atom"
ORE = "http://www.openarchives.org/ore/terms/"
OREATOM = "http://www.openarchives.org/ore/atom/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
    "qdc": ("http://dublincore.org/schemas/xmls/qdc/2006/01/06/dcterms.xsd", DCTERMS),
    "ore": ("http://tweety.lanl.gov/public/schemas/2008-06/atom-tron.sch", ATOM),
    "mets": ("http://www.loc.gov/standards/mets/mets.xsd", METS),
}


@dataclass
class PeerFile:
    """A bitstream: its bytes and how the web server gives them (``ok``, ``missing``, ``slow``,
    ``endless`` (no length, never ending), ``busy-once`` (503, then ok), ``to-ftp`` (a redirect))."""

    name: str
    data: bytes
    mime: str = "application/pdf"
    bundle: str = "ORIGINAL"
    behaviour: str = "ok"
    etag: str = ""


@dataclass
class PeerItem:
    handle: str  # 123456789/7
    metadata: dict[str, list[str]]  # DSpace's fields: "title", "contributor.author", "date.issued" ...
    files: list[PeerFile] = field(default_factory=list)
    datestamp: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 8, 0, 0))
    deleted: bool = False

    @property
    def identifier(self) -> str:
        return f"oai:repo.example.edu.vn:{self.handle}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A harvester that gave up on a slow file closed its connection: not an error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FileServer:
    """The repository's bitstreams over HTTP on 127.0.0.1; ``requests`` counts GETs per path."""

    def __init__(self, slow_seconds: float = 3.0) -> None:
        self.files: dict[str, PeerFile] = {}
        self.requests: dict[str, int] = {}
        self.slow_seconds = slow_seconds
        self.httpd = _Server(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def path_of(self, item: PeerItem, number: int, file: PeerFile) -> str:
        return f"/bitstream/handle/{item.handle}/{quote(file.name)}?sequence={number}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests[self.path] = server.requests.get(self.path, 0) + 1
                file = server.files.get(self.path)
                if file is None or file.behaviour == "missing":
                    self._plain(404, b"<html><body>Item not found</body></html>")
                    return
                if file.behaviour == "busy-once" and server.requests[self.path] == 1:
                    self._plain(503, b"busy", {"Retry-After": "0"})
                    return
                if file.behaviour == "to-ftp":
                    self._plain(302, b"", {"Location": "ftp://files.example.edu.vn/secret.pdf"})
                    return
                if file.behaviour == "slow":
                    time.sleep(server.slow_seconds)
                if file.etag and self.headers.get("If-None-Match") == file.etag:
                    self.send_response(304)
                    self.send_header("ETag", file.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", file.mime)
                if file.etag:
                    self.send_header("ETag", file.etag)
                if file.behaviour == "endless":
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        while True:
                            self.wfile.write(file.data)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                self.send_header("Content-Length", str(len(file.data)))
                self.end_headers()
                self.wfile.write(file.data)

            def _plain(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _element(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    child = etree.SubElement(parent, tag, {k.replace("__", ":"): v for k, v in attributes.items()})
    if text is not None:
        child.text = text
    return child


class DspaceRepository(ListingRepository):
    """The IBatchingOAI implementation the ``oaipmh`` server calls, and DSpace's crosswalks."""

    def __init__(self, base_url: str, files: FileServer) -> None:
        self.base_url = base_url
        self.files = files
        self.items: dict[str, PeerItem] = {}
        self.lock = threading.Lock()

    def identify(self) -> common.Identify:
        return common.Identify(
            repositoryName="Kho lưu trữ số - DSpace",
            baseURL=self.base_url,
            protocolVersion="2.0",
            adminEmails=["dspace@repo.example.edu.vn"],
            earliestDatestamp=datetime(2000, 1, 1),
            deletedRecord="persistent",
            granularity="YYYY-MM-DDThh:mm:ssZ",
            compression=["identity"],
        )

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:
        return [(prefix, schema, ns) for prefix, (schema, ns) in FORMATS.items()]

    def _check(self, prefix: str) -> None:
        if prefix not in FORMATS:
            raise error.CannotDisseminateFormatError(f"unknown metadata format {prefix}")

    def _selected(self, from_: datetime | None, until: datetime | None) -> list[PeerItem]:
        with self.lock:
            chosen = sorted(self.items.values(), key=lambda i: (i.datestamp, i.handle))
        return [
            i
            for i in chosen
            if (from_ is None or i.datestamp >= from_) and (until is None or i.datestamp <= until)
        ]

    def _header(self, item: PeerItem) -> common.Header:
        return common.Header(None, item.identifier, item.datestamp, [], item.deleted)

    def _metadata(self, item: PeerItem) -> common.Metadata | None:
        return None if item.deleted else common.Metadata(None, {"item": item, "repository": self})

    def getRecord(self, metadataPrefix: str, identifier: str) -> tuple[Any, Any, None]:
        self._check(metadataPrefix)
        item = next((i for i in self.items.values() if i.identifier == identifier), None)
        if item is None:
            raise error.IdDoesNotExistError(identifier)
        return self._header(item), self._metadata(item), None

    # ------------------------------------------------------------------ DSpace's crosswalks
    def handle_url(self, item: PeerItem) -> str:
        return f"http://hdl.handle.net/{item.handle}"

    def file_urls(self, item: PeerItem) -> list[tuple[PeerFile, str]]:
        return [(f, self.files.url + self.files.path_of(item, n, f)) for n, f in enumerate(item.files, 1)]

    @staticmethod
    def values(item: PeerItem, *names: str) -> list[str]:
        return [v for name in names for v in item.metadata.get(name, [])]


def _oai_dc(element: etree._Element, metadata: common.Metadata) -> None:
    item, repo = metadata["item"], metadata["repository"]
    dc = _element(element, f"{{{OAI_DC}}}dc")
    simple = [
        ("title", ("title", "title.alternative")),
        ("creator", ("contributor.author", "creator")),
        ("contributor", ("contributor.advisor", "contributor")),
        ("subject", ("subject",)),
        ("description", ("description.abstract", "description")),
        ("date", ("date.accessioned", "date.available", "date.issued")),
        ("type", ("type",)),
        ("identifier", ("identifier.isbn", "identifier.doi", "identifier.uri")),
        ("language", ("language.iso",)),
        ("rights", ("rights",)),
        ("publisher", ("publisher",)),
    ]
    for tag, names in simple:
        for value in repo.values(item, *names):
            _element(dc, f"{{{DC}}}{tag}", value)


def _qdc(element: etree._Element, metadata: common.Metadata) -> None:
    item, repo = metadata["item"], metadata["repository"]
    record = _element(element, f"{{{DCTERMS}}}record")
    fields = [
        (f"{{{DC}}}title", ("title",)),
        (f"{{{DCTERMS}}}alternative", ("title.alternative",)),
        (f"{{{DC}}}creator", ("contributor.author", "creator")),
        (f"{{{DC}}}contributor", ("contributor.advisor", "contributor")),
        (f"{{{DC}}}subject", ("subject",)),
        (f"{{{DCTERMS}}}abstract", ("description.abstract",)),
        (f"{{{DCTERMS}}}dateAccepted", ("date.available",)),
        (f"{{{DCTERMS}}}available", ("date.available",)),
        (f"{{{DCTERMS}}}issued", ("date.issued",)),
        (f"{{{DC}}}type", ("type",)),
        (f"{{{DC}}}identifier", ("identifier.isbn", "identifier.doi", "identifier.uri")),
        (f"{{{DC}}}language", ("language.iso",)),
        (f"{{{DC}}}rights", ("rights",)),
        (f"{{{DC}}}publisher", ("publisher",)),
    ]
    for tag, names in fields:
        for value in repo.values(item, *names):
            _element(record, tag, value)


def _ore(element: etree._Element, metadata: common.Metadata) -> None:
    """As DSpace 6's ore.xsl: every bundle's bitstreams aggregated, their bundles in the triples."""
    item, repo = metadata["item"], metadata["repository"]
    handle = repo.handle_url(item)
    entry = etree.SubElement(
        element, f"{{{ATOM}}}entry", nsmap={"atom": ATOM, "ore": ORE, "oreatom": OREATOM, "dcterms": DCTERMS}
    )
    _element(entry, f"{{{ATOM}}}id", f"{handle}/ore.xml")
    _element(entry, f"{{{ATOM}}}link", rel="alternate", href=handle)
    _element(
        entry,
        f"{{{ATOM}}}link",
        rel="http://www.openarchives.org/ore/terms/describes",
        href=f"{handle}/ore.xml",
    )
    for title in repo.values(item, "title"):
        _element(entry, f"{{{ATOM}}}title", title)
    for name in repo.values(item, "contributor.author"):
        _element(_element(entry, f"{{{ATOM}}}author"), f"{{{ATOM}}}name", name)
    for file, url in repo.file_urls(item):
        _element(
            entry,
            f"{{{ATOM}}}link",
            rel="http://www.openarchives.org/ore/terms/aggregates",
            href=url,
            title=file.name,
            type=file.mime,
            length=str(len(file.data)),
        )
    triples = _element(entry, f"{{{OREATOM}}}triples")
    for file, url in repo.file_urls(item):
        description = etree.SubElement(
            triples, f"{{{RDF}}}Description", {f"{{{RDF}}}about": url}, nsmap={"rdf": RDF}
        )
        _element(
            description,
            f"{{{RDF}}}type",
            **{f"{{{RDF}}}resource": "http://www.dspace.org/objectModel/DSpaceBitstream"},
        )
        _element(description, f"{{{DCTERMS}}}description", file.bundle)


def _mets(element: etree._Element, metadata: common.Metadata) -> None:
    """As DSpace's mets.xsl: one fileGrp per bundle, each file's FLocat its address."""
    item, repo = metadata["item"], metadata["repository"]
    mets = etree.SubElement(element, f"{{{METS}}}mets", nsmap={"mets": METS, "xlink": XLINK})
    mets.set("OBJID", f"hdl:{item.handle}")
    section = _element(mets, f"{{{METS}}}fileSec")
    groups: dict[str, etree._Element] = {}
    for number, (file, url) in enumerate(repo.file_urls(item), 1):
        group = groups.get(file.bundle)
        if group is None:
            group = groups[file.bundle] = _element(section, f"{{{METS}}}fileGrp", USE=file.bundle)
        entry = _element(
            group,
            f"{{{METS}}}file",
            ID=f"{file.bundle}_{number}",
            MIMETYPE=file.mime,
            SIZE=str(len(file.data)),
        )
        _element(
            entry,
            f"{{{METS}}}FLocat",
            LOCTYPE="URL",
            **{f"{{{XLINK}}}href": url, f"{{{XLINK}}}title": file.name},
        )


class DspacePeer:
    """The repository and its file server on 127.0.0.1."""

    def __init__(self, batch_size: int = 3, slow_seconds: float = 3.0) -> None:
        self.files = FileServer(slow_seconds)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oai/request"
        self.repository = DspaceRepository(self.url, self.files)
        registry = MetadataRegistry()
        for prefix, writer in (("oai_dc", _oai_dc), ("qdc", _qdc), ("ore", _ore), ("mets", _mets)):
            registry.registerWriter(prefix, writer)
        self.server = BatchingServer(self.repository, registry, resumption_batch_size=batch_size)
        self.requests: list[dict[str, str]] = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.clock = datetime(2026, 1, 1, 8, 0, 0)

    # ------------------------------------------------------------------ items
    def add(
        self,
        handle: str,
        metadata: dict[str, list[str]],
        files: list[PeerFile] | None = None,
        stamp: datetime | None = None,
    ) -> PeerItem:
        if stamp is None:
            self.clock += timedelta(seconds=1)
        item = PeerItem(handle, metadata, files or [], stamp or self.clock)
        self.repository.items[handle] = item
        self._serve(item)
        return item

    def _serve(self, item: PeerItem) -> None:
        for number, file in enumerate(item.files, 1):
            self.files.files[self.files.path_of(item, number, file)] = file

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    def change(self, handle: str, **metadata: list[str]) -> None:
        item = self.repository.items[handle]
        item.metadata = {**item.metadata, **{k.replace("_", "."): v for k, v in metadata.items()}}
        item.datestamp = self.now()

    def replace_files(self, handle: str, files: list[PeerFile]) -> None:
        item = self.repository.items[handle]
        item.files = files
        item.datestamp = self.now()
        self._serve(item)

    def delete(self, handle: str) -> None:
        item = self.repository.items[handle]
        item.deleted, item.datestamp = True, self.now()

    def file_url(self, handle: str, number: int) -> str:
        item = self.repository.items[handle]
        return self.files.url + self.files.path_of(item, number, item.files[number - 1])

    def file_requests(self, handle: str, number: int) -> int:
        item = self.repository.items[handle]
        return self.files.requests.get(self.files.path_of(item, number, item.files[number - 1]), 0)

    # ------------------------------------------------------------------ HTTP
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                params = {k: v[0] for k, v in query.items()}
                peer.requests.append(params)
                body = peer.server.handleRequest(dict(params))
                if isinstance(body, str):
                    body = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> DspacePeer:
        self.thread.start()
        self.files.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for httpd in (self.httpd, self.files.httpd):
            httpd.shutdown()
            httpd.server_close()

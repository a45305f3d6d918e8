"""The SRU server at ``/sru``: searchRetrieve and explain in SRU 1.1, 1.2 and 2.0, over the union
catalogue, for copy cataloguing (Koha's Z39.50/SRU servers, MarcEdit, YAZ).

A request becomes a CQL tree (api.sru.cql), then a search condition (api.sru.translate), answered by
the configured search engine; the records are the copy-safe union records (catalog.copy_safe).
Every error is an SRU diagnostic in a 200 response, as the protocol wants; the XML is built with
lxml, and the characters XML cannot hold are dropped from what the request echoes."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from lxml.etree import SubElement
from sqlalchemy.engine import Engine

from catalog.copy_safe import rules_from
from catalog.lookup import InvalidIdentifier, identifier, union_ids_for
from catalog.search import scan
from catalog.search.engine import SearchEngine
from catalog.search.errors import QueryError, SearchUnavailable
from catalog.search.query import MAX_PAGE, SearchQuery
from catalog.settings import Settings

from ..dublin_core import xml_text
from . import cql, explain
from .diagnostics import Diagnostic
from .schemas import Schema, schema_named
from .translate import Translator, index_of, sort_of

log = logging.getLogger(__name__)
VERSIONS = ("1.1", "1.2", "2.0")
NAMESPACES = {  # (the response's namespace and prefix, the diagnostics' namespace)
    "1.1": ("http://www.loc.gov/zing/srw/", "srw", "http://www.loc.gov/zing/srw/diagnostic/"),
    "1.2": ("http://www.loc.gov/zing/srw/", "srw", "http://www.loc.gov/zing/srw/diagnostic/"),
    "2.0": (
        "http://docs.oasis-open.org/ns/search-ws/sruResponse",
        "sruResponse",
        "http://docs.oasis-open.org/ns/search-ws/diagnostic",
    ),
}
OPERATIONS = ("searchRetrieve", "explain", "scan")
SCAN_2_0 = "http://docs.oasis-open.org/ns/search-ws/scan"
SCANNED = {"title": "title", "authors": "authors", "subjects": "subjects"}  # index field -> column
DEFAULT_TERMS = 20
DEFAULT_RECORDS = 10
MAX_CQL = 2000  # characters of a query
MAX_DIGITS = 10  # of startRecord and maximumRecords
MAX_POSITION = 1_000_000_000


@dataclass
class Request:
    version: str
    operation: str
    args: dict[str, str]


class SruServer:
    def __init__(self, catalogue: Engine, search: SearchEngine, settings: Settings) -> None:
        self.catalogue = catalogue
        self.search = search
        self.settings = settings
        self.rules = rules_from(settings)

    # ---------------------------------------------------------------------------------- request
    def respond(self, base_url: str, pairs: Iterable[tuple[str, str]]) -> bytes:
        """The response document to a request's parameters."""
        args: dict[str, str] = {}
        repeated = None
        for name, value in pairs:
            if name in args:
                repeated = name
            args[name] = value
        version = self._version(args)
        operation = self._operation(args)
        request = Request(version, operation, args)
        try:
            if version not in VERSIONS:
                raise Diagnostic(5, f"{args.get('version')!r}; this server speaks {', '.join(VERSIONS)}")
            if repeated:
                raise Diagnostic(6, f"{repeated} is given more than once")
            if operation not in OPERATIONS:
                raise Diagnostic(4, operation)
            if args.get("stylesheet"):
                raise Diagnostic(110, args["stylesheet"])
            if operation == "explain":
                return self._explain(request, base_url)
            if operation == "scan":
                return self._scan(request)
            return self._search_retrieve(request)
        except Diagnostic as diagnostic:
            return self._fatal(request, diagnostic)
        except Exception:  # the protocol answers every request with a response: a fault is diagnostic 1
            log.exception("SRU request failed: %s", args)
            return self._fatal(request, Diagnostic(1, "the server could not answer; the fault is in its log"))

    def refuse_soap(self) -> bytes:
        """The answer to an SRW (SOAP) request: diagnostic 4, for this server speaks SRU over GET and
        POST only (a client such as Koha's is told so with ``sru=get`` in its options)."""
        request = Request("1.2", "searchRetrieve", {})
        return self._fatal(request, Diagnostic(4, "SRW (SOAP) is not supported: send SRU over GET or POST"))

    @staticmethod
    def _version(args: dict[str, str]) -> str:
        given = args.get("version")
        if given is None:  # SRU 2.0 needs no version; SRU 1.x clients always send one
            return "1.2" if "operation" in args else "2.0"
        return given.strip()

    @staticmethod
    def _operation(args: dict[str, str]) -> str:
        given = args.get("operation")
        if given:
            return given.strip()
        if "query" in args:
            return "searchRetrieve"
        if "scanClause" in args:
            return "scan"
        return "explain"

    # ------------------------------------------------------------------------------- responses
    def _root(self, request: Request, name: str) -> tuple[etree._Element, str]:
        version = request.version if request.version in VERSIONS else "1.2"
        namespace, prefix, _diag = NAMESPACES[version]
        if version == "2.0" and name == "scanResponse":
            namespace, prefix = SCAN_2_0, "scan"
        root = etree.Element(f"{{{namespace}}}{name}", nsmap={prefix: namespace})
        SubElement(root, f"{{{namespace}}}version").text = version
        return root, namespace

    def _diagnostics(self, request: Request, parent: etree._Element, found: list[Diagnostic]) -> None:
        version = request.version if request.version in VERSIONS else "1.2"
        _namespace, _prefix, diag = NAMESPACES[version]
        namespace = parent.tag[1:].partition("}")[0]
        box = SubElement(parent, f"{{{namespace}}}diagnostics")
        for diagnostic in found:
            element = SubElement(box, f"{{{diag}}}diagnostic", nsmap={"diag": diag})
            SubElement(element, f"{{{diag}}}uri").text = diagnostic.uri
            if diagnostic.details:
                SubElement(element, f"{{{diag}}}details").text = xml_text(diagnostic.details)[:500]
            SubElement(element, f"{{{diag}}}message").text = diagnostic.message

    def _fatal(self, request: Request, diagnostic: Diagnostic) -> bytes:
        name = {"explain": "explainResponse", "scan": "scanResponse"}.get(
            request.operation, "searchRetrieveResponse"
        )
        root, namespace = self._root(request, name)
        if name == "searchRetrieveResponse":
            SubElement(root, f"{{{namespace}}}numberOfRecords").text = "0"
        self._diagnostics(request, root, [diagnostic])
        return _serialise(root)

    def _explain(self, request: Request, base_url: str) -> bytes:
        root, namespace = self._root(request, "explainResponse")
        record = SubElement(root, f"{{{namespace}}}record")
        escaping = _escaping(request)
        SubElement(record, f"{{{namespace}}}recordSchema").text = explain.ZEEREX
        SubElement(record, f"{{{namespace}}}{_packing_name(request)}").text = escaping
        data = SubElement(record, f"{{{namespace}}}recordData")
        document = explain.record(
            base_url, request.version, self.settings, DEFAULT_RECORDS, self.settings.sru_max_records
        )
        _put(data, document, escaping)
        return _serialise(root)

    # ------------------------------------------------------------------------------------ scan
    def _scan(self, request: Request) -> bytes:
        """The words of dc.title, dc.creator or dc.subject in order from the scan clause's term, with
        how many records hold each (the embedded engine's index)."""
        args = request.args
        clause = args.get("scanClause")
        if clause is None or not clause.strip():
            raise Diagnostic(7, "scanClause")
        if len(clause) > MAX_CQL:
            raise Diagnostic(12, f"{len(clause)} characters; at most {MAX_CQL}")
        position = _number(args, "responsePosition", 1, minimum=0)
        wanted = min(_number(args, "maximumTerms", DEFAULT_TERMS, minimum=1), scan.MAX_TERMS)
        if position > wanted + 1:
            raise Diagnostic(120, f"responsePosition={position}; at most maximumTerms + 1")
        try:
            parsed = cql.parse(clause, "1.1")
        except cql.CqlSyntaxError as exc:
            raise Diagnostic(exc.diagnostic, str(exc)) from None
        root_clause = parsed.root
        if not isinstance(root_clause, cql.SearchClause):
            raise Diagnostic(10, "a scan clause is one index, relation and term")
        index = index_of(root_clause.index, root_clause.prefixes)
        if index.field not in SCANNED:
            raise Diagnostic(16, f"{index.name} cannot be scanned; dc.title, dc.creator and dc.subject can")
        if root_clause.relation.name not in ("=", "==", "all", "any", "exact", "adj"):
            raise Diagnostic(22, f"{root_clause.relation.name} in a scan")
        if self.search.name != "embedded" or self.catalogue.dialect.name != "sqlite":
            raise Diagnostic(4, "scan reads the embedded search engine's index; this catalogue uses another")
        terms = scan.scan(self.catalogue, SCANNED[index.field], root_clause.term, position, wanted)
        root, namespace = self._root(request, "scanResponse")
        if terms:
            box = SubElement(root, f"{{{namespace}}}terms")
            for word, records in terms:
                term = SubElement(box, f"{{{namespace}}}term")
                SubElement(term, f"{{{namespace}}}value").text = xml_text(word)
                SubElement(term, f"{{{namespace}}}numberOfRecords").text = str(records)
        return _serialise(root)

    # -------------------------------------------------------------------------- searchRetrieve
    def _search_retrieve(self, request: Request) -> bytes:
        args = request.args
        text = args.get("query")
        if text is None or not text.strip():
            raise Diagnostic(7, "query")
        if len(text) > MAX_CQL:
            raise Diagnostic(12, f"{len(text)} characters; at most {MAX_CQL}")
        query_type = args.get("queryType", "cql")
        if query_type not in ("cql", "searchTerms"):
            raise Diagnostic(6, f"queryType={query_type}")
        if query_type == "searchTerms":  # SRU 2.0: words to find anywhere, not CQL
            text = 'cql.serverChoice all "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        start = _number(args, "startRecord", 1, minimum=1)
        wanted = min(
            _number(args, "maximumRecords", DEFAULT_RECORDS, minimum=0), self.settings.sru_max_records
        )
        schema = schema_named(args.get("recordSchema"))
        if schema is None:
            raise Diagnostic(66, args.get("recordSchema"))
        escaping = _escaping(request)
        try:
            parsed = cql.parse(text, request.version)
        except cql.CqlSyntaxError as exc:
            raise Diagnostic(exc.diagnostic, str(exc)) from None
        sort = sort_of(parsed.sort_keys)
        if args.get("sortKeys"):
            sort = _sort_keys(args["sortKeys"])
        with self.catalogue.connect() as conn:

            def resolve(kind: str, value: str) -> list[int]:
                try:
                    return union_ids_for(conn, identifier(kind, value))
                except InvalidIdentifier:
                    return []

            condition = Translator(resolve).condition(parsed.root)
        total, ids = self._ids(condition, sort, start, wanted)
        root, namespace = self._root(request, "searchRetrieveResponse")
        SubElement(root, f"{{{namespace}}}numberOfRecords").text = str(total)
        if start > total and total:
            self._diagnostics(request, root, [Diagnostic(61, f"startRecord={start}; {total} records")])
            return _serialise(root)
        if ids:
            with self.catalogue.connect() as conn:
                written = schema.write(conn, ids, self.rules)
            records = SubElement(root, f"{{{namespace}}}records")
            for position, uid in enumerate(ids, start):
                self._record(request, records, schema, escaping, written.get(uid), position)
            if start + len(ids) <= total:
                SubElement(root, f"{{{namespace}}}nextRecordPosition").text = str(start + len(ids))
        return _serialise(root)

    def _ids(self, condition: Any, sort: str, start: int, wanted: int) -> tuple[int, list[int]]:
        """(how many records match, the ids of records ``start`` .. ``start + wanted - 1``)."""
        per_page = max(wanted, 1)
        first = (start - 1) // per_page + 1
        last = (start - 1 + per_page - 1) // per_page + 1 if wanted else first
        if last > MAX_PAGE:
            query = SearchQuery(condition=condition, sort=sort, per_page=1, facets=False)
            total = self._run(query).total
            if start > total:
                return total, []
            raise Diagnostic(61, f"a search pages through its first {MAX_PAGE * per_page} records")
        ids: list[int] = []
        total = 0
        for page in range(first, last + 1):
            query = SearchQuery(condition=condition, sort=sort, page=page, per_page=per_page, facets=False)
            result = self._run(query)
            total = result.total
            offset = (page - 1) * per_page
            ids += [hit.id for n, hit in enumerate(result.hits, offset + 1) if start <= n < start + wanted]
            if offset + per_page >= total:
                break
        return total, ids

    def _run(self, query: SearchQuery) -> Any:
        try:
            return self.search.search(query)
        except QueryError as exc:
            raise Diagnostic(48, str(exc)) from None
        except SearchUnavailable as exc:
            raise Diagnostic(1, f"the search engine is unavailable: {exc}") from None

    def _record(
        self,
        request: Request,
        records: etree._Element,
        schema: Schema,
        escaping: str,
        element: etree._Element | None,
        position: int,
    ) -> None:
        namespace = records.tag[1:].partition("}")[0]
        record = SubElement(records, f"{{{namespace}}}record")
        data_schema = schema.identifier if element is not None else "info:srw/schema/1/diagnostics-v1.1"
        SubElement(record, f"{{{namespace}}}recordSchema").text = data_schema
        SubElement(record, f"{{{namespace}}}{_packing_name(request)}").text = escaping
        data = SubElement(record, f"{{{namespace}}}recordData")
        if element is None:  # a surrogate diagnostic in place of the record
            diag = NAMESPACES[request.version][2]
            element = etree.Element(f"{{{diag}}}diagnostic", nsmap={"diag": diag})
            SubElement(element, f"{{{diag}}}uri").text = Diagnostic(64).uri
            SubElement(element, f"{{{diag}}}message").text = Diagnostic(64).message
        _put(data, element, escaping)
        SubElement(record, f"{{{namespace}}}recordPosition").text = str(position)


def _number(args: dict[str, str], name: str, default: int, minimum: int) -> int:
    value = args.get(name)
    if value is None or value == "":
        return default
    text = value.strip()
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > MAX_DIGITS:
        raise Diagnostic(6, f"{name}={value!r}: a whole number of up to {MAX_DIGITS} digits")
    number = int(text)
    if number < minimum:
        raise Diagnostic(6, f"{name}={number}: at least {minimum}")
    return min(number, MAX_POSITION)


def _packing_name(request: Request) -> str:
    return "recordXMLEscaping" if request.version == "2.0" else "recordPacking"


def _escaping(request: Request) -> str:
    """How records are put in the response: as XML, or as a string of XML (SRU 1.x's recordPacking,
    2.0's recordXMLEscaping; 2.0's recordPacking packed/unpacked is always 'packed' here)."""
    if request.version == "2.0":
        packing = request.args.get("recordPacking", "packed")
        if packing not in ("packed", "unpacked"):
            raise Diagnostic(71, packing)
        value = request.args.get("recordXMLEscaping", "xml")
    else:
        value = request.args.get("recordPacking", "xml")
    if value not in ("xml", "string"):
        raise Diagnostic(71, value)
    return value


def _sort_keys(value: str) -> str:
    """SRU 1.1's sortKeys (``path,schema,ascending``), one key."""
    keys = value.split()
    if len(keys) > 1:
        raise Diagnostic(84, "one sort key")
    path, _schema, ascending, *_rest = [*keys[0].split(","), "", "", ""]
    name = path.lower()
    if name in ("dc.title", "title"):
        if ascending == "0":
            raise Diagnostic(90, "titles sort ascending only")
        return "title"
    if name in ("dc.date", "date"):
        return "year_desc" if ascending == "0" else "year_asc"
    raise Diagnostic(88, path)


def _put(parent: etree._Element, element: etree._Element, escaping: str) -> None:
    if escaping == "string":
        parent.text = etree.tostring(element, encoding="unicode")
    else:
        parent.append(element)


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")  # type: ignore[no-any-return]

"""OAI-PMH 2.0 provider at ``/oai``: the union records and the member libraries' source records.

Verbs, arguments and errors follow the protocol (section 3 and 4 of the OAI-PMH 2.0 specification);
responses validate against its XML schema (tested). Items, sets and datestamps come from
:mod:`catalog.oai_items`; records are disseminated as ``marc21`` (MARCXML) and ``oai_dc``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree
from lxml.etree import SubElement
from sqlalchemy import Connection, null, select
from sqlalchemy.engine import Engine

from catalog import fast_iso2709, oai_items
from catalog.models import SourceRecord, UnionRecord
from catalog.oai_items import Item, Selection, UnknownSet
from catalog.settings import Settings

from . import exports, marcxml
from .dublin_core import DC, add_elements, xml_text

OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
MARC = marcxml.NAMESPACE
_SPLICE_TARGET = "unioncat-marc"
_SPLICE = re.compile(rb"<\?unioncat-marc (\d+)\?>")
FORMATS = {
    "marc21": (marcxml.SCHEMA, MARC),
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
}
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
_LISTS = {"ListIdentifiers", "ListRecords"}
VERBS: dict[str, tuple[set[str], set[str]]] = {  # required and optional arguments
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}
SR = SourceRecord.__table__  # type: ignore[attr-defined]
UNION = UnionRecord.__table__  # type: ignore[attr-defined]


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def datestamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_date(name: str, value: str) -> tuple[datetime, bool]:
    """(the moment, whether it was given to the day only)."""
    for pattern, day in (("%Y-%m-%d", True), ("%Y-%m-%dT%H:%M:%SZ", False)):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC), day
        except ValueError:
            continue
    raise OaiError("badArgument", f"{name}={value!r} is not a UTC datestamp (YYYY-MM-DD or {GRANULARITY})")


# ---------------------------------------------------------------------------------- tokens
# A resumption token is the list's state as base64 JSON and its HMAC-SHA256 under the service's key:
# only a token this repository gave is read, so no forged position, date or set reaches a query.
_BIGGEST_ID = 2**63 - 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def _encode_token(key: bytes, state: dict[str, Any]) -> str:
    payload = _b64(json.dumps(state, separators=(",", ":")).encode())
    return f"{payload}.{_mac(key, payload)}"


def _decode_token(key: bytes, token: str) -> dict[str, Any]:
    refused = OaiError("badResumptionToken", "the resumptionToken is not one this repository gave")
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(_mac(key, payload).encode(), signature.encode("utf-8", "replace")):
        raise refused
    try:
        state = json.loads(_unb64(payload))
        if not isinstance(state, dict) or state.get("v") != 1:
            raise ValueError("unknown version")
        for name in ("after", "cursor", "total"):
            if not isinstance(state[name], int) or not 0 <= state[name] <= _BIGGEST_ID:
                raise ValueError(name)
        if state["kind"] not in (oai_items.UNION_SET, oai_items.SOURCE_SET):
            raise ValueError("unknown kind")
        for name in ("from", "until"):
            if state.get(name) is not None:
                datetime.fromisoformat(state[name])
        return state
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise refused from None


# XML 1.0 cannot carry these characters: an argument with one is refused before it is echoed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# What the schema allows in the request element's attributes (setSpecType, metadataPrefixType).
_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_PATTERNS = {"set": _SPEC, "metadataPrefix": re.compile(r"[A-Za-z0-9\-_.!~*'()]+")}


class Provider:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.repository = settings.oai_repository_identifier
        self.name = settings.oai_repository_name
        self.admin_email = settings.oai_admin_email
        self.page_size = settings.oai_page_size
        self.key = settings.signing_key()

    # ------------------------------------------------------------------------ envelope
    def respond(self, base_url: str, pairs: Iterable[tuple[str, str]]) -> bytes:
        marc: list[bytes] = []  # the MARCXML records, spliced in after serialising (see _records)
        root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
        root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
        SubElement(root, f"{{{OAI}}}responseDate").text = datestamp(datetime.now(UTC))
        request = SubElement(root, f"{{{OAI}}}request")
        request.text = base_url
        try:
            args = self._arguments(list(pairs))
            for key, value in args.items():
                request.set(key, value)
            with self.engine.connect() as conn:
                self._verb(conn, root, args, base_url, marc)
        except OaiError as exc:
            if exc.code in ("badVerb", "badArgument"):
                request.attrib.clear()  # the protocol: no request attributes for these two errors
            for child in list(root)[2:]:
                root.remove(child)
            error = SubElement(root, f"{{{OAI}}}error", code=exc.code)
            error.text = str(exc)
        out = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return _SPLICE.sub(lambda m: marc[int(m.group(1))], out) if marc else out

    @staticmethod
    def _arguments(pairs: list[tuple[str, str]]) -> dict[str, str]:
        verbs = [v for k, v in pairs if k == "verb"]
        if len(verbs) != 1 or verbs[0] not in VERBS:
            what = "no verb" if not verbs else "a repeated verb" if len(verbs) > 1 else f"verb {verbs[0]!r}"
            raise OaiError("badVerb", f"{what}: use one of {', '.join(VERBS)}")
        verb = verbs[0]
        required, optional = VERBS[verb]
        args: dict[str, str] = {}
        for key, value in pairs:
            if _NOT_XML.search(key) or _NOT_XML.search(value):
                raise OaiError("badArgument", "an argument holds a character XML cannot carry")
            if key in args:
                raise OaiError("badArgument", f"argument {key} is repeated")
            if key != "verb" and key not in required | optional:
                raise OaiError("badArgument", f"{verb} takes no argument {key!r}")
            args[key] = value
        if "resumptionToken" in args:
            if set(args) != {"verb", "resumptionToken"}:
                raise OaiError("badArgument", "resumptionToken is an exclusive argument")
        else:
            missing = required - set(args)
            if missing:
                raise OaiError("badArgument", f"{verb} needs {', '.join(sorted(missing))}")
        for key, pattern in _PATTERNS.items():
            if key in args and not pattern.fullmatch(args[key]):
                raise OaiError("badArgument", f"the {key} argument is not a valid {key}")
        return args

    def _verb(
        self, conn: Connection, root: etree._Element, args: dict[str, str], base_url: str, marc: list[bytes]
    ) -> None:
        verb = args["verb"]
        body = SubElement(root, f"{{{OAI}}}{verb}")
        if verb == "Identify":
            self._identify(conn, body, base_url)
        elif verb == "ListMetadataFormats":
            self._formats(conn, body, args.get("identifier"))
        elif verb == "ListSets":
            if "resumptionToken" in args:
                raise OaiError("badResumptionToken", "ListSets gives its whole list at once")
            for spec, name in oai_items.sets(conn):
                entry = SubElement(body, f"{{{OAI}}}set")
                SubElement(entry, f"{{{OAI}}}setSpec").text = spec
                SubElement(entry, f"{{{OAI}}}setName").text = name
        elif verb == "GetRecord":
            self._get_record(conn, body, args["identifier"], self._prefix(args["metadataPrefix"]), marc)
        else:
            self._list(conn, body, args, marc if verb == "ListRecords" else None)

    # ------------------------------------------------------------------------ verbs
    def _identify(self, conn: Connection, body: etree._Element, base_url: str) -> None:
        earliest = oai_items.earliest_datestamp(conn) or datetime(1970, 1, 1, tzinfo=UTC)
        for name, value in (
            ("repositoryName", self.name),
            ("baseURL", base_url),
            ("protocolVersion", "2.0"),
            ("adminEmail", self.admin_email),
            ("earliestDatestamp", datestamp(earliest)),
            ("deletedRecord", "persistent"),
            ("granularity", GRANULARITY),
        ):
            SubElement(body, f"{{{OAI}}}{name}").text = value
        ns = "http://www.openarchives.org/OAI/2.0/oai-identifier"
        description = SubElement(body, f"{{{OAI}}}description")
        ident = SubElement(description, f"{{{ns}}}oai-identifier", nsmap={None: ns})
        ident.set(f"{{{XSI}}}schemaLocation", f"{ns} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd")
        for name, value in (
            ("scheme", "oai"),
            ("repositoryIdentifier", self.repository),
            ("delimiter", ":"),
            ("sampleIdentifier", f"oai:{self.repository}:union/1"),
        ):
            SubElement(ident, f"{{{ns}}}{name}").text = value

    def _formats(self, conn: Connection, body: etree._Element, identifier: str | None) -> None:
        if identifier is not None:
            self._item(conn, identifier)
        for prefix, (schema, namespace) in FORMATS.items():
            entry = SubElement(body, f"{{{OAI}}}metadataFormat")
            SubElement(entry, f"{{{OAI}}}metadataPrefix").text = prefix
            SubElement(entry, f"{{{OAI}}}schema").text = schema
            SubElement(entry, f"{{{OAI}}}metadataNamespace").text = namespace

    @staticmethod
    def _prefix(value: str) -> str:
        if value not in FORMATS:
            raise OaiError("cannotDisseminateFormat", f"metadataPrefix {value!r}: use {' or '.join(FORMATS)}")
        return value

    def _item(self, conn: Connection, identifier: str) -> Item:
        ref = oai_items.parse_identifier(self.repository, identifier)
        if ref is not None and ref.union_id is not None and ref.union_id > _BIGGEST_ID:
            ref = None  # no database holds such a number
        item = oai_items.get_item(conn, ref) if ref is not None else None
        if item is None:
            raise OaiError("idDoesNotExist", f"no item {identifier!r} in this repository")
        return item

    def _get_record(
        self, conn: Connection, body: etree._Element, identifier: str, prefix: str, marc: list[bytes]
    ) -> None:
        item = self._item(conn, identifier)
        self._records(conn, body, [item], prefix, marc)

    def _list(
        self, conn: Connection, body: etree._Element, args: dict[str, str], marc: list[bytes] | None
    ) -> None:
        """ListRecords (``marc``: where its MARCXML records go) or ListIdentifiers (``marc`` None)."""
        if "resumptionToken" in args:
            state = _decode_token(self.key, args["resumptionToken"])
        else:
            state = self._new_list(conn, args)
        prefix = self._prefix(state["prefix"])
        selection = Selection(
            set=state.get("set"),
            start=datetime.fromisoformat(state["from"]) if state.get("from") else None,
            end=datetime.fromisoformat(state["until"]) if state.get("until") else None,
        )
        try:
            items, place = oai_items.list_items(
                conn, selection, state["kind"], state["after"], self.page_size
            )
        except UnknownSet:
            raise OaiError("badResumptionToken", "the set of this resumptionToken is gone") from None
        if not items and "resumptionToken" not in args:
            raise OaiError("noRecordsMatch", "no item matches the request")
        if marc is not None:
            self._records(conn, body, items, prefix, marc)
        else:
            for item in items:
                self._header(body, item)
        if place is not None or "resumptionToken" in args:
            token = SubElement(body, f"{{{OAI}}}resumptionToken")
            token.set("cursor", str(state["cursor"]))
            token.set("completeListSize", str(state["total"]))
            if place is not None:
                token.text = _encode_token(
                    self.key, dict(state, kind=place[0], after=place[1], cursor=state["cursor"] + len(items))
                )

    def _new_list(self, conn: Connection, args: dict[str, str]) -> dict[str, Any]:
        self._prefix(args["metadataPrefix"])
        start = end = None
        if "from" in args:
            start, start_day = _parse_date("from", args["from"])
        if "until" in args:
            until, until_day = _parse_date("until", args["until"])
            try:
                end = until + (timedelta(days=1) if until_day else timedelta(seconds=1))
            except OverflowError:  # until the end of time: no upper bound
                end = None
            if start is not None and start_day != until_day:
                raise OaiError("badArgument", "from and until must have the same granularity")
            if start is not None and start > until:
                raise OaiError("badArgument", "from is later than until")
        selection = Selection(set=args.get("set"), start=start, end=end)
        try:
            total = oai_items.count_items(conn, selection)
        except UnknownSet:
            raise OaiError("noRecordsMatch", f"no set {args['set']!r} in this repository") from None
        return {
            "v": 1,
            "prefix": args["metadataPrefix"],
            "set": selection.set,
            "from": start.isoformat() if start else None,
            "until": end.isoformat() if end else None,
            "kind": selection.kinds()[0],
            "after": 0,
            "cursor": 0,
            "total": total,
        }

    # ------------------------------------------------------------------------ records
    def _header(self, parent: etree._Element, item: Item) -> None:
        header = SubElement(parent, f"{{{OAI}}}header")
        if item.deleted:
            header.set("status", "deleted")
        SubElement(header, f"{{{OAI}}}identifier").text = oai_items.identifier(self.repository, item)
        SubElement(header, f"{{{OAI}}}datestamp").text = datestamp(item.datestamp)
        for spec in item.sets():
            SubElement(header, f"{{{OAI}}}setSpec").text = spec

    def _records(
        self, conn: Connection, body: etree._Element, items: list[Item], prefix: str, marc: list[bytes]
    ) -> None:
        """The items' records. A MARCXML record is written as text (see api.marcxml) and held in ``marc``;
        its place in the tree is a processing instruction that respond() replaces with it, once the
        response is serialised: an lxml element per subfield took most of a page's time."""
        sources = self._source_rows(
            conn, [i.id for i in items if i.kind == "source" and not i.deleted], prefix != "marc21"
        )
        unions = self._union_fields(conn, [i.id for i in items if i.kind == "union" and not i.deleted])
        for item in items:
            record = SubElement(body, f"{{{OAI}}}record")
            self._header(record, item)
            if item.deleted:
                continue
            metadata = SubElement(record, f"{{{OAI}}}metadata")
            if item.kind == "source":
                raw, raw_format, fields = sources[item.id]
                if prefix == "marc21":
                    _place(metadata, marc, marcxml.record_xml(_source_marc(raw, raw_format)))
                else:
                    metadata.append(dublin_core(fields or {}, item))
            elif prefix == "marc21":
                union = exports.union_marc(conn, item.id, holders=True)
                if union is not None:
                    _place(metadata, marc, marcxml.record_xml(union))
            else:
                metadata.append(dublin_core(unions.get(item.id) or {}, item))

    @staticmethod
    def _source_rows(
        conn: Connection, ids: list[int], with_fields: bool
    ) -> dict[int, tuple[bytes, str, dict[str, Any] | None]]:
        """Raw record and format of each source record; its catalogue fields only ``with_fields``
        (Dublin Core needs them, MARCXML does not: reading them cost a tenth of a MARCXML page)."""
        if not ids:
            return {}
        fields = SR.c.fields if with_fields else null()
        rows = conn.execute(select(SR.c.id, SR.c.raw, SR.c.raw_format, fields).where(SR.c.id.in_(ids)))
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    @staticmethod
    def _union_fields(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        return {
            r[0]: r[1] for r in conn.execute(select(UNION.c.id, UNION.c.fields).where(UNION.c.id.in_(ids)))
        }


def _place(metadata: etree._Element, marc: list[bytes], record: bytes) -> None:
    """``record``'s place in the tree: replaced by it when the response is serialised. Only these
    instructions can match _SPLICE: text and attribute values are serialised with "<" escaped."""
    metadata.append(etree.ProcessingInstruction(_SPLICE_TARGET, str(len(marc))))
    marc.append(record)


def _source_marc(raw: bytes, raw_format: str) -> Any:
    light = fast_iso2709.parse(raw) if raw_format == "iso2709" else None
    return light if light is not None else exports.decode(raw, raw_format)


def dublin_core(fields: dict[str, Any], item: Item) -> etree._Element:
    """oai_dc of a record's catalogue fields (see :mod:`api.dublin_core`)."""
    dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    add_elements(dc, fields)
    if item.kind == "source":
        SubElement(dc, f"{{{DC}}}source").text = xml_text(f"{item.library_code} {item.local_id}")
    return dc

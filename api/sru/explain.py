"""The server's explain record (ZeeRex 2.0): where it is, its indexes with their context sets, the
record schemas, the default and the most records a response holds, and what CQL it supports."""

from __future__ import annotations

from urllib.parse import urlsplit

from lxml import etree
from lxml.etree import SubElement

from catalog.settings import Settings

from .schemas import SCHEMAS
from .translate import CONTEXT_SETS, INDEXES, RELATIONS

ZEEREX = "http://explain.z3950.org/dtd/2.0/"


def record(base_url: str, version: str, settings: Settings, default: int, most: int) -> etree._Element:
    z = f"{{{ZEEREX}}}"
    root = etree.Element(f"{z}explain", nsmap={None: ZEEREX})
    url = urlsplit(base_url)
    server = SubElement(
        root, f"{z}serverInfo", protocol="SRU", version=version, transport=url.scheme or "http"
    )
    SubElement(server, f"{z}host").text = url.hostname or "localhost"
    SubElement(server, f"{z}port").text = str(url.port or (443 if url.scheme == "https" else 80))
    SubElement(server, f"{z}database").text = url.path.strip("/") or "sru"

    database = SubElement(root, f"{z}databaseInfo")
    SubElement(database, f"{z}title", lang="en", primary="true").text = settings.oai_repository_name
    SubElement(database, f"{z}description", lang="en", primary="true").text = (
        "The union catalogue of the consortium's member libraries, for copy cataloguing: records "
        f"without the members' items and local data; the cataloguing agency {settings.marc_org_code}."
    )
    SubElement(database, f"{z}contact").text = settings.oai_admin_email

    indexes = SubElement(root, f"{z}indexInfo")
    for name, identifier in CONTEXT_SETS.items():
        SubElement(indexes, f"{z}set", name=name, identifier=identifier)
    for index in INDEXES.values():
        element = SubElement(
            indexes,
            f"{z}index",
            search="true",
            scan=str(index.name in ("dc.title", "dc.creator", "dc.subject")).lower(),
            sort=str(index.name in ("dc.title", "dc.date")).lower(),
        )
        SubElement(element, f"{z}title", lang="en").text = index.title
        prefix, _dot, local = index.name.partition(".")
        name = SubElement(SubElement(element, f"{z}map"), f"{z}name", set=prefix)
        name.text = local
        supported = SubElement(element, f"{z}configInfo")
        for relation in sorted(RELATIONS[index.kind]):
            supported.append(_supports("relation", relation))

    schemas = SubElement(root, f"{z}schemaInfo")
    for schema in SCHEMAS:
        element = SubElement(
            schemas,
            f"{z}schema",
            identifier=schema.identifier,
            name=schema.name,
            sort="false",
            retrieve="true",
        )
        SubElement(element, f"{z}title", lang="en").text = schema.title

    config = SubElement(root, f"{z}configInfo")
    SubElement(config, f"{z}default", type="numberOfRecords").text = str(default)
    SubElement(config, f"{z}default", type="retrieveSchema").text = SCHEMAS[0].name
    SubElement(config, f"{z}default", type="index").text = "cql.serverChoice"
    SubElement(config, f"{z}default", type="relation").text = "="
    SubElement(config, f"{z}setting", type="maximumRecords").text = str(most)
    for feature, value in (
        ("booleanOperator", "and"),
        ("booleanOperator", "or"),
        ("booleanOperator", "not"),
        ("maskingCharacter", "*"),
        ("relationModifier", "ignoreCase"),
        ("relationModifier", "ignoreAccents"),
        ("sortModifier", "ascending"),
        ("sortModifier", "descending"),
        ("recordPacking", "xml"),
        ("recordPacking", "string"),
    ):
        config.append(_supports(feature, value))
    return root


def _supports(kind: str, value: str) -> etree._Element:
    element = etree.Element(f"{{{ZEEREX}}}supports", type=kind)
    element.text = value
    return element

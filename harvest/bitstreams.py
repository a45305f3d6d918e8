"""The files of a repository item, from DSpace's file lists: the ORE resource map (``ore``: an Atom
entry whose ``ore:aggregates`` links are the bitstreams, their bundles in its RDF triples) or METS
(``mets``: the ``fileSec``, one ``fileGrp`` per bundle, each file's ``FLocat`` its address).

Only the ORIGINAL bundle is the item's content: thumbnails, extracted text and licences are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DCTERMS = "http://purl.org/dc/terms/"
METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
AGGREGATES = "http://www.openarchives.org/ore/terms/aggregates"
CONTENT_BUNDLE = "ORIGINAL"


@dataclass(frozen=True)
class Bitstream:
    url: str
    name: str | None
    content_type: str | None
    size: int | None
    checksum: str | None  # as the list gives it, "MD5:..." (METS)
    bundle: str


def _size(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _name(url: str, title: str | None) -> str:
    if title and title.strip():
        return title.strip()
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "file"


def from_ore(entry: etree._Element) -> list[Bitstream]:
    """The bitstreams an ORE Atom entry aggregates, each with the bundle its triples give it
    (ORIGINAL where they say nothing: DSpace's newer crosswalk lists no other bundle's links)."""
    bundles: dict[str, str] = {}
    for description in entry.iter(f"{{{RDF}}}Description"):
        about = description.get(f"{{{RDF}}}about")
        named = description.find(f"{{{DCTERMS}}}description")
        if about and named is not None and (named.text or "").strip():
            bundles[about.strip()] = (named.text or "").strip()
    found = []
    for link in entry.iter(f"{{{ATOM}}}link"):
        href = (link.get("href") or "").strip()
        if link.get("rel") != AGGREGATES or not href:
            continue
        found.append(
            Bitstream(
                url=href,
                name=_name(href, link.get("title")),
                content_type=(link.get("type") or "").strip() or None,
                size=_size(link.get("length")),
                checksum=None,
                bundle=bundles.get(href, CONTENT_BUNDLE),
            )
        )
    return found


def from_mets(mets: etree._Element) -> list[Bitstream]:
    """The files of a METS document's ``fileSec``, each with its group's USE as its bundle."""
    found = []
    for group in mets.iter(f"{{{METS}}}fileGrp"):
        bundle = (group.get("USE") or "").strip() or CONTENT_BUNDLE
        for file in group.iter(f"{{{METS}}}file"):
            locator = file.find(f"{{{METS}}}FLocat")
            href = (locator.get(f"{{{XLINK}}}href") or "").strip() if locator is not None else ""
            if not href:
                continue
            kind = (file.get("CHECKSUMTYPE") or "").strip()
            digest = (file.get("CHECKSUM") or "").strip()
            found.append(
                Bitstream(
                    url=href,
                    name=_name(href, locator.get(f"{{{XLINK}}}title") if locator is not None else None),
                    content_type=(file.get("MIMETYPE") or "").strip() or None,
                    size=_size(file.get("SIZE")),
                    checksum=f"{kind or 'MD5'}:{digest.lower()}" if digest else None,
                    bundle=bundle,
                )
            )
    return found


def content_files(metadata: etree._Element) -> list[Bitstream]:
    """The item's content files (ORIGINAL bundle) from its ORE entry or METS document, in order,
    each address once."""
    listed = from_mets(metadata) if etree.QName(metadata).namespace == METS else from_ore(metadata)
    seen: set[str] = set()
    files = []
    for bitstream in listed:
        if bitstream.bundle.upper() == CONTENT_BUNDLE and bitstream.url not in seen:
            seen.add(bitstream.url)
            files.append(bitstream)
    return files

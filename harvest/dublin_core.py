"""An item of a digital repository described in Dublin Core: simple (``oai_dc``) or qualified
(``qdc``, DSpace's ``dcterms:record``), read into one :class:`DcItem` whichever it came in.

DSpace's crosswalks put every ``dc.*`` field into the simple elements (``oai_dc``: all dates in
``dc:date``, the abstract in ``dc:description``) or into the qualified terms (``qdc``: the date of
issue in ``dcterms:issued``, the abstract in ``dcterms:abstract``). Rights and embargoes are read
as repositories following the OpenAIRE guidelines give them (``info:eu-repo/semantics/...`` and
``info:eu-repo/date/embargoEnd/YYYY-MM-DD``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_EMBARGO_END = re.compile(r"info:eu-repo/date/embargoEnd/(\d{4}-\d{2}-\d{2})")
_OPENAIRE_ACCESS = re.compile(r"info:eu-repo/semantics/(\w+)Access", re.IGNORECASE)


@dataclass
class DcItem:
    """What a union catalogue takes of an item's Dublin Core description."""

    titles: list[str] = field(default_factory=list)
    creators: list[str] = field(default_factory=list)
    contributors: list[str] = field(default_factory=list)
    issued: str | None = None  # the date of issue as given (a year, a month or a day)
    identifiers: list[str] = field(default_factory=list)
    publishers: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    abstracts: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    rights: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)  # every other date, as given

    @property
    def year(self) -> int | None:
        for value in [self.issued, *self.dates]:
            found = _YEAR.search(value or "")
            if found:
                return int(found.group(1))
        return None

    @property
    def access(self) -> tuple[str | None, datetime | None]:
        """The access rule the repository gives its files (open, members or embargo with its end),
        or (None, None) when it says nothing that can be read."""
        text = " ".join([*self.rights, *self.dates])
        end = _EMBARGO_END.search(text)
        kind = _OPENAIRE_ACCESS.search(text)
        if end:
            until = datetime.strptime(end.group(1), "%Y-%m-%d").replace(tzinfo=UTC)
            return "embargo", until
        if kind is None:
            return None, None
        word = kind.group(1).lower()
        if word == "open":
            return "open", None
        if word in ("restricted", "closed"):
            return "members", None
        return None, None


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def read_dc(metadata: etree._Element) -> DcItem:
    """The item that ``metadata`` (an ``oai_dc:dc`` or a ``dcterms:record`` element, or any element
    holding DC elements) describes."""
    item = DcItem()
    dates: list[str] = []
    for element in metadata.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element)
        if name.namespace not in (DC, DCTERMS):
            continue
        value = _text(element)
        if not value:
            continue
        local = name.localname
        if local in ("title", "alternative"):
            item.titles.append(value)
        elif local == "creator":
            item.creators.append(value)
        elif local == "contributor":
            item.contributors.append(value)
        elif local == "issued":
            item.issued = item.issued or value
        elif local in ("date", "created", "available", "dateAccepted", "modified"):
            dates.append(value)
        elif local == "identifier":
            item.identifiers.append(value)
        elif local == "publisher":
            item.publishers.append(value)
        elif local == "type":
            item.types.append(value)
        elif local == "language":
            item.languages.append(value)
        elif local == "subject":
            item.subjects.append(value)
        elif local == "abstract":
            item.abstracts.append(value)
        elif local == "description":
            item.descriptions.append(value)
        elif local in ("rights", "accessRights", "license"):
            item.rights.append(value)
    if item.issued is None:
        # oai_dc gives every date in dc:date: the accession stamps are timestamps, the date of
        # issue a year, a month or a day
        plain = [d for d in dates if not _TIMESTAMP.match(d)]
        item.issued = plain[0] if plain else None
    item.dates = dates
    if not item.abstracts:  # oai_dc: the abstract is one of the descriptions
        item.abstracts, item.descriptions = item.descriptions[:1], item.descriptions[1:]
    return item

"""A record's search document and its rows in the embedded index: pure functions with no database
behind them, so that ingest workers compute them (and import no more than they need)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from catalog.identifiers import isbn10
from catalog.search import embedded_facets as facet_store
from catalog.search.query import HIT_FIELDS, decade_of
from catalog.search.typo_words import words_of
from catalog.text import exact_key, fold


def document(
    union_id: int, title: str | None, fields: dict[str, Any], holdings: dict[str, int]
) -> dict[str, Any]:
    isbns = list(fields.get("isbns") or [])
    isbns += [v for v in (isbn10(i) for i in isbns) if v]
    links = fields.get("links") or []
    year = fields.get("year")
    doc = {
        "id": union_id,
        "title": title,
        "subtitle": fields.get("subtitle"),
        "authors": [a["name"] for a in fields.get("authors") or []],
        "subjects": list(fields.get("subjects") or []),
        "publisher": fields.get("publisher"),
        "year": year,
        "decade": decade_of(year),
        "languages": list(fields.get("languages") or []),
        "material_type": fields.get("material_type"),
        "series": [s["title"] for s in fields.get("series") or []],
        "isbns": isbns,
        # ISBNs printed with a wrong check digit (3,015 of the 250,000 LoC records carry one): never
        # shown as the edition's ISBN, but found when a reader types them as printed
        "isbns_as_printed": list(fields.get("invalid_isbns") or []),
        "issns": [v.replace("-", "") for v in fields.get("issns") or []],
        "classification": [v for values in (fields.get("classification") or {}).values() for v in values],
        **holdings_fields(holdings),
        "has_digital": bool(fields.get("electronic")) or any(link.get("kind") != "related" for link in links),
        # set from the digital library by catalog.search.documents (the embedded engine asks the
        # catalogue itself: see the facet registry)
        "has_fulltext": False,
        "title_sort": fold(fields.get("sort_title") or fields.get("title")),
    }
    return with_search_text(doc)


def holdings_fields(holdings: Mapping[str, int]) -> dict[str, Any]:
    """What a search document says of the holdings ({library code: copies}) of its union record."""
    return {
        "libraries": sorted(holdings),
        "holdings": dict(sorted(holdings.items())),
        "library_count": len(holdings),
        "copies": sum(holdings.values()),
    }


def plus_copies(holdings: Mapping[str, int], added: Mapping[str, int]) -> dict[str, int]:
    """A holdings summary ({library code: copies}) with the copies of new members added."""
    out = dict(holdings)
    for code, copies in added.items():
        out[code] = out.get(code, 0) + copies
    return out


def _title_with_subtitle(title: str | None, subtitle: str | None) -> tuple[str, str]:
    """The title searched, as is and folded: a union record's title shows its subtitle already
    ("Dollars & sense : planning for profit ..."), so the subtitle is added only where it does not.
    Searched twice, its words counted double and ran into the title's as a phrase no record holds."""
    folded = fold(title)
    if not subtitle:
        return title or "", folded
    folded_subtitle = fold(subtitle)
    if folded_subtitle in folded:
        return title or "", folded
    return " ".join(filter(None, [title, subtitle])), f"{folded} {folded_subtitle}".strip()


def with_search_text(doc: dict[str, Any]) -> dict[str, Any]:
    """Add the folded text both engines search (and the diacritics-keeping text that ranks exact
    spellings first). Computed where the document is built: in the ingest's worker processes."""
    title, doc["title_folded"] = _title_with_subtitle(doc["title"], doc["subtitle"])
    doc["authors_folded"] = [fold(a) for a in doc["authors"]]
    doc["subjects_folded"] = [fold(s) for s in doc["subjects"]]
    doc["publisher_folded"] = fold(doc["publisher"])
    doc["other_folded"] = " ".join(
        [
            fold(" ".join(filter(None, [doc["publisher"], *doc["series"], *doc["classification"]]))),
            *doc["isbns"],
            *doc.get("isbns_as_printed", ()),
            *doc["issns"],
        ]
    )
    doc["exact"] = exact_key(" ".join(filter(None, [title, *doc["authors"], *doc["subjects"]])))
    return doc


class IndexRows(NamedTuple):
    """What the embedded index stores for one search document, but its id."""

    fts: tuple[str, str, str, str]  # title, authors, subjects, other: folded
    exact: str  # with diacritics
    year: int | None
    title_sort: str
    has_digital: int
    payload: str  # the hit's fields, JSON
    codes: bytes  # facet value codes, packed
    entries: list[tuple[int, str, str]]  # (code, facet, value) for the dictionary
    words: frozenset[str]  # the words of title, authors and subjects a typo may stand for


def index_rows(doc: dict[str, Any]) -> IndexRows:
    """The rows of ``doc``: a pure function, so that ingest workers compute them for the records
    that are union records of their own, and the single writer only inserts."""
    payload = {k: doc[k] for k in HIT_FIELDS}
    payload["isbns"] = [i for i in doc["isbns"] if len(i) == 13]
    codes, entries = facet_store.codes_of(doc)
    fts = (
        doc["title_folded"],
        " ; ".join(doc["authors_folded"]),
        " ; ".join(doc["subjects_folded"]),
        doc["other_folded"],
    )
    return IndexRows(
        fts=fts,
        exact=doc["exact"],
        year=doc["year"],
        title_sort=doc["title_sort"] or "",
        has_digital=int(doc["has_digital"]),
        payload=orjson.dumps(payload).decode(),
        codes=codes,
        entries=entries,
        words=frozenset(words_of(fts[:3])),
    )

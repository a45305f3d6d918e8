"""Citations of a union record: CSL-JSON (the data every reference manager reads), BibTeX, and
references formatted by a CSL style with citeproc-py.

The styles are vendored in ``api/styles/`` from the Citation Style Language styles repository
(CC BY-SA 3.0): APA 7th edition, and the Vietnam Ministry of Education and Training style in
Vietnamese, the closest the repository has to the national standard TCVN 7115 (which it has no
style for). The record's description is the union record's merged fields.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from catalog.links import linkable

STYLES_DIR = Path(__file__).parent / "styles"
# style name -> (its CSL file, the locale its terms are in)
STYLES = {
    "apa": ("apa.csl", "en-US"),
    "vietnam-moet": ("vietnam-ministry-of-education-and-training-vi.csl", "vi-VN"),
}
CSL_TYPES = {
    "book": "book",
    "serial": "periodical",
    "score": "musical_score",
    "music recording": "song",
    "sound recording": "song",
    "map": "map",
    "video": "motion_picture",
    "manuscript": "manuscript",
}
BIBTEX_TYPES = {"book": "book", "serial": "periodical", "manuscript": "unpublished"}
_BIBTEX_SPECIAL = re.compile(r"([\\{}%&#_$^~])")
_KEY = re.compile(r"[^A-Za-z0-9]")
_MARKUP = re.compile(r"</?(i|b|span|sup|sub)( style=\"[a-z:;\- ]*\")?>")  # what citeproc-py's HTML writes


def _person(name: str) -> dict[str, str]:
    """A person's name as CSL wants it: 'Family, Given' split, dates and trailing marks dropped."""
    name = re.sub(r",?\s*\d{3,4}-?(\d{3,4})?\.?$", "", name.strip()).strip(" ,.")
    family, _, given = name.partition(",")
    if given.strip():
        return {"family": family.strip(), "given": given.strip(" .")}
    return {"literal": name}


def csl_item(record_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    """The union record ``record_id`` as a CSL-JSON item."""
    title = fields.get("title") or ""
    if fields.get("subtitle"):
        title = f"{title}: {fields['subtitle']}"
    item: dict[str, Any] = {
        "id": f"unioncat-{record_id}",
        "type": CSL_TYPES.get(fields.get("material_type") or "", "book"),
        "title": title,
    }
    authors = []
    for author in fields.get("authors", []):
        name = str(author.get("name") or "").strip()
        if name:
            authors.append(_person(name) if author.get("kind") == "person" else {"literal": name.strip(" .")})
    if authors:
        item["author"] = authors
    if fields.get("year"):
        item["issued"] = {"date-parts": [[int(fields["year"])]]}
    for key, csl in (("publisher", "publisher"), ("place", "publisher-place"), ("edition", "edition")):
        if fields.get(key):
            item[csl] = str(fields[key]).strip(" :,;/")
    if fields.get("isbns"):
        item["ISBN"] = fields["isbns"][0]
    if fields.get("issns"):
        item["ISSN"] = fields["issns"][0]
    if fields.get("language"):
        item["language"] = fields["language"]
    links = [link["url"] for link in fields.get("links", []) if linkable(link.get("url"))]
    if links:  # the work's own address (856); the catalogue's page is not where the work is
        item["URL"] = links[0]
    return item


def _bibtex_text(value: str) -> str:
    """Text as a BibTeX field holds it: its special characters escaped, nothing a TeX run executes."""
    value = re.sub(r"[\x00-\x1f\x7f]", " ", value)
    return _BIBTEX_SPECIAL.sub(lambda m: {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}.get(
        m.group(1), "\\" + m.group(1)), value)  # fmt: skip


def bibtex(record_id: int, fields: dict[str, Any]) -> str:
    """The union record ``record_id`` as a BibTeX entry (UTF-8; biber and BibLaTeX read it as is)."""
    item = csl_item(record_id, fields)
    kind = BIBTEX_TYPES.get(
        fields.get("material_type") or "", "misc" if fields.get("material_type") else "book"
    )
    authors = " and ".join(  # an organisation in braces: BibTeX does not split it into names
        f"{_bibtex_text(a['family'])}, {_bibtex_text(a['given'])}"
        if "family" in a
        else "{" + _bibtex_text(a["literal"]) + "}"
        for a in item.get("author", [])
    )
    entries = [
        ("author", authors),
        ("year", str(item["issued"]["date-parts"][0][0]) if "issued" in item else None),
        ("publisher", item.get("publisher")),
        ("address", item.get("publisher-place")),
        ("edition", item.get("edition")),
        ("isbn", item.get("ISBN")),
        ("issn", item.get("ISSN")),
        ("language", item.get("language")),
        ("url", item.get("URL")),
    ]
    lines = [
        f"@{kind}{{unioncat{_KEY.sub('', str(record_id))},",
        f"  title = {{{_bibtex_text(item['title'])}}},",
    ]
    for name, value in entries:
        if value:
            text = value if name == "author" else _bibtex_text(value)
            lines.append(f"  {name} = {{{text}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"


@cache
def _style(name: str) -> Any:
    from citeproc import CitationStylesStyle

    filename, locale = STYLES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # citeproc-py warns of the CSL features it leaves out
        return CitationStylesStyle(str(STYLES_DIR / filename), locale=locale, validate=False)


def formatted(record_id: int, fields: dict[str, Any], style: str, html: bool = False) -> str:
    """The reference to the record in ``style`` (one of :data:`STYLES`), as plain text or as HTML
    (escaped by citeproc-py; only its own ``<i>``/``<b>`` markup)."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    item = csl_item(record_id, fields)
    if html:  # citeproc-py's HTML escapes its own words, never the item's: they are escaped here
        item = _escaped(item)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography = CitationStylesBibliography(
            _style(style), CiteProcJSON([item]), formatter.html if html else formatter.plain
        )
        bibliography.register(Citation([CitationItem(item["id"])]))
        [reference] = bibliography.bibliography()
    text = re.sub(r"^1\.\s*", "", str(reference)).strip()  # a numbered style numbers its one entry
    if html and _MARKUP.sub("", text).count("<"):  # nothing but citeproc-py's own markup, ever
        raise ValueError(f"record {record_id}: the formatted citation holds markup of its own")
    return text


def _escaped(value: Any) -> Any:
    """``value`` with every string in it escaped for HTML."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: v if k in ("id", "type") else _escaped(v) for k, v in value.items()}
    return value

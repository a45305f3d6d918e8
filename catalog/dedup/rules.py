"""Pair decisions: do two source records describe the same edition? Explicit rules, each with a reason.

The approach follows NatLibFi RecordManager (Finna, VuFind) and WorldCat practice, made stricter where
a wrong merge would tell a reader that a library holds a book it does not:

* a shared trusted identifier (ISBN-13, LCCN, OCLC number; ISSN with a similar title) accepts the pair
  unless a hard conflict says otherwise;
* without one, the title, main author, year, publisher and extent must all agree (a year missing on
  one side is no conflict when title, main author and publisher agree);
* hard conflicts reject: different material type or carrier, publication years more than a year apart
  (a year apart only when an identifier and everything else agree), different edition statements,
  different volume or part numbers, page counts more than 10 % apart, titles too far apart, authors
  that cannot be the same person, disjoint ISBNs or ISSNs.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz

from catalog.identifiers import isbn13
from catalog.text import fold

_NUMBER = re.compile(r"\b(?:\d+|[ivxlc]+)\b")
_ROMAN = re.compile(r"^[ivxlc]+$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "nhat": 1, "hai": 2, "ba": 3, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8,
    "chin": 9, "muoi": 10, "premiere": 1, "deuxieme": 2, "erste": 1, "zweite": 2,
}  # fmt: skip
_EDITION_NUMBER = re.compile(r"(\d+)")
_PUBLISHER_NOISE = frozenset(
    [
        "nha",
        "xuat",
        "ban",
        "nxb",
        "publishing",
        "publishers",
        "publisher",
        "press",
        "inc",
        "ltd",
        "co",
        "company",
        "corp",
        "the",
        "and",
        "books",
        "verlag",
        "editions",
        "editorial",
        "cong",
        "ty",
        "tnhh",
    ]
)
# Letters only Vietnamese uses among Latin scripts (after folding case): names with them are compared in full.
_VIETNAMESE_MARKS = frozenset("\u0306\u031b\u0309\u0323")
_VIETNAMESE_LETTERS = frozenset("ăâđêôơư")

# Rule names, strongest evidence first: the clustering joins strong edges before weak ones (a
# librarian's merge, catalog.dedup.manual, first of all).
STRENGTH = {"manual": 4, "isbn": 3, "lccn": 3, "oclc": 3, "issn": 2, "title": 1}


@dataclass(slots=True)
class MatchView:
    """What the rules need of a source record."""

    id: int
    library: str
    local_id: str
    title: str
    subtitle: str
    numbers: tuple[int, ...]
    year: int | None
    edition: int | None
    pages: int | None
    volumes: int | None  # "2 v." in the extent: a multi-volume set
    material: str
    electronic: bool
    isbns: frozenset[str]
    issns: frozenset[str]
    lccn: str | None
    oclc: frozenset[str]
    author: tuple[str, ...] | None
    author_vietnamese: bool
    publisher: str
    series_volumes: frozenset[str] = field(default_factory=frozenset)

    @property
    def order_key(self) -> tuple[str, str]:
        return (self.library, self.local_id)


_SETS = ("isbns", "issns", "oclc", "series_volumes")
_TUPLES = ("numbers", "author")
_IDENTITY = ("id", "library", "local_id")


def content(match: MatchView) -> dict[str, Any]:
    """What the rules read of a record beyond who holds it, as JSON-ready values (sets sorted).

    Two records of different libraries with equal contents get the same decision against any third
    record: :func:`decide` reads nothing else of them but the library."""
    out: dict[str, Any] = {}
    for name in _CONTENT:
        value = getattr(match, name)
        out[name] = sorted(value) if name in _SETS else list(value) if name in _TUPLES and value else value
    return out


def from_content(data: dict[str, Any], record_id: int, library: str, local_id: str) -> MatchView:
    """The view of the record ``record_id`` of ``library`` whose content (see :func:`content`) is ``data``."""
    values = {
        name: frozenset(v) if name in _SETS else tuple(v) if name in _TUPLES and v is not None else v
        for name, v in data.items()
    }
    return MatchView(id=record_id, library=library, local_id=local_id, **values)


_CONTENT = tuple(f.name for f in dataclasses.fields(MatchView) if f.name not in _IDENTITY)


@dataclass(frozen=True, slots=True)
class Decision:
    accepted: bool
    rule: str
    reason: str

    def row(self, record_a_id: int, record_b_id: int, decided_at: datetime) -> dict[str, Any]:
        """The decision as a match_decision row about the pair (``record_a_id`` < ``record_b_id``)."""
        return {
            "record_a_id": record_a_id,
            "record_b_id": record_b_id,
            "accepted": self.accepted,
            "rule": self.rule,
            "reason": self.reason,
            "decided_at": decided_at,
        }


def _numbers(text: str) -> tuple[int, ...]:
    out = []
    for token in _NUMBER.findall(text):
        if token.isdigit():
            out.append(int(token))
        elif _ROMAN.match(token) and token not in ("i", "c", "l"):  # lone letters are words, not numerals
            out.append(sum(_ROMAN_VALUES[ch] for ch in token))  # additive is enough to tell volumes apart
    return tuple(sorted(out))


_VOLUMES = re.compile(r"\b(\d+)\s*(?:v|vols?|volumes?|tap|quyen)\b", re.IGNORECASE)


def _volumes(extent: str | None) -> int | None:
    match = _VOLUMES.search(fold(extent)) if extent else None
    return int(match.group(1)) if match else None


def edition_number(statement: str | None) -> int | None:
    if not statement:
        return None
    folded = fold(statement)
    match = _EDITION_NUMBER.search(folded)
    if match:
        return int(match.group(1))
    for word in folded.split():
        if word in _ORDINALS:
            return _ORDINALS[word]
    return None


def _is_vietnamese_name(name: str) -> bool:
    lowered = name.lower()
    if any(ch in _VIETNAMESE_LETTERS for ch in lowered):
        return True
    return any(ch in _VIETNAMESE_MARKS for ch in unicodedata.normalize("NFD", lowered))


def view(record_id: int, library: str, local_id: str, fields: dict[str, Any]) -> MatchView:
    title = fold(fields.get("sort_title") or fields.get("title"))
    main = next((a for a in fields.get("authors") or [] if a.get("main")), None)
    author = None
    if main:
        words = tuple(w for w in fold(main["name"]).split() if not w.isdigit())
        author = words or None
    publisher = " ".join(w for w in fold(fields.get("publisher")).split() if w not in _PUBLISHER_NOISE)
    oclc = frozenset(s["number"] for s in fields.get("system_numbers") or [] if s.get("org") == "OCoLC")
    volumes = frozenset(fold(s.get("volume")) for s in fields.get("series") or [] if s.get("volume"))
    return MatchView(
        id=record_id,
        library=library,
        local_id=local_id,
        title=title,
        subtitle=fold(fields.get("subtitle")),
        numbers=_numbers(title),
        year=fields.get("year"),
        edition=edition_number(fields.get("edition")),
        pages=fields.get("pages"),
        volumes=_volumes(fields.get("extent")),
        material=fields.get("material_type") or "book",
        electronic=bool(fields.get("electronic")),
        isbns=frozenset(fields.get("isbns") or ()),
        issns=frozenset(fields.get("issns") or ()),
        lccn=fields.get("lccn"),
        oclc=oclc,
        author=author,
        author_vietnamese=bool(main) and _is_vietnamese_name(main["name"]),
        publisher=publisher,
        series_volumes=volumes,
    )


def authors_compatible(a: MatchView, b: MatchView) -> bool | None:
    """True when the main authors can be the same person, False when not, None when one has none.

    Vietnamese names are compared in full and in order ("Nguyễn Văn An" is not "Nguyễn Văn Anh", and
    no initials): most of a name is shared by millions. Other names may abbreviate given names.
    """
    if a.author is None or b.author is None:
        return None
    if a.author == b.author:
        return True
    if a.author_vietnamese or b.author_vietnamese or a.author[0] != b.author[0]:
        return False
    rest_a, rest_b = a.author[1:], b.author[1:]
    for x, y in zip(rest_a, rest_b, strict=False):
        if x != y and not (len(x) == 1 and y.startswith(x)) and not (len(y) == 1 and x.startswith(y)):
            return False
    return True


def _publishers_similar(a: MatchView, b: MatchView) -> bool | None:
    if not a.publisher or not b.publisher:
        return None
    return fuzz.token_set_ratio(a.publisher, b.publisher) >= 70


def _conflict(a: MatchView, b: MatchView, title_score: float, identified: bool) -> str | None:
    """The first hard conflict between two records, or None."""
    if a.material != b.material:
        return f"different material types ({a.material} / {b.material})"
    if a.electronic != b.electronic:
        return "one is an electronic resource, the other is not"
    if a.issns and b.issns and not a.issns & b.issns:
        return "different ISSNs"
    if a.isbns and b.isbns and not a.isbns & b.isbns:
        return "different ISBNs"
    if a.year is not None and b.year is not None and a.year != b.year:
        close = abs(a.year - b.year) == 1
        if not (close and identified and title_score >= 95 and _publishers_similar(a, b) is not False):
            return f"different publication years ({a.year} / {b.year})"
    if a.edition is not None and b.edition is not None and a.edition != b.edition:
        return f"different editions ({a.edition} / {b.edition})"
    if a.numbers != b.numbers and (a.numbers or b.numbers):
        return "different volume or part numbers in the titles"
    if a.series_volumes and b.series_volumes and not a.series_volumes & b.series_volumes:
        return "different numbering in the series"
    if (a.volumes or 1) != (b.volumes or 1) and (a.volumes or a.pages) and (b.volumes or b.pages):
        return f"different numbers of volumes ({a.volumes or 1} / {b.volumes or 1})"
    if a.pages and b.pages and abs(a.pages - b.pages) > 0.1 * max(a.pages, b.pages):
        return f"page counts more than 10% apart ({a.pages} / {b.pages})"
    if authors_compatible(a, b) is False:
        return "main authors cannot be the same"
    return None


def ignored_isbns(values: Iterable[str]) -> frozenset[str]:
    """The configured ISBNs never to match on, as records carry them (ISBN-13, no hyphens): an
    operator may write ``0-306-40615-2`` for the record's ``9780306406157``."""
    return frozenset(isbn13(v) or v for v in values)


def shared_identifier(a: MatchView, b: MatchView, untrusted: frozenset[str]) -> tuple[str, str] | None:
    """(rule, value) of the strongest identifier both records carry, ISBNs on the ignore list excepted."""
    isbns = (a.isbns & b.isbns) - untrusted
    if isbns:
        return "isbn", min(isbns)
    if a.lccn and a.lccn == b.lccn:
        return "lccn", a.lccn
    oclc = a.oclc & b.oclc
    if oclc:
        return "oclc", min(oclc)
    issns = a.issns & b.issns
    if issns:
        return "issn", min(issns)
    return None


def decide(a: MatchView, b: MatchView, untrusted: frozenset[str] = frozenset()) -> Decision:
    """Whether ``a`` and ``b`` describe the same edition, with the rule and the reason."""
    if a.library == b.library:
        return Decision(False, "same-library", "records of one library are never merged")
    title_score = fuzz.ratio(a.title, b.title) if a.title and b.title else 0.0
    identifier = shared_identifier(a, b, untrusted)
    conflict = _conflict(a, b, title_score, identifier is not None)
    if identifier:
        rule, value = identifier
        if conflict:
            return Decision(False, "conflict", f"shared {rule.upper()} {value}, but {conflict}")
        needed = 80 if rule == "issn" else 60
        if title_score < needed:
            return Decision(
                False,
                "title",
                f"shared {rule.upper()} {value}, but titles too different ({title_score:.0f}%)",
            )
        return Decision(True, rule, f"same {rule.upper()} {value}, no conflict (title {title_score:.0f}%)")
    if conflict:
        return Decision(False, "conflict", conflict)
    if title_score < 92:
        return Decision(False, "title", f"titles too different ({title_score:.0f}%)")
    if a.subtitle and b.subtitle and fuzz.ratio(a.subtitle, b.subtitle) < 80:
        return Decision(False, "title", "subtitles differ")
    authors = authors_compatible(a, b)
    publishers = _publishers_similar(a, b)
    if a.year is None and b.year is None:
        return Decision(False, "title", "no shared identifier and no publication year")
    if a.year is None or b.year is None:
        # A year left out on one side is no conflict when title, main author and publisher agree.
        if not (authors and publishers):
            return Decision(
                False, "title", "no shared identifier, a publication year missing and too little else agrees"
            )
        return Decision(
            True,
            "title",
            f"same title ({title_score:.0f}%), main author, publisher"
            + (", extent" if a.pages and b.pages else "")
            + f"; year {a.year or b.year} on one side only",
        )
    if publishers is False:
        return Decision(False, "title", "no shared identifier and different publishers")
    if authors is None and (a.author or b.author) and (publishers is not True or not (a.pages and b.pages)):
        return Decision(
            False, "title", "no shared identifier, one main author missing and too little else agrees"
        )
    if publishers is None and authors is not True:
        return Decision(False, "title", "no shared identifier, and neither publisher nor author to confirm")
    return Decision(
        True,
        "title",
        f"same title ({title_score:.0f}%), year {a.year}"
        + (", main author" if authors else "")
        + (", publisher" if publishers else "")
        + (", extent" if a.pages and b.pages else ""),
    )

"""The text inside digital objects, for search: the embedded engine's page index, the records a
search finds only by words inside their files, and the snippets of the pages that matched.

The index (``page_fts``, migration 0021) is a contentless FTS5 table over each page's folded text;
a page's rowid is its object's id and its number together (:func:`rowid`), so that the pages of one
object are one range of rowids. The text itself stays in ``digital_page``; snippets are cut from
it. Who may read an object's text is decided by :func:`catalog.digital.access.may_read` alone: a
page of an object the reader may not read neither finds its record nor shows a snippet.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from catalog.db import rows_in
from catalog.digital.access import ANONYMOUS, Reader, may_read
from catalog.search.matching import MAX_TYPED_WORDS, Plan, quote
from catalog.search.query import ParsedQuery, fold_word
from catalog.text import fold

PAGE_BITS = 20  # room for 1,048,576 pages per object (extraction reads at most 10,000)
SCAN_PAGES = 1000  # matching pages a search looks at for records found by their text
SNIPPET_PAGES = 3  # pages shown per hit
SNIPPET_WORDS = 24  # words of a snippet
_WORD = re.compile(r"\w+")


def rowid(object_id: int, page: int) -> int:
    return (object_id << PAGE_BITS) | page


def object_of(row: int) -> int:
    return row >> PAGE_BITS


def page_of(row: int) -> int:
    return row & ((1 << PAGE_BITS) - 1)


# ------------------------------------------------------------------------------------- writing
def index(raw: Any, object_id: int, pages: Iterable[tuple[int, str]]) -> None:
    """Index the pages (number, display text) of one object (raw: a sqlite3 connection)."""
    raw.executemany(
        "INSERT INTO page_fts (rowid, text) VALUES (?, ?)",
        ((rowid(object_id, page), fold(text)) for page, text in pages if text),
    )


def unindex(raw: Any, object_id: int) -> None:
    """Remove an object's pages from the index; read from digital_page (a contentless index is
    told what it held), so call it before the pages are deleted."""
    rows = raw.execute(
        "SELECT page, text FROM digital_page WHERE object_id = ? AND text != ''", (object_id,)
    ).fetchall()
    raw.executemany(
        "INSERT INTO page_fts (page_fts, rowid, text) VALUES ('delete', ?, ?)",
        [(rowid(object_id, page), fold(text)) for page, text in rows],
    )


def rebuild(raw: Any) -> int:
    """Index anew the pages of every active object; how many pages."""
    raw.execute("INSERT INTO page_fts (page_fts) VALUES ('delete-all')")
    count = 0
    last = -1
    while True:  # in slices of objects: the text of a million pages is not read at once
        ids = [
            r[0]
            for r in raw.execute(
                "SELECT id FROM digital_object WHERE id > ? AND status = 'active' "
                "AND text_status = 'extracted' ORDER BY id LIMIT 200",
                (last,),
            )
        ]
        if not ids:
            return count
        marks = ",".join("?" * len(ids))
        rows = raw.execute(
            f"SELECT object_id, page, text FROM digital_page WHERE object_id IN ({marks}) AND text != ''",
            ids,
        ).fetchall()
        raw.executemany(
            "INSERT INTO page_fts (rowid, text) VALUES (?, ?)",
            [(rowid(o, p), fold(t)) for o, p, t in rows],
        )
        count += len(rows)
        last = ids[-1]


# ------------------------------------------------------------------------------------- reading
def page_plan(plan: Plan) -> Plan:
    """The records' matching plan as the page index reads it: whole words (no word is a prefix:
    the page index keeps no prefix index), the same alternatives (Telex/VNI repairs, i/y, typos)."""
    return Plan([replace(t, prefix=False) for t in plan.terms], plan.phrases, plan.exact_words)


def expression(plan: Plan) -> str | None:
    return page_plan(plan).expression(columns="text")


def phrase_expression(plan: Plan) -> str | None:
    """The words the reader most likely meant as a phrase on a page (None for one word): pages
    holding it rank first."""
    words = [w for t in plan.terms for w in t.best.split()] + [w for p in plan.phrases for w in p]
    if not 2 <= len(words) <= MAX_TYPED_WORDS:
        return None
    return f"text : {quote(' '.join(words))}"


@dataclass(frozen=True)
class ObjectRow:
    """What the access rule and the search read of a digital object."""

    id: int
    library_id: int
    status: str
    access: str
    embargo_until: Any
    union_id: int | None


_COLUMNS = "o.id, o.library_id, o.status, o.access, o.embargo_until, s.union_record_id"
_BY_OBJECT = (
    f"SELECT {_COLUMNS} FROM digital_object o LEFT JOIN source_record s "
    "ON s.id = o.source_record_id AND s.status = 'active' WHERE o.id IN ({ids})"
)
_BY_RECORD = (  # read from the records' side, by index
    f"SELECT {_COLUMNS} FROM source_record s JOIN digital_object o ON o.source_record_id = s.id "
    "WHERE s.status = 'active' AND o.status = 'active' AND o.text_status = 'extracted' "
    "AND s.union_record_id IN ({ids})"
)


def _objects(conn: Connection, sql: str, ids: Sequence[int]) -> list[ObjectRow]:
    """The objects ``sql`` (one of the statements above) reads for ``ids``. Read on the driver: a
    broad query's candidates are hundreds of objects, which SQLAlchemy's rows made slow."""
    out = []
    for row in rows_in(conn, sql, [int(i) for i in ids]):
        until = row[4]
        if isinstance(until, str):  # SQLite keeps a datetime as text
            until = datetime.fromisoformat(until)
        out.append(ObjectRow(row[0], row[1], row[2], row[3], until, row[5]))
    return out


@dataclass
class TextMatches:
    """Records found by words inside their files: union id -> (score, lower is better)."""

    scores: dict[int, tuple[Any, int]]
    capped: bool  # more pages matched than were looked at
    # the first matching pages of each object among those looked at (object id -> page numbers)
    pages: dict[int, list[int]] = field(default_factory=dict)


def readable_objects(
    conn: Connection, object_ids: Sequence[int], reader: Reader | None
) -> dict[int, ObjectRow]:
    """The objects of ``object_ids`` that ``reader`` may read and that belong to a union record."""
    return {
        obj.id: obj
        for obj in _objects(conn, _BY_OBJECT, object_ids)
        if obj.union_id is not None and may_read(obj, reader or ANONYMOUS)
    }


def records_of(conn: Connection, scores: dict[int, Any], reader: Reader | None) -> dict[int, tuple[Any, int]]:
    """The union records of the objects scored in ``scores`` (object id -> score, lower is better)
    that ``reader`` may read, each scored by its best object: union id -> (score, union id)."""
    out: dict[int, tuple[Any, int]] = {}
    for obj_id, obj in readable_objects(conn, list(scores), reader).items():
        assert obj.union_id is not None
        score = (scores[obj_id], obj.union_id)
        if obj.union_id not in out or score < out[obj.union_id]:
            out[obj.union_id] = score
    return out


def find_records(conn: Connection, plan: Plan, reader: Reader | None) -> TextMatches:
    """The union records holding a readable object with a page matching ``plan`` (among the first
    SCAN_PAGES matching pages), each scored by its best object: one holding the words as a phrase
    first, then the more of its pages match the better.

    bm25 is not used: FTS5 counts, for it, every page holding each word, which costs hundreds of
    milliseconds for a common word over a million pages."""
    match = expression(plan)
    if match is None:
        return TextMatches({}, False)
    rows = conn.exec_driver_sql(
        "SELECT rowid FROM page_fts WHERE page_fts MATCH ? LIMIT ?", (match, SCAN_PAGES + 1)
    ).all()
    if not rows:
        return TextMatches({}, False)
    capped = len(rows) > SCAN_PAGES
    pages: dict[int, list[int]] = defaultdict(list)
    for (row,) in rows[:SCAN_PAGES]:
        pages[object_of(row)].append(page_of(row))
    together: set[int] = set()
    phrase = phrase_expression(plan)
    if phrase is not None:  # among the pages looked at: a rare phrase of common words is no long scan
        together = {
            object_of(row)
            for (row,) in conn.exec_driver_sql(
                "SELECT rowid FROM page_fts WHERE page_fts MATCH ? AND rowid <= ?",
                (phrase, rows[min(len(rows), SCAN_PAGES) - 1][0]),
            ).all()
        }
    scores = {obj: (obj not in together, -len(found)) for obj, found in pages.items()}
    first = {obj: found[:SNIPPET_PAGES] for obj, found in pages.items()}
    return TextMatches(records_of(conn, scores, reader), capped, first)


def text_objects(conn: Connection, union_ids: Sequence[int], reader: Reader | None) -> list[ObjectRow]:
    """The active objects with extracted text of ``union_ids`` that ``reader`` may read."""
    objects = _objects(conn, _BY_RECORD, union_ids) if union_ids else []
    return [obj for obj in objects if obj.union_id is not None and may_read(obj, reader or ANONYMOUS)]


@dataclass(frozen=True)
class PageHit:
    object: int
    page: int
    snippet: str

    def as_dict(self) -> dict[str, Any]:
        return {"object": self.object, "page": self.page, "snippet": self.snippet}


def page_hits(
    conn: Connection,
    plan: Plan,
    union_ids: Sequence[int],
    reader: Reader | None,
    words: ParsedQuery,
    known: dict[int, list[int]] | None = None,
) -> dict[int, list[PageHit]]:
    """For each of ``union_ids``, the first pages (at most SNIPPET_PAGES) holding every word of the
    objects ``reader`` may read, with snippets (the embedded engine's page index). Not ranked by
    bm25 (see find_records), nor by phrase: a phrase absent from an object costs FTS5 a pass over
    every position of its words in the object's pages. ``known``: the first matching pages of
    objects, already found (see TextMatches.pages)."""
    match = expression(plan)
    known = known or {}
    if match is None:
        return {}
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for obj in text_objects(conn, union_ids, reader):
        assert obj.union_id is not None
        if obj.id in known:
            found[obj.union_id] += [(obj.id, page) for page in known[obj.id]]
            continue
        rows = conn.exec_driver_sql(
            "SELECT rowid FROM page_fts WHERE page_fts MATCH ? AND rowid >= ? AND rowid < ? LIMIT ?",
            (match, rowid(obj.id, 0), rowid(obj.id + 1, 0), SNIPPET_PAGES),
        ).all()
        found[obj.union_id] += [(obj.id, page_of(row)) for (row,) in rows]
    best = {uid: pairs[:SNIPPET_PAGES] for uid, pairs in found.items() if pairs}
    return snippets(conn, best, words)


def snippets(
    conn: Connection, best: dict[int, list[tuple[int, int]]], words: ParsedQuery
) -> dict[int, list[PageHit]]:
    """The snippets of the pages (object, page) chosen for each union record, cut from their text."""
    wanted = [pair for pairs in best.values() for pair in pairs]
    if not wanted:
        return {}
    texts: dict[tuple[int, int], str] = {}
    for start in range(0, len(wanted), 400):
        part = wanted[start : start + 400]
        rows = conn.exec_driver_sql(
            "SELECT object_id, page, text FROM digital_page WHERE "
            + " OR ".join("(object_id = ? AND page = ?)" for _ in part),
            tuple(v for pair in part for v in pair),
        ).all()
        texts.update({(o, p): t for o, p, t in rows})
    return {
        uid: [PageHit(o, p, snippet(texts.get((o, p), ""), words)) for o, p in pairs]
        for uid, pairs in best.items()
    }


def snippet(text: str, words: ParsedQuery, size: int = SNIPPET_WORDS) -> str:
    """Some ``size`` words of ``text`` around the first word the query matched, HTML-escaped, the
    matched words in <mark> (the only markup), "…" where the page goes on."""
    wanted = set(words.words)
    tokens = list(_WORD.finditer(text))
    if not tokens:
        return ""
    first = next((i for i, m in enumerate(tokens) if fold_word(m.group()) in wanted), 0)
    start = max(0, first - size // 3)
    end = min(len(tokens), start + size)
    start = max(0, min(start, end - size))
    begin = tokens[start].start() if start else 0
    finish = tokens[end - 1].end() if end < len(tokens) else len(text)
    out = ["… " if start > 0 else ""]
    last = begin
    for m in tokens[start:end]:
        if fold_word(m.group()) in wanted:
            out.append(html.escape(text[last : m.start()]))
            out.append(f"<mark>{html.escape(m.group())}</mark>")
            last = m.end()
    out.append(html.escape(text[last:finish]))
    out.append(" …" if end < len(tokens) else "")
    return "".join(out)

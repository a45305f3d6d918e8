"""The search quality benchmark's query set: records drawn at random, a query written from each the
way a reader types it (see bench/search_quality.py for the kinds and how they are scored).

Each kind has a writer: given a drawn record, its first title words and the random generator, it
returns the query and the records that answer it (by identity, their 001), or None when the record
does not lend itself to the kind (no diacritics to leave out, no ISBN ...), and another is drawn.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from catalog.search.vietnamese import with_keys
from catalog.text import fold

KINDS = (
    "no_diacritics", "full", "partial", "telex", "vni", "author", "subject", "prefix", "typo", "isbn", "d_dd",
)  # fmt: skip
PER_KIND = 15
SEED = 20261207
VIETNAMESE_KINDS = {"no_diacritics", "full", "partial", "telex", "vni", "author", "d_dd"}
MIXED_KINDS = {"prefix", "typo", "subject"}  # half from the records in Vietnamese, half from all
TITLE_WORDS = 6  # a reader types the first few words of a title
_DATES = re.compile(r",?\s*(?:\d{3,4}|\d{3,4}-\d{0,4}|b\.|d\.|fl\.).*$")

Record = dict[str, Any]  # {"id": union id, "f": fields, "ids": the 001 of its source records}
Query = tuple[str, list[str]]  # (query, the 001 of the records that answer it)


def natural_order(name: str) -> str:
    """A personal name heading in the order Vietnamese writes it: "Nguyễn, Văn A, 1930-" ->
    "Nguyễn Văn A"."""
    return " ".join(_DATES.sub("", name).replace(",", " ").split())


def one_typo(word: str, rng: random.Random) -> str:
    """``word`` with one typo (deletion, insertion, substitution or two letters swapped), never on
    its first letter."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    at = rng.randrange(1, len(word))
    kinds = (
        ("delete", "insert", "substitute", "swap")
        if at < len(word) - 1
        else ("delete", "insert", "substitute")
    )
    kind = rng.choice(kinds)
    if kind == "delete":
        return word[:at] + word[at + 1 :]
    if kind == "insert":
        return word[:at] + rng.choice(letters) + word[at:]
    if kind == "substitute":
        return word[:at] + rng.choice([c for c in letters if c != word[at]]) + word[at + 1 :]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def title_words(f: dict[str, Any]) -> list[str]:
    return re.findall(r"\w+", f.get("title") or "")


def _first_author(f: dict[str, Any]) -> str:
    authors = f.get("authors") or []
    return fold(authors[0]["name"]) if authors else ""


def _has_marks(word: str) -> bool:
    return fold(word) != word.lower()


@dataclass
class Answers:
    """Who answers what: the 001 of the records of each work (title and first author), author,
    subject heading and ISBN."""

    works: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    authors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    subjects: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    isbns: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, r: Record) -> None:
        f = r["f"]
        self.works[(fold(f.get("title")), _first_author(f))] += r["ids"]
        for a in f.get("authors") or []:
            self.authors[fold(natural_order(a["name"]))] += r["ids"]
        for s in f.get("subjects") or []:
            self.subjects[fold(s)] += r["ids"]
        for i in f.get("isbns") or []:
            self.isbns[i] += r["ids"]

    def work(self, r: Record) -> list[str]:
        return sorted(set(self.works[(fold(r["f"].get("title")), _first_author(r["f"]))]))


# ---------------------------------------------------------------------------------- writers
Writer = Callable[[Record, list[str], random.Random, Answers], "Query | None"]


def _no_diacritics(r: Record, words: list[str], rng: random.Random, answers: Answers) -> Query | None:
    return fold(" ".join(words)), answers.work(r)


def _full(r: Record, words: list[str], rng: random.Random, answers: Answers) -> Query | None:
    return " ".join(words), answers.work(r)


def _partial(r: Record, words: list[str], rng: random.Random, answers: Answers) -> Query | None:
    """Some words with their marks, the others without."""
    marked = [i for i, w in enumerate(words) if _has_marks(w)]
    if len(marked) < 2:
        return None
    keep = set(rng.sample(marked, rng.randrange(1, len(marked))))
    return " ".join(w if i in keep else fold(w) for i, w in enumerate(words)), answers.work(r)


def _keys(scheme: str) -> Writer:
    def write(r: Record, words: list[str], rng: random.Random, answers: Answers) -> Query | None:
        """Some of the words with marks typed with the scheme's keys, the others without marks."""
        marked = [i for i, w in enumerate(words) if _has_marks(w)]
        if not marked:
            return None
        keyed = set(rng.sample(marked, rng.randrange(1, len(marked) + 1)))
        q = " ".join(with_keys(w, scheme).lower() if i in keyed else fold(w) for i, w in enumerate(words))
        return q, answers.work(r)

    return write


def _author(r: Record, words: list[str], rng: random.Random, answers: Answers) -> Query | None:
    authors = [a for a in r["f"].get("authors") or [] if a.get("kind") == "person"]
    if not authors:
        return None
    name = natural_order(authors[0]["name"])
    return (name if rng.random() < 0.5 else fold(name)), sorted(set(answers.authors[fold(name)]))


def _subject(r: Record, words: list[str], rng: random.Random, answers: Answers) -> Query | None:
    subjects = r["f"].get("subjects") or []
    if not subjects:
        return None
    subject = rng.choice(subjects)
    return " ".join(subject.replace("--", " ").split()), sorted(set(answers.subjects[fold(subject)]))


def _prefix(r: Record, words: list[str], rng: random.Random, answers: Answers) -> Query | None:
    """The words typed so far, the last unfinished: at least three whole words before it (fewer in
    a shorter title), as a reader who has typed "a dict" types on."""
    folded = fold(" ".join(words)).split()
    cut = rng.randrange(min(3, len(folded) - 1), len(folded))
    last = folded[cut]
    if len(last) < 3:
        return None
    return " ".join([*folded[:cut], last[: rng.randrange(2, len(last))]]), answers.work(r)


def _typo(r: Record, words: list[str], rng: random.Random, answers: Answers) -> Query | None:
    """One typo in a word of five letters or more (of three or more in a title of short words)."""
    folded = fold(" ".join(words)).split()
    long = [i for i, w in enumerate(folded) if len(w) >= 5 and w.isalpha()]
    short = [i for i, w in enumerate(folded) if len(w) >= 3 and w.isalpha()]
    if not (long or short):
        return None
    at = rng.choice(long or short)
    folded[at] = one_typo(folded[at], rng)
    return " ".join(folded), answers.work(r)


def _isbn(r: Record, words: list[str], rng: random.Random, answers: Answers) -> Query | None:
    isbns = [i for i in r["f"].get("isbns") or [] if len(i) == 13]
    if not isbns:
        return None
    isbn = isbns[0]
    form = rng.randrange(3)
    hyphenated = f"{isbn[:3]}-{isbn[3:4]}-{isbn[4:8]}-{isbn[8:12]}-{isbn[12]}"
    q = hyphenated if form == 0 else (f"ISBN {isbn}" if form == 1 else isbn)
    return q, sorted(set(answers.isbns[isbn]))


def _d_dd(r: Record, words: list[str], rng: random.Random, answers: Answers) -> Query | None:
    """Without marks, đ typed as d or as dd."""
    if not any(ch in "đĐ" for ch in " ".join(words)):
        return None
    dd = rng.random() < 0.5
    q = " ".join(fold(w.replace("đ", "dd").replace("Đ", "Dd")) if dd else fold(w) for w in words)
    return q, answers.work(r)


WRITERS: dict[str, Writer] = {
    "no_diacritics": _no_diacritics,
    "full": _full,
    "partial": _partial,
    "telex": _keys("telex"),
    "vni": _keys("vni"),
    "author": _author,
    "subject": _subject,
    "prefix": _prefix,
    "typo": _typo,
    "isbn": _isbn,
    "d_dd": _d_dd,
}


# ------------------------------------------------------------------------------------ the draw
def records(engine: Any) -> list[Record]:
    """Every union record with a title, with the 001 of its source records."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT u.id, u.fields, group_concat(s.local_id, ' ') FROM union_record u "
                "JOIN source_record s ON s.union_record_id = u.id WHERE u.title IS NOT NULL GROUP BY u.id"
            )
        ).all()
    out = []
    for uid, fields, ids in rows:
        f = json.loads(fields) if isinstance(fields, str) else fields
        out.append({"id": uid, "f": f, "ids": sorted(ids.split())})
    return out


def build(engine: Any, seed: int = SEED) -> list[dict[str, Any]]:
    """The query set, drawn with ``seed``: PER_KIND queries of each kind."""
    rng = random.Random(seed)
    drawn = records(engine)
    answers = Answers()
    for r in drawn:
        answers.add(r)
    vietnamese = [
        r for r in drawn if "vie" in (r["f"].get("languages") or []) and len(title_words(r["f"])) >= 2
    ]
    everything = [r for r in drawn if len(title_words(r["f"])) >= 2]

    def words_of(r: Record) -> list[str]:
        words = title_words(r["f"])[:TITLE_WORDS]
        if len(words) < 3 and r["f"].get("authors"):  # a short title: the reader adds the author
            words += natural_order(r["f"]["authors"][0]["name"]).split()[:1]
        return words

    queries: list[dict[str, Any]] = []
    for kind in KINDS:
        made = tries = 0
        while made < PER_KIND and tries < 20_000:
            tries += 1
            mixed = kind in MIXED_KINDS and rng.random() < 0.5
            r = rng.choice(vietnamese if kind in VIETNAMESE_KINDS or mixed else everything)
            written = WRITERS[kind](r, words_of(r), rng, answers)
            if written is None:
                continue
            q, expected = written
            if q.strip() and expected and not any(x["q"] == q for x in queries):
                queries.append({"kind": kind, "q": q, "expected": expected})
                made += 1
    return queries

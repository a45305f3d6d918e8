"""Search quality: does the record a reader looks for come first, or in the first five?

    python -m bench.ingest --keep                       # once: the 250,000 LoC records
    python -m bench.search_quality --build              # once: draw the query set (seeded)
    python -m bench.search_quality [--database PATH]    # the figures, per kind of query

The query set (bench/search_queries.json) is drawn from the catalogue by a seeded random draw, not
picked by hand: for each kind, records are drawn from those the kind applies to (the records in
Vietnamese for the kinds about Vietnamese typing, every record for the others), and the query is
written from the record the way a reader types it. Each query names the records that answer it by
identity (their 001), never by union id: every record with the same title and first author (the
query cannot tell editions apart), or for an author, subject or ISBN query every record with that
author, subject or ISBN.

Kinds: ``no_diacritics`` (title words typed without marks), ``full`` (with them), ``partial`` (some
words with marks, some without), ``telex`` and ``vni`` (some words typed with a keyboard's keys
left in: "vieetj", "vie65t"), ``author`` (the name in Vietnamese order, "Nguyễn Văn A", not the
heading's "Nguyễn, Văn A"), ``subject``, ``prefix`` (typing: the last word unfinished after three
whole ones, fewer in a shorter title), ``typo``
(one typo in one word, never its first letter), ``isbn`` (hyphenated, or with a label),
``d_dd`` (đ typed as d or dd).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import data
from catalog.db import make_engine
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.query import SearchQuery
from catalog.text import fold

QUERIES = Path(__file__).with_name("search_queries.json")
KINDS = (
    "no_diacritics", "full", "partial", "telex", "vni", "author", "subject", "prefix", "typo", "isbn", "d_dd",
)  # fmt: skip
PER_KIND = 15
SEED = 20261207
VIETNAMESE_KINDS = {"no_diacritics", "full", "partial", "telex", "vni", "author", "d_dd"}
TITLE_WORDS = 6  # a reader types the first few words of a title

_TELEX_TONES = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_VNI_TONES = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
_DATES = re.compile(r",?\s*(?:\d{3,4}|\d{3,4}-\d{0,4}|b\.|d\.|fl\.).*$")


# ------------------------------------------------------------------------------ typing a word
def keyed(word: str, scheme: str) -> str:
    """``word`` typed with Telex or VNI keys on a keyboard that shows them as letters: the quality
    key after its vowel, the tone key at the end of the word, đ as dd or d9."""
    tones = _TELEX_TONES if scheme == "telex" else _VNI_TONES
    out: list[str] = []
    tone = ""
    for ch in unicodedata.normalize("NFD", word):
        if ch in tones:
            tone = tones[ch]
        elif ch == "\u0302":  # circumflex: the vowel again in Telex, 6 in VNI
            out.append(out[-1].lower() if scheme == "telex" else "6")
        elif ch in "\u0306\u031b":  # breve, horn
            out.append("w" if scheme == "telex" else ("8" if ch == "\u0306" else "7"))
        elif ch in "đĐ":
            out.append(ch.replace("đ", "d").replace("Đ", "D") + ("d" if scheme == "telex" else "9"))
        elif not unicodedata.combining(ch):
            out.append(ch)
    return "".join(out) + tone


def one_typo(word: str, rng: random.Random) -> str:
    """``word`` with one typo (deletion, insertion, substitution or two letters swapped), never on
    its first letter."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    at = rng.randrange(1, len(word))
    kind = rng.choice(
        ("delete", "insert", "substitute", "swap")
        if at < len(word) - 1
        else ("delete", "insert", "substitute")
    )
    if kind == "delete":
        return word[:at] + word[at + 1 :]
    if kind == "insert":
        return word[:at] + rng.choice(letters) + word[at:]
    if kind == "substitute":
        return word[:at] + rng.choice([c for c in letters if c != word[at]]) + word[at + 1 :]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def _has_marks(word: str) -> bool:
    return fold(word) != word.lower()


def natural_order(name: str) -> str:
    """A personal name heading in the order Vietnamese writes it: "Nguyễn, Văn A, 1930-" ->
    "Nguyễn Văn A"."""
    return " ".join(_DATES.sub("", name).replace(",", " ").split())


# ------------------------------------------------------------------------------ the draw
def _records(engine: Any) -> list[dict[str, Any]]:
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


def _title_words(f: dict[str, Any]) -> list[str]:
    return re.findall(r"\w+", f.get("title") or "")


def _first_author(f: dict[str, Any]) -> str:
    authors = f.get("authors") or []
    return fold(authors[0]["name"]) if authors else ""


def build(engine: Any, seed: int = SEED) -> list[dict[str, Any]]:
    """The query set, drawn with ``seed``: PER_KIND queries of each kind."""
    rng = random.Random(seed)
    records = _records(engine)
    same_work: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_author: dict[str, list[str]] = defaultdict(list)
    by_subject: dict[str, list[str]] = defaultdict(list)
    by_isbn: dict[str, list[str]] = defaultdict(list)
    for r in records:
        f = r["f"]
        same_work[(fold(f.get("title")), _first_author(f))] += r["ids"]
        for a in f.get("authors") or []:
            by_author[fold(natural_order(a["name"]))] += r["ids"]
        for s in f.get("subjects") or []:
            by_subject[fold(s)] += r["ids"]
        for i in f.get("isbns") or []:
            by_isbn[i] += r["ids"]
    vietnamese = [
        r for r in records if "vie" in (r["f"].get("languages") or []) and len(_title_words(r["f"])) >= 2
    ]
    everything = [r for r in records if len(_title_words(r["f"])) >= 2]

    def work(r: dict[str, Any]) -> list[str]:
        return sorted(set(same_work[(fold(r["f"].get("title")), _first_author(r["f"]))]))

    def title_query(r: dict[str, Any]) -> list[str]:
        words = _title_words(r["f"])[:TITLE_WORDS]
        if len(words) < 3 and r["f"].get("authors"):  # a short title: the reader adds the author
            words += natural_order(r["f"]["authors"][0]["name"]).split()[:1]
        return words

    queries: list[dict[str, Any]] = []
    for kind in KINDS:
        made = 0
        tries = 0
        while made < PER_KIND and tries < 20_000:
            tries += 1
            pool = (
                vietnamese
                if kind in VIETNAMESE_KINDS or (kind in ("prefix", "typo", "subject") and rng.random() < 0.5)
                else everything
            )
            r = rng.choice(pool)
            f = r["f"]
            words = title_query(r)
            q: str | None = None
            expected = work(r)
            if kind == "no_diacritics":
                q = fold(" ".join(words))
            elif kind == "full":
                q = " ".join(words)
            elif kind == "partial":
                marked = [i for i, w in enumerate(words) if _has_marks(w)]
                if len(marked) >= 2:
                    keep = set(rng.sample(marked, rng.randrange(1, len(marked))))
                    q = " ".join(w if i in keep else fold(w) for i, w in enumerate(words))
            elif kind in ("telex", "vni"):
                marked = [i for i, w in enumerate(words) if _has_marks(w)]
                if marked:
                    keys = set(rng.sample(marked, rng.randrange(1, len(marked) + 1)))
                    q = " ".join(
                        keyed(w, kind).lower() if i in keys else fold(w) for i, w in enumerate(words)
                    )
            elif kind == "author":
                authors = [a for a in f.get("authors") or [] if a.get("kind") == "person"]
                if authors:
                    name = natural_order(authors[0]["name"])
                    q = name if rng.random() < 0.5 else fold(name)
                    expected = sorted(set(by_author[fold(name)]))
            elif kind == "subject":
                subjects = f.get("subjects") or []
                if subjects:
                    subject = rng.choice(subjects)
                    q = " ".join(subject.replace("--", " ").split())
                    expected = sorted(set(by_subject[fold(subject)]))
            elif kind == "prefix":
                folded = fold(" ".join(words)).split()
                # The words typed so far, the last unfinished: at least three whole words before it
                # (fewer in a shorter title), as a reader who has typed "a dict" types on.
                cut = rng.randrange(min(3, len(folded) - 1), len(folded))
                last = folded[cut]
                if len(last) >= 3:
                    q = " ".join([*folded[:cut], last[: rng.randrange(2, len(last))]])
            elif kind == "typo":
                folded = fold(" ".join(words)).split()
                long = [i for i, w in enumerate(folded) if len(w) >= 5 and w.isalpha()]
                short = [i for i, w in enumerate(folded) if len(w) >= 3 and w.isalpha()]
                choices = long or short
                if choices:
                    at = rng.choice(choices)
                    folded[at] = one_typo(folded[at], rng)
                    q = " ".join(folded)
            elif kind == "isbn":
                isbns = [i for i in f.get("isbns") or [] if len(i) == 13]
                if isbns:
                    isbn = isbns[0]
                    form = rng.randrange(3)
                    q = (
                        f"{isbn[:3]}-{isbn[3:4]}-{isbn[4:8]}-{isbn[8:12]}-{isbn[12]}"
                        if form == 0
                        else (f"ISBN {isbn}" if form == 1 else isbn)
                    )
                    expected = sorted(set(by_isbn[isbn]))
            elif kind == "d_dd" and any(ch in "đĐ" for ch in " ".join(words)):
                dd = rng.random() < 0.5
                q = " ".join(fold(w.replace("đ", "dd").replace("Đ", "Dd")) if dd else fold(w) for w in words)
            if q and q.strip() and expected and not any(x["q"] == q for x in queries):
                queries.append({"kind": kind, "q": q, "expected": expected})
                made += 1
    return queries


# ------------------------------------------------------------------------------ the figures
def evaluate(engine: Any, queries: list[dict[str, Any]]) -> dict[str, Any]:
    search = EmbeddedSearchEngine(engine)
    with engine.connect() as conn:
        identity: dict[int, set[str]] = defaultdict(set)
        for uid, local in conn.execute(
            text("SELECT union_record_id, local_id FROM source_record WHERE union_record_id IS NOT NULL")
        ):
            identity[uid].add(local)
    for q in queries[:20]:  # warm the page cache
        search.search(SearchQuery(q=q["q"], per_page=5, facets=False))
    per_kind: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    samples = []
    misses = []
    for q in queries:
        start = time.perf_counter()
        result = search.search(SearchQuery(q=q["q"], per_page=5))
        samples.append((time.perf_counter() - start) * 1000)
        expected = set(q["expected"])
        found = [bool(identity[h.id] & expected) for h in result.hits]
        top1, top5 = bool(found[:1] and found[0]), any(found)
        per_kind[q["kind"]].append((top1, top5))
        if not top1:
            misses.append({"kind": q["kind"], "q": q["q"], "top5": top5})
    ordered = sorted(samples)
    kinds = {
        kind: {
            "queries": len(v),
            "top1": round(sum(a for a, _ in v) / len(v), 3),
            "top5": round(sum(b for _, b in v) / len(v), 3),
        }
        for kind, v in per_kind.items()
    }
    every = [x for v in per_kind.values() for x in v]
    return {
        "queries": len(every),
        "top1": round(sum(a for a, _ in every) / len(every), 3),
        "top5": round(sum(b for _, b in every) / len(every), 3),
        "kinds": kinds,
        "latency": {
            "p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        },
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, default=data.CATALOGUE / "unioncat.db")
    parser.add_argument("--build", action="store_true", help=f"draw the query set anew into {QUERIES.name}")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument(
        "--seed",
        type=int,
        default=SEED,
        help="with --build: another seed draws a fresh set (a check on unseen queries)",
    )
    args = parser.parse_args()
    if not args.database.exists():
        raise SystemExit(
            f"no benchmark catalogue at {args.database}: run 'python -m bench.ingest --keep' first"
        )
    engine = make_engine(f"sqlite:///{args.database}")
    if args.build:
        queries = build(engine, args.seed)
        args.queries.write_text(json.dumps(queries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{len(queries)} queries written to {args.queries}")
        return
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    print(json.dumps(evaluate(engine, queries), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

"""Full text of the digital library: extraction rate, search latency over a million pages, storage.

    python -m bench.fulltext [--theses 10000] [--pages 100] [--pdfs 200] [--queries 1000] [--http]

* Extraction: ``--pdfs`` real PDFs written with reportlab (Vietnamese and English text from the LoC
  records, DejaVu Sans embedded), 20 pages each, extracted one after the other by the worker's own
  path (catalog.digital.extract: a child process per file, limited to 500 MB): pages per second on
  one core, and the child's peak memory.
* Search: a catalogue of the first ``--theses`` LoC records (of the cached 250,000-record file,
  bench/data.py), each with one thesis of ``--pages`` pages whose text is drawn from the LoC
  records' titles, notes and summaries (seeded). Writing a million pages as PDFs and extracting
  them would take hours, so the pages are written straight into digital_page and the page index,
  as the text job writes them (catalog.search.pages.index). Access rules: 80 % open, 15 %
  members, 5 % under embargo. The catalogue is cached under ~/.cache/unioncat/bench/.
  Queries: words and phrases of the pages, p95 in process and (``--http``) through 'unioncat
  serve', each with the records' search of the same queries (``fulltext=false``) as the same-run
  reference.
* Storage: bytes per page of the page index and of the stored text.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from pymarc import MARCReader
from sqlalchemy import text

from bench import data, measure
from bench.search import percentiles
from catalog import db
from catalog.digital.access import ANONYMOUS, Reader
from catalog.digital.extract import extract_to_file
from catalog.digital.objects import PDF
from catalog.search import pages as page_index
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.query import SearchQuery
from catalog.text import fold

SEED = 2026
NOTE_TAGS = ("245", "500", "504", "505", "520")
WORDS_PER_PAGE = 110


def sentences(path: Path, records: int) -> list[str]:
    """Titles, notes and summaries of the first ``records`` LoC records: the real text pages are
    made of."""
    out: list[str] = []
    with open(path, "rb") as fh:
        for n, record in enumerate(MARCReader(fh, to_unicode=True, force_utf8=True)):
            if n >= records:
                break
            if record is None:
                continue
            for field in record.get_fields(*NOTE_TAGS):
                value = " ".join(field.get_subfields("a", "b", "c", "t", "r"))
                if len(value.split()) >= 3:
                    out.append(value.strip())
    return out


def page_texts(rng: random.Random, pool: list[str]) -> str:
    words: list[str] = []
    while len(words) < WORDS_PER_PAGE:
        words += rng.choice(pool).split()
    return " ".join(words[:WORDS_PER_PAGE])


# ----------------------------------------------------------------------------------- extraction
def extraction(pool: list[str], pdfs: int, pages_each: int = 20) -> dict[str, Any]:
    from tests.fulltext_files import write_pdf

    rng = random.Random(SEED)
    work = Path(tempfile.mkdtemp(prefix="bench-fulltext-"))
    try:
        files = []
        for n in range(pdfs):
            files.append(
                write_pdf(work / f"t{n}.pdf", [page_texts(rng, pool)[:700] for _ in range(pages_each)])
            )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        pages = 0
        for path in files:
            extracted = extract_to_file(path, PDF, work)
            pages += extracted.page_count
            extracted.path.unlink()
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return {
            "pdfs": pdfs,
            "pages": pages,
            "seconds": round(seconds, 1),
            "pages_per_s_one_core": round(pages / seconds, 1),
            "pages_per_cpu_s": round(pages / cpu, 1) if cpu else None,
            "child_peak_rss_mb": round(after.ru_maxrss / 1024),
            "mb_of_pdf": round(sum(f.stat().st_size for f in files) / 1024**2, 1),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------------- the catalogue
def build(target: Path, pool: list[str], theses: int, pages: int) -> dict[str, Any]:
    """A catalogue of ``theses`` LoC records, each with a thesis of ``pages`` pages of text."""
    from catalog.libraries import add_library
    from harvest.ingest import ingest_file

    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    engine = db.make_engine(f"sqlite:///{target / 'unioncat.db'}")
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        add_library(session, "LOC", "Library of Congress")
        add_library(session, "VNU-LIC", "Trung tâm Thông tin - Thư viện, ĐHQGHN")
    records = data.head(data.loc_file(), theses, target / "records.mrc")
    start = time.perf_counter()
    ingest_file(engine, "LOC", records)
    ingested = time.perf_counter() - start
    records.unlink()
    rng = random.Random(SEED)
    start = time.perf_counter()
    with db.writing(engine) as conn:
        raw = conn.connection.driver_connection
        sources = raw.execute("SELECT id, library_id FROM source_record ORDER BY id").fetchall()
        now = "2026-12-07 00:00:00.000000"
        for n, (source_id, library_id) in enumerate(sources):
            roll = rng.random()
            access, until = (
                ("open", None)
                if roll < 0.8
                else ("members", None)
                if roll < 0.95
                else (
                    "embargo",
                    "2030-01-01 00:00:00.000000",
                )
            )
            digest = f"{n:064x}"
            object_id = raw.execute(
                "INSERT INTO digital_object (library_id, source_record_id, filename, content_type, size, "
                "sha256, storage_key, access, embargo_until, status, origin, text_status, page_count, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, 'active', 'deposit', "
                "'extracted', ?, ?, ?)",
                (
                    library_id,
                    source_id,
                    f"thesis-{n}.pdf",
                    PDF,
                    digest,
                    f"sha256/{digest[:2]}/{digest}",
                    access,
                    until,
                    pages,
                    now,
                    now,
                ),
            ).lastrowid
            texts = [(p, page_texts(rng, pool)) for p in range(1, pages + 1)]
            raw.executemany(
                "INSERT INTO digital_page (object_id, page, text) VALUES (?, ?, ?)",
                [(object_id, p, t) for p, t in texts],
            )
            page_index.index(raw, object_id, texts)
    filled = time.perf_counter() - start
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        sizes = dict(
            raw.execute(
                "SELECT CASE WHEN name LIKE 'page_fts%' THEN 'page_index' WHEN name LIKE 'digital_page%' "
                "OR name LIKE 'sqlite_autoindex_digital_page%' THEN 'page_text' ELSE 'other' END AS part, "
                "sum(pgsize) FROM dbstat GROUP BY part"
            ).fetchall()
        )
        count = raw.execute("SELECT count(*) FROM digital_page").fetchone()[0]
    engine.dispose()
    built = {
        "records": len(sources),
        "pages": count,
        "ingest_seconds": round(ingested, 1),
        "pages_written_seconds": round(filled, 1),
        "page_index_bytes_per_page": round(sizes.get("page_index", 0) / count),
        "page_text_bytes_per_page": round(sizes.get("page_text", 0) / count),
        "words_per_page": WORDS_PER_PAGE,
    }
    (target / "built.json").write_text(json.dumps(built))
    return built


def query_set(pool: list[str], count: int) -> list[str]:
    """Words and phrases of the pages, as readers would look for a passage."""
    rng = random.Random(SEED + 1)
    out = []
    while len(out) < count:
        words = [w for w in fold(rng.choice(pool)).split() if len(w) > 2]
        if not words:
            continue
        kind = rng.random()
        start = rng.randrange(len(words))
        if kind < 0.4:
            out.append(words[start] + " ")
        elif kind < 0.75:
            out.append(" ".join(words[start : start + 2]) + " ")
        else:
            out.append(" ".join(words[start : start + 3]) + " ")
    return out


def in_process(engine: Any, queries: list[str], member: int) -> dict[str, Any]:
    search = EmbeddedSearchEngine(engine)
    out: dict[str, Any] = {}
    found_by_text = 0
    for name, fulltext in (("records_only_reference", False), ("with_full_text", True)):
        for q in queries[:50]:
            search.search(SearchQuery(q=q, fulltext=fulltext))
        samples = []
        for n, q in enumerate(queries):
            reader = Reader(library_id=member) if n % 5 == 0 else ANONYMOUS
            start = time.perf_counter()
            result = search.search(SearchQuery(q=q, fulltext=fulltext, reader=reader))
            samples.append((time.perf_counter() - start) * 1000)
            found_by_text += fulltext and any(h.fulltext for h in result.hits)
        out[name] = {"queries": len(samples), **percentiles(samples)}
    out["queries_with_snippets"] = found_by_text
    return out


def through_http(target: Path, queries: list[str]) -> dict[str, Any]:
    import http.client
    from urllib.parse import urlencode, urlsplit

    settings = {"UNIONCAT_DATA_DIR": str(target), "UNIONCAT_DATABASE_URL": ""}
    out: dict[str, Any] = {}
    with measure.serving(settings) as base:
        conn = http.client.HTTPConnection(urlsplit(base).netloc, timeout=60)

        def get(params: dict[str, Any]) -> None:
            conn.request("GET", f"/api/v1/search?{urlencode(params)}")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"search answered {response.status}")

        for name, fulltext in (("records_only_reference", "false"), ("with_full_text", "true")):
            for q in queries[:50]:
                get({"q": q, "fulltext": fulltext})
            samples = []
            for q in queries:
                start = time.perf_counter()
                get({"q": q, "fulltext": fulltext})
                samples.append((time.perf_counter() - start) * 1000)
            out[name] = {"queries": len(samples), **percentiles(samples)}
        conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--theses", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--pdfs", type=int, default=200)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="build the catalogue again")
    args = parser.parse_args()
    pool = sentences(data.loc_file(), 60_000)
    report: dict[str, Any] = {"text_pool_sentences": len(pool)}
    report["extraction"] = extraction(pool, args.pdfs)
    target = data.CACHE / f"catalogue-fulltext-{args.theses}x{args.pages}"
    built_file = target / "built.json"
    if args.rebuild or not built_file.exists():
        start = time.perf_counter()
        report["catalogue"] = build(target, pool, args.theses, args.pages)
        report["catalogue"]["build_seconds"] = round(time.perf_counter() - start, 1)
    else:
        report["catalogue"] = json.loads(built_file.read_text()) | {"cached": True}
    engine = db.make_engine(f"sqlite:///{target / 'unioncat.db'}")
    db.upgrade(engine)
    with engine.connect() as conn:
        member = conn.execute(text("SELECT id FROM library WHERE code = 'VNU-LIC'")).scalar_one()
    queries = query_set(pool, args.queries)
    report["search_in_process"] = in_process(engine, queries, member)
    engine.dispose()
    if args.http:
        report["search_http"] = through_http(target, queries)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

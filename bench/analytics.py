"""Collection analytics at scale: a catalogue of about 1,000,000 source records (40 simulated member
libraries over the 250,000 LoC records), then the p50/p95 of every analytics page and API endpoint
through HTTP, and the time the refresh takes after one library's job.

    python -m bench.analytics [--records 250000] [--libraries 40] [--requests 40]

The catalogue is built once by bulk inserts (the LoC records mapped by the catalogue's own mapping
become the union records; each is held by 1 to 30 members, 4 on average, the larger members holding
more, as in a consortium) and cached under ~/.cache/unioncat/bench/; later runs reuse it. No search
index is built: the analytics never search. Two references are measured in the same run: the
service's /health and a record's page and API answer, and the overlap matrix computed from scratch
by SQL (what a page would cost without the summary tables).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import data
from bench.measure import serving
from bench.search import percentiles

SEED = 2026
MAX_HOLDERS = 30


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _holders(rng: random.Random, libraries: list[int], weights: list[float]) -> set[int]:
    k = min(MAX_HOLDERS, len(libraries), 1 + int(rng.expovariate(1 / 3.5)))  # 4 holders on average
    picked: set[int] = set()
    while len(picked) < k:
        picked.add(rng.choices(libraries, weights)[0])
    return picked


def build(database: Path, records: int, libraries: int) -> dict[str, Any]:
    """The catalogue, by bulk inserts; what it holds and how long each part took."""
    from catalog.analytics.cache import refresh
    from catalog.db import make_engine, session_scope, upgrade, writing
    from catalog.libraries import add_library
    from catalog.mapping import prepare_record
    from catalog.records import RecordRejected
    from harvest.iso2709 import split_records

    started = time.perf_counter()
    database.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    with session_scope(engine) as session:
        ids = [
            add_library(session, f"SIM-{n:02d}", f"Thư viện mô phỏng {n:02d}").id
            for n in range(1, libraries + 1)
        ]
    library_ids: list[int] = [i for i in ids if i is not None]
    weights = [1 / (n + 4) for n in range(len(library_ids))]  # SIM-01 the largest member
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    unions: list[tuple[Any, ...]] = []
    sources: list[tuple[Any, ...]] = []
    added: dict[int, int] = dict.fromkeys(library_ids, 0)
    with open(data.loc_file(), "rb") as fh:
        for n, (_offset, raw) in enumerate(split_records(fh)):
            if n >= records:
                break
            try:
                prepared = prepare_record(raw, "iso2709", None)
            except RecordRejected:
                continue
            union_id = len(unions) + 1
            holders = _holders(rng, library_ids, weights)
            stamp = _stamp(now)
            unions.append((union_id, prepared.title, prepared.title_key, prepared.year, prepared.fields_json,
                           len(holders), len(holders), stamp, stamp))  # fmt: skip
            for library_id in holders:
                added[library_id] += 1
                sources.append((library_id, f"{prepared.local_id}-{library_id}", "iso2709", b"", "", "{}",
                                prepared.title, prepared.year, prepared.material_type, "active", stamp, stamp,
                                stamp, union_id))  # fmt: skip
    mapped = time.perf_counter()
    with writing(engine) as conn:
        conn.exec_driver_sql(
            "INSERT INTO union_record (id, title, title_key, year, fields, member_count, library_count, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            unions,
        )
        conn.exec_driver_sql(
            "INSERT INTO source_record (library_id, local_id, raw_format, raw, checksum, fields, title, "
            "year, material_type, status, changed_at, first_seen, last_seen, union_record_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            sources,
        )
        conn.exec_driver_sql(
            "INSERT INTO ingest_job (library_id, source, mode, status, created_at, started_at, finished_at, "
            "read, added, updated, unchanged, deleted, rejected, warnings, attempts) "
            "VALUES (?, 'oai', 'update', 'succeeded', ?, ?, ?, ?, ?, ?, 0, ?, 0, 0, 0)",
            list(_history(rng, added, now)),
        )
    inserted = time.perf_counter()
    full = refresh(engine, full=True)
    engine.dispose()
    return {
        "source_records": len(sources),
        "union_records": len(unions),
        "libraries": len(library_ids),
        "map_seconds": round(mapped - started, 1),
        "insert_seconds": round(inserted - mapped, 1),
        "first_refresh_seconds": round(full.seconds, 1),
    }


def _history(rng: random.Random, added: dict[int, int], now: datetime) -> Any:
    """Two years of jobs per member: a first load, then a harvest every week with a few changes."""
    for library_id, total in added.items():
        first = now - timedelta(days=730)
        first_load = int(total * 0.7)
        yield (library_id, *[_stamp(first)] * 3, first_load, first_load, 0, 0)
        weekly = (total - first_load) // 104 or 1
        for week in range(1, 105):
            moment = _stamp(first + timedelta(days=7 * week))
            changed = rng.randint(0, weekly)
            yield (
                library_id,
                moment,
                moment,
                moment,
                weekly + changed,
                weekly,
                changed,
                rng.randint(0, weekly // 4),
            )


def one_job(database: Path, code: str, share: float = 0.02) -> dict[str, Any]:
    """What one member's job does to the catalogue, by SQL (its records' union records change, as a
    job's writer and deduplication change them): ``share`` of its records deleted, as many added to
    union records other members hold, and as many union records' merged fields rewritten. Then the
    refresh that follows a job, timed; then the job undone, and refreshed again."""
    from catalog.analytics.cache import refresh
    from catalog.db import make_engine, writing

    engine = make_engine(f"sqlite:///{database}")
    with writing(engine) as conn:
        library_id = conn.exec_driver_sql("SELECT id FROM library WHERE code = ?", (code,)).scalar_one()
        active = "SELECT id FROM source_record WHERE library_id = ? AND status = 'active'"
        mine = [r[0] for r in conn.exec_driver_sql(active, (library_id,))]
        rng = random.Random(SEED + 1)
        count = int(len(mine) * share)
        gone = rng.sample(mine, count)
        conn.exec_driver_sql("UPDATE source_record SET status = 'deleted' WHERE id = ?", [(i,) for i in gone])
        elsewhere = (
            "SELECT id FROM union_record WHERE id NOT IN (SELECT union_record_id FROM source_record "
            "WHERE library_id = ? AND union_record_id IS NOT NULL) LIMIT ?"
        )
        others = [r[0] for r in conn.exec_driver_sql(elsewhere, (library_id, count))]
        stamp = _stamp(datetime.now(UTC))
        conn.exec_driver_sql(
            "INSERT INTO source_record (library_id, local_id, raw_format, raw, checksum, fields, status, "
            "first_seen, last_seen, union_record_id) "
            "VALUES (?, ?, 'iso2709', x'', '', '{}', 'active', ?, ?, ?)",
            [(library_id, f"bench-job-{u}", stamp, stamp, u) for u in others],
        )
        rewritten = rng.sample(mine, count)
        kept = conn.exec_driver_sql(
            "SELECT u.id, u.fields FROM union_record u JOIN source_record s ON s.union_record_id = u.id "
            f"WHERE s.id IN ({', '.join(map(str, rewritten))})"
        ).all()
        conn.exec_driver_sql(
            "UPDATE union_record SET fields = json_set(fields, '$.languages', json('[\"vie\"]')) "
            "WHERE id = ?",
            [(union_id,) for union_id, _fields in kept],
        )
    after_job = refresh(engine)
    with writing(engine) as conn:  # undone: the cached catalogue stays as it was built
        conn.exec_driver_sql("UPDATE source_record SET status = 'active' WHERE id = ?", [(i,) for i in gone])
        conn.exec_driver_sql("DELETE FROM source_record WHERE local_id LIKE 'bench-job-%'")
        conn.exec_driver_sql("UPDATE union_record SET fields = ? WHERE id = ?", [(f, u) for u, f in kept])
    after_undo = refresh(engine)
    engine.dispose()
    return {
        "library": code,
        "records_of_library": len(mine),
        "deleted": len(gone),
        "added": len(others),
        "fields_rewritten": len(kept),
        "refresh_after_job": {
            "union_records": after_job.union_records,
            "seconds": round(after_job.seconds, 2),
        },
        "refresh_after_undo": {
            "union_records": after_undo.union_records,
            "seconds": round(after_undo.seconds, 2),
        },
    }


def from_scratch(database: Path) -> dict[str, float]:
    """The overlap matrix and the holders' distribution by SQL over the source records (no cache)."""
    from catalog.db import make_engine

    engine = make_engine(f"sqlite:///{database}")
    out = {}
    with engine.connect() as conn:
        for name, sql in (
            (
                "overlap_matrix_seconds",
                "SELECT a.library_id, b.library_id, count(DISTINCT a.union_record_id) "
                "FROM source_record a JOIN source_record b "
                "ON a.union_record_id = b.union_record_id AND a.library_id <= b.library_id "
                "WHERE a.status = 'active' AND b.status = 'active' GROUP BY 1, 2",
            ),
            (
                "distribution_seconds",
                "SELECT n, count(*) FROM (SELECT count(DISTINCT library_id) AS n FROM source_record "
                "WHERE status = 'active' AND union_record_id IS NOT NULL GROUP BY union_record_id) "
                "GROUP BY n",
            ),
        ):
            start = time.perf_counter()
            conn.exec_driver_sql(sql).all()
            out[name] = round(time.perf_counter() - start, 2)
    engine.dispose()
    return out


def _token(database: Path, code: str) -> str:
    from catalog.db import make_engine, session_scope
    from catalog.tokens import create_token

    engine = make_engine(f"sqlite:///{database}")
    with session_scope(engine) as session:
        token = create_token(session, code, "bench")[1]
    engine.dispose()
    return token


def timed(opener: urllib.request.OpenerDirector, url: str, headers: dict[str, str], n: int) -> dict[str, Any]:
    samples = []
    size = 0
    for i in range(n + 5):
        request = urllib.request.Request(url, headers=headers)
        start = time.perf_counter()
        with opener.open(request, timeout=60) as answer:
            body = answer.read()
            if answer.status != 200:
                raise SystemExit(f"{url}: {answer.status}")
        if i >= 5:  # the first five warm the caches
            samples.append((time.perf_counter() - start) * 1000)
        size = len(body)
    return {**percentiles(samples), "bytes": size}


def measure_http(database: Path, requests: int, smallest: str) -> dict[str, Any]:
    token = _token(database, "SIM-01")
    settings = {
        "UNIONCAT_DATA_DIR": str(database.parent),
        "UNIONCAT_DATABASE_URL": f"sqlite:///{database}",
        "UNIONCAT_SERVE_WORKER": "false",
    }
    results: dict[str, Any] = {}
    with serving(settings) as base:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = urllib.parse.urlencode({"token": token}).encode()
        opener.open(urllib.request.Request(f"{base}/librarian/login?lang=en", data=form), timeout=60).read()
        api = {"Authorization": f"Bearer {token}"}
        plan = [
            ("reference /health", "/health", {}),
            ("reference page /records/1000", "/records/1000?lang=en", {}),
            ("reference api /api/v1/records/1000", "/api/v1/records/1000", {}),
            ("page /librarian/analytics", "/librarian/analytics?lang=en", {}),
            ("page /librarian/analytics/SIM-07", "/librarian/analytics/SIM-07?lang=vi", {}),
            ("page csv summary", "/librarian/analytics/csv/summary", {}),
            ("page csv overlap", "/librarian/analytics/csv/overlap", {}),
            ("api summary", "/api/v1/analytics/summary", api),
            ("api summary SIM-07", "/api/v1/analytics/summary?library=SIM-07", api),
            ("api overlap", "/api/v1/analytics/overlap", api),
            ("api overlap SIM-07", "/api/v1/analytics/overlap?library=SIM-07", api),
            ("api overlap csv", "/api/v1/analytics/overlap?format=csv", api),
            ("api unique", "/api/v1/analytics/unique", api),
            (f"api unique {smallest}", f"/api/v1/analytics/unique?library={smallest}&limit=1000", api),
            ("api growth", "/api/v1/analytics/growth", api),
            ("api growth SIM-07 csv", "/api/v1/analytics/growth?library=SIM-07&format=csv", api),
        ]
        for name, path, headers in plan:
            results[name] = timed(opener, base + path, headers, requests)
            print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=250_000, help="LoC records: the union records")
    parser.add_argument("--libraries", type=int, default=40)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page or endpoint")
    args = parser.parse_args()
    folder = data.CACHE / f"catalogue-analytics-{args.records}-{args.libraries}"
    database = folder / "unioncat.db"
    marker = folder / "built.json"
    if marker.exists():
        built = json.loads(marker.read_text())
        built["reused"] = True
    else:
        for stale in folder.glob("unioncat.db*"):
            stale.unlink()
        built = build(database, args.records, args.libraries)
        marker.write_text(json.dumps(built))
    print(json.dumps({"catalogue": built}), file=sys.stderr, flush=True)
    report = {
        "catalogue": built,
        "refresh": one_job(database, "SIM-07"),
        "from_scratch": from_scratch(database),
        "http": measure_http(database, args.requests, f"SIM-{args.libraries:02d}"),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

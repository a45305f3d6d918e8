"""Deduplication quality on real records: Library of Congress records spread over simulated member
libraries, each catalogued the way different systems do; pairwise precision and recall.

    python -m bench.dedup_quality [--records N] [--libraries K] [--missing-year SHARE]

Every library holds an overlapping random subset of the records; each copy gets the variations real
exports show (ISBN-10 vs -13, hyphens, no ISBN, no LCCN or OCLC number, NFD text, capitals, no ISBD
punctuation, 260 vs 264, no subtitle or statement of responsibility, its own 001; with
``--missing-year``, that share of copies also leaves the publication year out, as some peers' OAI-PMH
records do). The ground truth
is the original record: two copies are the same edition exactly when they come from the same LoC
record, so distinct LoC records with the same title (other editions, years, volumes) stay apart.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import unicodedata
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

from pymarc import Field, Indicators, MARCReader, Record, Subfield
from sqlalchemy import select
from sqlalchemy.engine import Engine

from catalog import db
from catalog.db import session_scope
from catalog.identifiers import isbn10, isbn13
from catalog.libraries import add_library
from catalog.models import Library, SourceRecord
from harvest.ingest import ingest_file


def _isbn_variant(value: str, rng: random.Random) -> str:
    norm = isbn13(value)
    if norm is None:
        return value
    choice = rng.random()
    if choice < 0.35 and isbn10(norm):
        return isbn10(norm) or norm
    if choice < 0.7:
        return f"{norm[:3]}-{norm[3]}-{norm[4:10]}-{norm[10:12]}-{norm[12]}"
    return norm


def vary(record: Record, library: str, rng: random.Random, missing_year: float = 0.0) -> Record:
    """A copy of ``record`` as another library's system would have exported it."""
    copy = Record(leader=str(record.leader))
    no_year = missing_year > 0 and rng.random() < missing_year
    copy.leader = copy.leader[:9] + "a" + copy.leader[10:]
    nfd = rng.random() < 0.3
    upper = rng.random() < 0.1
    no_isbd = rng.random() < 0.3
    to_264 = rng.random() < 0.3
    drop_isbn = rng.random() < 0.2
    drop_subtitle = rng.random() < 0.15
    drop_sor = rng.random() < 0.2
    drop_control_numbers = rng.random() < 0.5  # no LCCN (010) nor OCLC number (035): local cataloguing
    for field in record.fields:
        if field.is_control_field():
            data = f"{library}-{field.data.strip()}" if field.tag == "001" else field.data
            if field.tag == "008" and no_year and len(data) > 10:
                data = data[:6] + "n    " + data[11:]
            copy.add_field(Field(tag=field.tag, data=data))
            continue
        if (field.tag == "020" and drop_isbn) or (field.tag in ("010", "035") and drop_control_numbers):
            continue
        tag, indicators = field.tag, field.indicators
        if field.tag == "260" and to_264:
            tag, indicators = "264", Indicators(" ", "1")
        subfields = []
        for sf in field.subfields:
            value = sf.value
            if field.tag == "020" and sf.code == "a":
                value = _isbn_variant(value, rng)
            if field.tag == "245":
                if (sf.code == "b" and drop_subtitle) or (sf.code == "c" and drop_sor):
                    continue
                if upper and sf.code == "a":
                    value = value.upper()
                if no_isbd:
                    value = value.rstrip(" /:;=,.")
            if field.tag in ("260", "264") and sf.code == "c" and no_year:
                continue
            if nfd:
                value = unicodedata.normalize("NFD", value)
            subfields.append(Subfield(sf.code, value))
        if subfields:
            copy.add_field(Field(tag=tag, indicators=indicators, subfields=subfields))
    return copy


def load_originals(path: Path, limit: int) -> list[Record]:
    originals = []
    with open(path, "rb") as fh:
        for record in MARCReader(fh, to_unicode=True, force_utf8=True):
            if record is not None and record.get_fields("001") and record.get_fields("245"):
                originals.append(record)
            if len(originals) >= limit:
                break
    return originals


def simulate(
    originals: list[Record], libraries: int, share: float, seed: int, workdir: Path, missing_year: float = 0.0
) -> dict[str, Path]:
    rng = random.Random(seed)
    files: dict[str, Any] = {}
    codes = [f"SIM-{n:02d}" for n in range(1, libraries + 1)]
    handles = {code: open(workdir / f"{code}.mrc", "wb") for code in codes}  # noqa: SIM115
    try:
        for record in originals:
            for code in codes:
                if rng.random() < share:
                    handles[code].write(vary(record, code, rng, missing_year).as_marc())
    finally:
        for handle in handles.values():
            handle.close()
    files = {code: workdir / f"{code}.mrc" for code in codes}
    return files


def pairs_of(groups: dict[Any, list[tuple[str, str]]]) -> set[frozenset[tuple[str, str]]]:
    out = set()
    for members in groups.values():
        for a, b in combinations(sorted(members), 2):
            if a[0] != b[0]:
                out.add(frozenset((a, b)))
    return out


def measure(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SourceRecord.union_record_id, Library.code, SourceRecord.local_id).join(
                Library, Library.id == SourceRecord.library_id
            )
        ).all()
    truth: dict[str, list[tuple[str, str]]] = defaultdict(list)
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for union_id, code, local_id in rows:
        original = local_id.split("-", 2)[-1]
        truth[original].append((code, local_id))
        found[union_id].append((code, local_id))
    true_pairs, found_pairs = pairs_of(truth), pairs_of(found)
    correct = len(true_pairs & found_pairs)
    return {
        "source_records": len(rows),
        "union_records": len(found),
        "true_pairs": len(true_pairs),
        "found_pairs": len(found_pairs),
        "precision": round(correct / len(found_pairs), 4) if found_pairs else 1.0,
        "recall": round(correct / len(true_pairs), 4) if true_pairs else 1.0,
        "false_merges": sorted([sorted(p) for p in found_pairs - true_pairs], key=lambda p: p[0])[:20],
    }


def evaluate(
    source: Path,
    records: int,
    libraries: int,
    workdir: Path,
    share: float = 0.4,
    seed: int = 7,
    missing_year: float = 0.0,
) -> dict[str, Any]:
    originals = load_originals(source, records)
    files = simulate(originals, libraries, share, seed, workdir, missing_year)
    engine = db.make_engine(f"sqlite:///{workdir / 'eval.db'}")
    db.upgrade(engine)
    with session_scope(engine) as session:
        for code in files:
            add_library(session, code, f"Simulated library {code}")
    start = time.perf_counter()
    for code, path in files.items():
        ingest_file(engine, code, path, workers=0)
    seconds = time.perf_counter() - start
    result = measure(engine)
    result.update(
        originals=len(originals),
        libraries=libraries,
        missing_year=missing_year,
        ingest_seconds=round(seconds, 1),
    )
    engine.dispose()
    return result


def main() -> None:
    from bench import data

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20000, help="LoC records to spread (default 20,000)")
    parser.add_argument("--libraries", type=int, default=5)
    parser.add_argument(
        "--missing-year", type=float, default=0.0, help="share of copies without a publication year"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = evaluate(
            data.loc_file(), args.records, args.libraries, Path(tmp), missing_year=args.missing_year
        )
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""What a digital object costs beyond its file, and how long a deposit and a page image take.

    python -m bench.digital_storage [--objects 40] [--pages 20]

Deposits ``--objects`` distinct PDFs (made with reportlab, ``--pages`` pages of text each) for the
records of tests/fixtures/marc.dat in a new SQLite catalogue with the directory storage, then
reports: the bytes the storage holds against the files' own bytes (the reference, measured in the
same run); the catalogue's growth per object (SQLite's row and index payload of the object and of
its queued text job); the time of a deposit against the time of only hashing the same file; and
the time of drawing a page image for the reader, first and from the cache."""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from catalog import db
from catalog.db import session_scope
from catalog.digital.pages import page_image
from catalog.digital.storage import LocalStorage
from catalog.libraries import add_library
from harvest.deposit import Limits, deposit
from harvest.ingest import ingest_file
from harvest.iso2709 import split_records

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "tests" / "fixtures" / "marc.dat"


def make_pdf(path: Path, pages: int, seed: int) -> Path:
    from reportlab.pdfgen import canvas

    sheet = canvas.Canvas(str(path))
    for number in range(1, pages + 1):
        for line in range(40):
            sheet.drawString(40, 800 - 18 * line, f"Luận văn {seed} trang {number} dòng {line}: nội dung")
        sheet.showPage()
    sheet.save()
    return path


def local_ids() -> list[str]:
    import pymarc

    with RECORDS.open("rb") as fh:
        raws = [raw for _offset, raw in split_records(fh)]
    return [pymarc.Record(data=raw)["001"].value() for raw in raws]


def payload(path: Path) -> dict[str, int]:
    """Bytes of row and index payload per table and index of the catalogue (SQLite's dbstat):
    what the rows hold, without the free space of pages (16 KiB each)."""
    conn = sqlite3.connect(path)
    try:
        return {name: int(size or 0) for name, size in conn.execute(
            "SELECT name, sum(payload) FROM dbstat GROUP BY name"
        )}  # fmt: skip
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=40)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        engine = db.make_engine(f"sqlite:///{tmp / 'catalogue.db'}")
        db.upgrade(engine)
        with session_scope(engine) as session:
            add_library(session, "BENCH", "Thư viện đo")
        ingest_file(engine, "BENCH", RECORDS)
        ids = local_ids()
        files = [make_pdf(tmp / f"f{i}.pdf", args.pages, i) for i in range(args.objects)]
        storage = LocalStorage(tmp / "digital")
        before = payload(tmp / "catalogue.db")
        hashing = depositing = 0.0
        for i, path in enumerate(files):
            started = time.perf_counter()
            hashlib.sha256(path.read_bytes()).hexdigest()
            hashing += time.perf_counter() - started
            started = time.perf_counter()
            deposit(engine, storage, Limits(1 << 30), "BENCH", ids[i % len(ids)], path, path.name)
            depositing += time.perf_counter() - started
        drawn = cached = 0.0
        for i, path in enumerate(files[:10]):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            with path.open("rb") as source:
                started = time.perf_counter()
                page_image(tmp / "pages", digest, source, 1 + i % args.pages, 800)
                drawn += time.perf_counter() - started
                started = time.perf_counter()
                page_image(tmp / "pages", digest, source, 1 + i % args.pages, 800)
                cached += time.perf_counter() - started
        drawn_count = min(10, len(files))
        after = payload(tmp / "catalogue.db")
        grown = {
            name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)
        }
        file_bytes = sum(p.stat().st_size for p in files)
        stored = [p for p in (tmp / "digital").rglob("*") if p.is_file()]
        stored_bytes = sum(p.stat().st_size for p in stored)
        on_disk = sum(p.stat().st_blocks * 512 for p in stored)
        print(
            json.dumps(
                {
                    "objects": args.objects,
                    "pages_each": args.pages,
                    "file_bytes": file_bytes,
                    "stored_bytes": stored_bytes,
                    "stored_files": len(stored),
                    "storage_overhead_bytes_per_object": (stored_bytes - file_bytes) / args.objects,
                    "disk_blocks_overhead_bytes_per_object": (on_disk - file_bytes) / args.objects,
                    "catalogue_payload_bytes_per_object": {
                        name: round(size / args.objects) for name, size in sorted(grown.items())
                    },
                    "catalogue_payload_bytes_per_object_total": round(sum(grown.values()) / args.objects),
                    "deposit_ms_per_object": round(1000 * depositing / args.objects, 1),
                    "reference_hash_only_ms_per_object": round(1000 * hashing / args.objects, 2),
                    "page_image_800px_first_ms": round(1000 * drawn / drawn_count, 1),
                    "page_image_800px_cached_ms": round(1000 * cached / drawn_count, 2),
                },
                indent=1,
            )
        )
        engine.dispose()


if __name__ == "__main__":
    main()

"""Repository harvest benchmark: a DSpace-like repository on loopback (the tests' peer) whose items
are the real Vietnamese LoC records described in Dublin Core, each with a PDF of a few pages, is
harvested into a fresh SQLite catalogue three ways in the same run:

- descriptions only (``--repository-files none``): the reference, the cost of the records alone;
- with files (ORE file lists, one GetRecord per item, each PDF fetched, judged and stored);
- again with ``--full``: every item read again, no file fetched again (same address and size).

    python -m bench.repository [--items N] [--pages 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any


def _items(limit: int) -> list[dict[str, list[str]]]:
    from pymarc import MARCReader

    from tests.conftest import VIETNAMESE

    items = []
    with VIETNAMESE.open("rb") as fh:
        for record in MARCReader(fh, to_unicode=True, force_utf8=True):
            if record is None or record.get("245") is None:
                continue
            title = record["245"].get("a") or ""
            metadata = {"title": [title.strip(" /:;")], "language.iso": ["vi"]}
            author = record["100"].get("a") if record.get("100") is not None else None
            if author:
                metadata["contributor.author"] = [author.strip(" ,.")]
            isbn = record["020"].get("a") if record.get("020") is not None else None
            if isbn:
                metadata["identifier.isbn"] = [isbn.split()[0]]
            notes = [f.get("a") for f in record.get_fields("500", "504", "520") if f.get("a")]
            if notes:
                metadata["description.abstract"] = notes[:1]
            items.append(metadata)
            if len(items) >= limit:
                break
    return items


def _harvest(peer: Any, work: Path, files: str, runs: int = 1) -> list[dict[str, Any]]:
    from catalog.db import make_engine, session_scope, upgrade
    from catalog.digital.storage import LocalStorage
    from catalog.libraries import add_library
    from harvest.repository import harvest_repository

    engine = make_engine(f"sqlite:///{work / f'{files}.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        add_library(session, "BENCH", "Kho lưu trữ", repository_url=peer.url, repository_files=files)
    results = []
    for run in range(runs):
        start = time.perf_counter()
        summary = harvest_repository(
            engine, "BENCH", LocalStorage(work / f"{files}-digital"), max_bytes=1 << 26, full=run > 0
        )
        seconds = time.perf_counter() - start
        results.append(
            {
                "items": summary["read"],
                "seconds": round(seconds, 2),
                "items_per_s": round(summary["read"] / seconds, 1),
                "files_fetched": summary["files_fetched"],
                "files_unchanged": summary["files_unchanged"],
                "requests": summary["requests"],
            }
        )
    return results


def main() -> None:
    from tests.dspace_peer import DspacePeer, PeerFile
    from tests.pdf_files import make_pdf

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=529, help="how many items (at most 529)")
    parser.add_argument("--pages", type=int, default=3, help="pages of each item's PDF")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, DspacePeer(batch_size=100) as peer:
        work = Path(tmp)
        total_bytes = 0
        for number, metadata in enumerate(_items(args.items), 1):
            title = metadata["title"][0].encode("latin-1", "replace").decode("latin-1")
            pdf = make_pdf([f"{title} - {page}" for page in range(1, args.pages + 1)])
            total_bytes += len(pdf)
            metadata["identifier.uri"] = [f"http://hdl.handle.net/123456789/{number}"]
            peer.add(f"123456789/{number}", metadata, [PeerFile(f"item-{number}.pdf", pdf)])
        reference = _harvest(peer, work, "none")[0]
        with_files, again = _harvest(peer, work, "ore", runs=2)
    report = {
        "items": reference["items"],
        "pdf_bytes": total_bytes,
        "descriptions_only": reference,
        "with_files": with_files,
        "again_full": again,
        "files_vs_descriptions": round(with_files["seconds"] / reference["seconds"], 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

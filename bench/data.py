"""The 250,000-record Library of Congress file, fetched from the pymarc 5.4.0 sdist into a cache."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MEMBER = "pymarc-5.4.0/BooksAll.2016.part01.utf8"
CACHE = Path(os.environ.get("UNIONCAT_BENCH_CACHE", Path.home() / ".cache" / "unioncat" / "bench"))
CATALOGUE = CACHE / "catalogue-loc"  # the SQLite catalogue the ingest benchmark leaves for the others


def loc_file() -> Path:
    """Path of BooksAll.2016.part01.utf8 (242 MB, 250,000 records), downloaded once."""
    target = CACHE / "BooksAll.2016.part01.utf8"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "pymarc==5.4.0",
                "-d",
                tmp,
            ],
            check=True,
        )
        [sdist] = Path(tmp).glob("pymarc-5.4.0.tar.gz")
        with tarfile.open(sdist) as archive:
            member = archive.getmember(MEMBER)
            with archive.extractfile(member) as src, open(target.with_suffix(".part"), "wb") as dst:  # type: ignore[union-attr]
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    target.with_suffix(".part").rename(target)
    return target


def head(path: Path, records: int, target: Path) -> Path:
    """The first ``records`` records of an ISO 2709 file (for shorter runs)."""
    from harvest.iso2709 import split_records

    with open(path, "rb") as src, open(target, "wb") as dst:
        for n, (_offset, raw) in enumerate(split_records(src)):
            if n >= records:
                break
            dst.write(raw)
    return target


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``admin_url`` for one benchmark run: its URL
    (psycopg driver), dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(
        make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    name = f"unioncat_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

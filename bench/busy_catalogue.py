"""What the service answers, and how fast, while ``unioncat ingest`` holds the SQLite catalogue's
write lock, against the same requests on the idle catalogue in the same run.

    python -m bench.busy_catalogue [--copies 40]

A catalogue with 2,000 LoC records (library VNU-LIC) is served by uvicorn on 127.0.0.1 (no worker:
nothing else writes). Each request is timed idle, then while ``unioncat ingest`` writes
``--copies`` x 2,000 new records into another library (one transaction: the lock is held to its
end). Writes are made so that the idle ones change nothing that matters (a name set to itself).
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import measure
from catalog import db
from catalog.db import session_scope
from catalog.libraries import add_library
from catalog.settings import Settings
from catalog.tokens import create_token
from harvest.ingest import ingest_file

ADMIN = "bench-admin-token"
SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "sample-2000.mrc"
SMALL = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "marc.dat"


def renumbered(iso2709: bytes, copy: int) -> bytes:
    """The ISO 2709 records with the first two characters of each 001 replaced by ``copy`` (the
    same length: the directory stays right), so that every copy adds new records."""
    out = bytearray(iso2709)
    start = 0
    while start < len(out):
        length, base = int(out[start : start + 5]), int(out[start + 12 : start + 17])
        entry = start + 24
        while out[entry] != 0x1E:
            if out[entry : entry + 3] == b"001" and int(out[entry + 3 : entry + 7]) > 3:
                at = start + base + int(out[entry + 7 : entry + 12])
                out[at : at + 2] = b"%02d" % copy
            entry += 12
        start += length
    return bytes(out)


def write_locked(database: Path) -> bool:
    """Whether another connection holds the catalogue's write lock now."""
    probe = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def _requests(token: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    library = {"Authorization": f"Bearer {token}"}
    lib = "/api/v1/libraries/VNU-LIC"
    return [
        ("search", "GET", "/api/v1/search", {"params": {"q": "history"}}),
        ("holdings", "GET", "/api/v1/holdings", {"params": {"isbn": "9780306406157"}}),
        ("search page", "GET", "/", {"params": {"q": "history"}}),
        ("upload (API)", "POST", f"{lib}/uploads", {"content": SMALL.read_bytes(), "headers": library}),
        ("library PATCH", "PATCH", lib, {"json": {"city": "Hà Nội"}, "headers": admin}),
        ("token create", "POST", f"{lib}/tokens", {"params": {"name": "bench"}, "headers": admin}),
        ("reindex (queue)", "POST", "/api/v1/admin/reindex", {"headers": admin}),
    ]


def _round(client: httpx.Client, token: str) -> dict[str, tuple[int, float]]:
    timed = {}
    for name, method, path, kwargs in _requests(token):
        started = time.perf_counter()
        answer = client.request(method, path, **kwargs)
        timed[name] = (answer.status_code, time.perf_counter() - started)
    return timed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=40, help="copies of the 2,000 records ingested")
    args = parser.parse_args(argv)
    from api.app import create_app

    with tempfile.TemporaryDirectory(prefix="unioncat-busy-") as work:
        data = Path(work) / "data"
        settings = Settings(
            data_dir=data, database_url=f"sqlite:///{data / 'unioncat.db'}", admin_token=ADMIN
        )
        engine = db.make_engine(settings.resolved_database_url)
        db.upgrade(engine)
        with session_scope(engine) as session:
            add_library(session, "VNU-LIC", "Trung tâm Thư viện ĐHQGHN")
            add_library(session, "BIG", "Thư viện lớn")
            _, token = create_token(session, "VNU-LIC", "bench")
        ingest_file(engine, "VNU-LIC", SAMPLE)
        big = Path(work) / "big.mrc"
        sample = SAMPLE.read_bytes()
        big.write_bytes(b"".join(renumbered(sample, copy) for copy in range(args.copies)))
        database = data / "unioncat.db"
        env = {
            **os.environ,
            "UNIONCAT_DATA_DIR": str(data),
            "UNIONCAT_DATABASE_URL": settings.resolved_database_url,
        }
        with (
            measure.app_served(create_app(engine, settings, start_worker=False)) as url,
            httpx.Client(base_url=url, timeout=120) as client,
        ):
            idle = _round(client, token)
            unioncat = str(Path(sys.executable).parent / "unioncat")
            command = [unioncat, "ingest", str(big), "--library", "BIG", "--workers", "0"]
            ingest = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                while not write_locked(database):
                    time.sleep(0.05)
                busy = _round(client, token)
                held = write_locked(database)
            finally:
                ingest.send_signal(signal.SIGTERM)
                ingest.wait(timeout=60)
        engine.dispose()
    print(f"{'request':<16} {'idle':>14} {'while ingesting':>18}")
    for name, (status, seconds) in idle.items():
        busy_status, busy_seconds = busy[name]
        print(
            f"{name:<16} {status:>4} {seconds * 1000:>7.0f} ms"
            f" {busy_status:>6} {busy_seconds * 1000:>8.0f} ms"
        )
    print(
        "the ingest held the lock to the end of the round" if held else "WARNING: the ingest ended too soon"
    )
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Shared fixtures: real data files, real databases (a SQLite file; PostgreSQL when a server is given)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from catalog import db

# In CI the property-based and fuzz tests run a fixed set of examples, so that a landing never
# depends on the luck of the draw; developers' runs explore new examples every time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
DEMO_DATA = ROOT / "api" / "demo_data"
VIETNAMESE = DEMO_DATA / "vietnamese-529.mrc"
KOHA = DEMO_DATA / "koha-sample-436-with-952.xml"
JAZZ_949 = DEMO_DATA / "evergreen-jazz-1k-949.mrc"

PG_URL = os.environ.get("UNIONCAT_TEST_POSTGRES_URL")
PG_REQUIRED = os.environ.get("UNIONCAT_REQUIRE_POSTGRES") == "1"
PG_SKIP_REASON = (
    "no PostgreSQL server: set UNIONCAT_TEST_POSTGRES_URL to an admin URL (CI's .ci/run starts one) "
    "to run the PostgreSQL cases"
)


def shared_catalogue(
    path: Path,
    shares: dict[str, Callable[[int], bool]],
    others: Sequence[tuple[str, str, str, Path]] = (),
) -> Engine:
    """A SQLite catalogue where each library of ``shares`` holds the Vietnamese LoC records its
    predicate keeps (by position), and each of ``others`` (code, name, holdings profile, file) holds
    a file of its own: the same editions held by several libraries, as a consortium has them."""
    from catalog.db import session_scope
    from catalog.libraries import add_library
    from harvest.ingest import ingest_file
    from harvest.iso2709 import split_records

    engine = db.make_engine(f"sqlite:///{path / 'catalogue.db'}")
    db.upgrade(engine)
    with open(VIETNAMESE, "rb") as fh:
        raws = [raw for _offset, raw in split_records(fh)]
    with session_scope(engine) as session:
        for code in shares:
            add_library(session, code, f"Thư viện {code}")
        for code, name, profile, _file in others:
            add_library(session, code, name, holdings_profile=profile)
    for code, keep in shares.items():
        part = path / f"{code}.mrc"
        part.write_bytes(b"".join(r for i, r in enumerate(raws) if keep(i)))
        ingest_file(engine, code, part)
    for code, _name, _profile, file in others:
        ingest_file(engine, code, file)
    return engine


# Every real ISO 2709 file the tests have: what the fast paths must read exactly as pymarc does.
ISO2709_FILES = [
    "sample-2000.mrc",
    "vietnamese-529.mrc",
    "stray-combining-marks-182.mrc",
    "bookops-dups.mrc",
    "evergreen-jazz-1k-949.mrc",
    "leader-says-marc8-bytes-are-utf8.marc",
    "marc.dat",
    "marc8.dat",
    "1251.dat",
    "bad_records.mrc",
    "bad_indicator.dat",
    "bad_eacc_encoding.dat",
    "bad_marc8_escape.dat",
    "utf8_errors.dat",
    "utf8_invalid.mrc",
    "testunimarc.dat",
]


def fixture(name: str) -> Path:
    path = FIXTURES / name
    if not path.exists():
        path = DEMO_DATA / name
    assert path.exists(), name
    return path


def _pg_database() -> Iterator[str]:
    if not PG_URL:
        if PG_REQUIRED:
            pytest.fail("UNIONCAT_REQUIRE_POSTGRES=1 but UNIONCAT_TEST_POSTGRES_URL is not set")
        pytest.skip(PG_SKIP_REASON)
    admin_url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"unioncat_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, and a fresh PostgreSQL database when a server is given."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalogue.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated catalogue on each engine."""
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite catalogue (for tests that are about the pipeline, not the engine)."""
    eng = db.make_engine(f"sqlite:///{tmp_path / 'catalogue.db'}")
    db.upgrade(eng)
    yield eng
    eng.dispose()


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (Linux /proc), children first."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        found += [int(c) for c in children]
        todo += [int(c) for c in children]
    return found


def wait_gone(pids: Sequence[int], seconds: float = 15.0) -> list[int]:
    """Wait until none of ``pids`` runs any more (a zombie counts as gone); those still running."""
    deadline = time.monotonic() + seconds
    while True:
        running = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z":
                running.append(pid)
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.1)


def unioncat_command() -> list[str]:
    """The installed console script, the real entry point users run."""
    script = Path(sys.executable).parent / "unioncat"
    assert script.exists(), "the unioncat console script is not installed (pip install -e .)"
    return [str(script)]


@pytest.fixture
def run_cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run ``unioncat ARGS`` in a subprocess against a catalogue in ``tmp_path``."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONCAT_")}
        full_env["UNIONCAT_DATA_DIR"] = str(tmp_path / "data")
        full_env.update(env or {})
        return subprocess.run(
            [*unioncat_command(), *args],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=tmp_path,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    return run

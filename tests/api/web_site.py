"""The catalogue the web page tests (pages rendered by the test client, and in a real browser) read:
four member libraries holding real records, some editions held by several of them, one library's
Koha items all on loan, and a job that rejected records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pymarc import XMLWriter
from sqlalchemy import Engine

from catalog import db
from catalog.db import session_scope
from catalog.libraries import add_library
from catalog.settings import Settings
from catalog.tokens import create_token
from harvest import sources
from harvest.ingest import ingest_file
from harvest.iso2709 import split_records
from tests.conftest import KOHA, VIETNAMESE, fixture

ON_LOAN = 40  # the first Koha records, whose items DUT-LIB holds, every one checked out


@dataclass(frozen=True)
class Site:
    engine: Engine
    settings: Settings
    token: str  # HUST-LIB's: a librarian signs in with it
    upload: Path  # a file for HUST-LIB to upload: 329 new records
    on_loan_isbn: str  # an ISBN of an edition TNU-LRC has on the shelf and DUT-LIB has lent out


def build_site(work: Path) -> Site:
    settings = Settings(data_dir=work / "data", database_url=f"sqlite:///{work / 'data' / 'unioncat.db'}")
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with open(VIETNAMESE, "rb") as fh:
        raws = [raw for _offset, raw in split_records(fh)]
    with session_scope(engine) as session:
        add_library(session, "VNU-LIC", "Trung tâm Thư viện ĐHQGHN", name_en="VNU Library", city="Hà Nội")
        add_library(session, "HUST-LIB", "Thư viện Tạ Quang Bửu", city="Hà Nội")
        add_library(session, "TNU-LRC", "Trung tâm Học liệu ĐH Thái Nguyên", holdings_profile="koha")
        add_library(session, "DUT-LIB", "Thư viện ĐH Bách khoa Đà Nẵng", name_en="DUT Library",
                    holdings_profile="koha")  # fmt: skip
        _record, token = create_token(session, "HUST-LIB", "web page tests")
    (work / "vnu.mrc").write_bytes(b"".join(raws[:350]))
    ingest_file(engine, "VNU-LIC", work / "vnu.mrc")
    ingest_file(engine, "TNU-LRC", KOHA)
    on_loan, isbn = _all_on_loan(work / "dut.xml")
    ingest_file(engine, "DUT-LIB", on_loan)
    ingest_file(engine, "HUST-LIB", fixture("bad_records.mrc"))  # a job that rejected records
    (work / "hust.mrc").write_bytes(b"".join(raws[200:]))
    return Site(engine, settings, token, work / "hust.mrc", isbn)


def _all_on_loan(path: Path) -> tuple[Path, str]:
    """The first Koha records with every item given a due date (Koha's 952 $q: checked out)."""
    records = [item.record for item in sources.read_path(KOHA) if item.record is not None]
    chosen = [r for r in records if r.get_fields("952") and r.get_fields("020")][:ON_LOAN]
    writer = XMLWriter(open(path, "wb"))  # noqa: SIM115 - the writer closes it
    for record in chosen:
        for item in record.get_fields("952"):
            item.add_subfield("q", "2026-12-31")
        writer.write(record)
    writer.close()
    isbn = chosen[0]["020"]["a"].split()[0]
    return path, isbn

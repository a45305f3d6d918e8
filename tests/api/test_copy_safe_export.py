"""The copy-safe export of union records on both databases: the members of several union records
read in one statement (as SRU reads a page of them), each record without its members' local data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from api import exports
from catalog.copy_safe import CopySafeRules, copy_safe
from catalog.db import session_scope
from catalog.libraries import add_library
from catalog.models import UnionRecord
from harvest.ingest import ingest_file
from tests.conftest import KOHA


def test_union_records_of_the_koha_sample_export_copy_safe(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_library(session, "TNU-LRC", "Trung tâm Học liệu", holdings_profile="koha")
    ingest_file(engine, "TNU-LRC", KOHA, workers=0)
    with engine.connect() as conn:
        ids = list(conn.execute(select(UnionRecord.id).order_by(UnionRecord.id).limit(40)).scalars())
        together = exports.union_marcs(conn, ids)
        assert set(together) == set(ids)
        for uid in ids[:10]:  # one at a time, the same record
            alone = exports.union_marc(conn, uid)
            assert alone is not None and alone.as_marc() == together[uid].as_marc()
        rules = CopySafeRules(org_code="VN-TEST")
        items = 0
        for uid, record in together.items():
            items += len(record.get_fields("952"))
            safe = copy_safe(record, uid, rules)
            assert not [f for f in safe.fields if f.tag.startswith("9")]
            assert safe["003"].data == "VN-TEST" and safe["001"].data == f"union-{uid}"
        assert items > 0  # the sample's items were there to be dropped
        data = exports.union_export(conn, ids[0], "iso2709", rules)
        assert data is not None and b"VN-TEST" in data

"""Harvesting over OAI-PMH from a real data provider (the ``oaipmh`` package's server, see
tests/oai_peer.py) on 127.0.0.1, serving the real Koha sample with its 952 items."""

from __future__ import annotations

import os
import pickle
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.db import session_scope
from catalog.libraries import add_library, get_library
from catalog.models import Holding, IngestJob, JobRejection, RecordStatus, SourceRecord
from harvest.oai import harvest_library
from harvest.oai_client import HarvestError, OaiClient, Repository, next_from
from harvest.oai_fetch import Entry, PreparedPage, joined, prepare_page
from harvest.oai_page import _record_tags
from tests.conftest import KOHA, descendants, unioncat_command, wait_gone
from tests.oai_peer import Peer

SR = SourceRecord.__table__  # type: ignore[attr-defined]


@pytest.fixture
def peer() -> Iterator[Peer]:
    with Peer(batch_size=100) as p:
        p.load(KOHA)
        yield p


def _library(engine: Engine, url: str, code: str = "KOHA") -> None:
    with session_scope(engine) as session:
        add_library(session, code, "Thư viện Koha", holdings_profile="koha", oai_base_url=url)


def _client(url: str, delays: list[float] | None = None) -> OaiClient:
    sleeps = delays if delays is not None else []
    return OaiClient(url, retries=3, backoff=0.01, timeout=10, sleep=sleeps.append)


def _active(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(SR.c.status == RecordStatus.ACTIVE.value)).scalar_one()


def _title(engine: Engine, oai_identifier: str) -> tuple[str, str]:
    with engine.connect() as conn:
        row = conn.execute(select(SR.c.title, SR.c.status).where(SR.c.oai_identifier == oai_identifier)).one()
    return row[0], row[1]


def test_full_harvest_with_resumption_tokens(engine: Engine, peer: Peer) -> None:
    _library(engine, peer.url)
    summary = harvest_library(engine, "KOHA", client=_client(peer.url))
    total = len(peer.repository.records)
    assert total > 400
    assert summary["status"] == "succeeded"
    assert (summary["read"], summary["added"], summary["rejected"]) == (total, total, 0)
    assert summary["pages"] == -(-total // 100)  # the provider's pages of 100, through its tokens
    assert sum("resumptionToken" in r for r in peer.requests) == summary["pages"] - 1
    assert _active(engine) == total
    with Session(engine) as session:
        job = session.get(IngestJob, summary["job_id"])
        assert job is not None and job.source == "oai" and job.read == total
        items = session.exec(select(Holding)).all()  # type: ignore[call-overload]
        library = get_library(session, "KOHA")
        assert library.last_harvest_datestamp and library.oai_resumption_token is None
    # Koha's items embedded in its MARCXML (952) became holdings with call numbers and barcodes
    assert len(items) > total
    assert sum(1 for h in items[0:] if h[0].barcode) > 100
    assert sum(1 for h in items[0:] if h[0].call_number) > 100
    # the local id is Koha's biblionumber (999 $c), the OAI identifier is kept beside it
    with engine.connect() as conn:
        local_id, oai = conn.execute(select(SR.c.local_id, SR.c.oai_identifier).limit(1)).one()
    assert oai == f"oai:peer:{local_id}"


def test_incremental_harvest_with_changes_and_deletions(engine: Engine, peer: Peer) -> None:
    _library(engine, peer.url)
    first = harvest_library(engine, "KOHA", client=_client(peer.url))
    ids = sorted(peer.repository.records)
    peer.change_title(ids[0], "Giáo trình lịch sử Đảng Cộng sản Việt Nam")
    peer.delete(ids[1])
    second = harvest_library(engine, "KOHA", client=_client(peer.url))
    assert (second["read"], second["updated"], second["deleted"], second["added"]) == (2, 1, 1, 0)
    with Session(engine) as session:
        start = get_library(session, "KOHA").last_harvest_datestamp
    listed = [r for r in peer.requests if r.get("verb") == "ListRecords" and "metadataPrefix" in r]
    assert "from" not in listed[0]
    # from = the first harvest's start (the repository's responseDate) less one second of overlap
    assert listed[1]["from"] == second["window_from"] and listed[1]["from"] < str(start)
    title, status = _title(engine, ids[0])
    assert title.startswith("Giáo trình lịch sử Đảng Cộng sản Việt Nam") and status == "active"
    assert _title(engine, ids[1])[1] == "deleted"
    assert _active(engine) == first["read"] - 1
    # nothing new: the repository says noRecordsMatch, and that is a successful empty harvest
    third = harvest_library(engine, "KOHA", client=_client(peer.url))
    assert third["status"] == "succeeded" and third["read"] <= 2 and third["added"] == 0


def test_incremental_windows_overlap_one_granularity_unit() -> None:
    assert next_from("2026-03-01T10:00:00Z", Repository(granularity="YYYY-MM-DDThh:mm:ssZ")) == (
        "2026-03-01T09:59:59Z"
    )
    assert next_from("2026-03-01T10:00:00Z", Repository(granularity="YYYY-MM-DD")) == "2026-02-28"
    assert next_from("2026-03-01", Repository(granularity="YYYY-MM-DD")) == "2026-02-28"


def test_day_granularity_repository_is_asked_in_days(sqlite_engine: Engine) -> None:
    with Peer(granularity="YYYY-MM-DD", batch_size=200) as peer:
        peer.load(KOHA, limit=50)
        _library(sqlite_engine, peer.url)
        harvest_library(sqlite_engine, "KOHA", client=_client(peer.url))
        harvest_library(sqlite_engine, "KOHA", client=_client(peer.url))
        second = [r for r in peer.requests if r.get("verb") == "ListRecords"][-1]
        assert len(second["from"]) == 10  # YYYY-MM-DD, the day before the first harvest


def test_sweep_finds_records_removed_without_trace(sqlite_engine: Engine) -> None:
    with Peer(deleted_record="no", batch_size=100) as peer:
        peer.load(KOHA, limit=120)
        _library(sqlite_engine, peer.url)
        first = harvest_library(sqlite_engine, "KOHA", client=_client(peer.url))
        assert first["swept"]  # never swept before: the first harvest sweeps
        gone = sorted(peer.repository.records)[:3]
        for identifier in gone:
            peer.remove(identifier)
        quiet = harvest_library(sqlite_engine, "KOHA", client=_client(peer.url))
        assert not quiet["swept"] and quiet["deleted"] == 0  # swept a moment ago: not due
        swept = harvest_library(sqlite_engine, "KOHA", client=_client(peer.url), sweep=True)
        assert swept["swept"] and swept["deleted"] == 3
        assert any(r.get("verb") == "ListIdentifiers" for r in peer.requests)
        assert {_title(sqlite_engine, i)[1] for i in gone} == {"deleted"}
        assert _active(sqlite_engine) == 117


def test_transient_errors_are_retried_with_backoff(sqlite_engine: Engine, peer: Peer) -> None:
    _library(sqlite_engine, peer.url)
    delays: list[float] = []
    peer.fail_next(503, times=1, retry_after=0)  # Identify: Retry-After honoured
    peer.garbage_next()  # then an HTML page where Identify should be
    peer.faults.append(("ok", None))
    peer.fail_next(500, times=2)  # the first page: twice
    peer.garbage_next()  # then an HTML error page with status 200
    peer.cut_next()  # then a body cut in the middle
    summary = harvest_library(sqlite_engine, "KOHA", client=_client(peer.url, delays))
    assert summary["status"] == "succeeded" and summary["read"] == len(peer.repository.records)
    assert summary["retries"] == 6
    assert delays[0] == 0 and delays[2] < delays[3]  # Retry-After, then exponential backoff


def test_failure_midway_keeps_committed_pages_and_the_next_harvest_resumes(
    engine: Engine, peer: Peer
) -> None:
    _library(engine, peer.url)
    total = len(peer.repository.records)
    # Identify, page 1, page 2 succeed; page 3 fails every attempt
    peer.faults = [("ok", None)] * 3 + [("status", (500, None))] * 4
    with pytest.raises(HarvestError, match="did not answer") as failed:
        harvest_library(engine, "KOHA", client=_client(peer.url))
    with Session(engine) as session:
        job = session.get(IngestJob, failed.value.job_id)
        assert job is not None and job.status == "failed" and "2 page(s) were committed" in (job.error or "")
        assert job.read == 200
        assert get_library(session, "KOHA").oai_resumption_token
    assert _active(engine) == 200
    peer.requests.clear()
    summary = harvest_library(engine, "KOHA", client=_client(peer.url))
    assert summary["resumed"] and summary["read"] == total - 200  # nothing committed is read again
    first_list = next(r for r in peer.requests if r.get("verb") == "ListRecords")
    assert "resumptionToken" in first_list
    assert _active(engine) == total


def test_expired_token_on_resume_reads_the_window_again(sqlite_engine: Engine, peer: Peer) -> None:
    _library(sqlite_engine, peer.url)
    total = len(peer.repository.records)
    peer.faults = [("ok", None)] * 2 + [("status", (500, None))] * 4
    with pytest.raises(HarvestError):
        harvest_library(sqlite_engine, "KOHA", client=_client(peer.url))
    peer.faults = [("ok", None), ("badtoken", None)]
    summary = harvest_library(sqlite_engine, "KOHA", client=_client(peer.url))
    assert summary["restarted"] and summary["status"] == "succeeded"
    assert summary["unchanged"] == 100 and summary["added"] == total - 100
    assert _active(sqlite_engine) == total


def test_invalid_characters_cost_only_their_record(sqlite_engine: Engine, peer: Peer) -> None:
    _library(sqlite_engine, peer.url)
    ids = sorted(peer.repository.records)
    peer.corruptions = {ids[5]: b"\x0b\x1f", ids[6]: b"<<broken"}
    summary = harvest_library(sqlite_engine, "KOHA", client=_client(peer.url))
    total = len(ids)
    assert summary["read"] == total and summary["rejected"] == 1 and summary["warnings"] >= 1
    assert _active(sqlite_engine) == total - 1
    with sqlite_engine.connect() as conn:
        rejected = conn.execute(select(JobRejection.local_id, JobRejection.reason)).one()  # type: ignore[call-overload]
        warned = conn.execute(select(SR.c.warnings).where(SR.c.oai_identifier == ids[5])).scalar_one()
    assert rejected[0] == ids[6] and "not well-formed" in rejected[1]
    assert "0x0B" in str(warned)


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_shares_of_a_page_join_into_the_whole_page(peer: Peer, parts: int) -> None:
    """Worker processes each prepare a share of a page: joined, the shares are the page, in order,
    also for a page that does not parse as a whole (records read one by one)."""
    first_page = {"verb": "ListRecords", "metadataPrefix": "marc21"}
    ids = [e.identifier for e in prepare_page(_client(peer.url).fetch(first_page)[0], 1, None).entries]
    peer.corruptions = {ids[5]: b"\x0b\x1f", ids[6]: b"<<broken"}
    content, _ = _client(peer.url).fetch(first_page)
    whole = prepare_page(content, 201, None, True)
    joined_page = joined([prepare_page(content, 201, None, True, None, i, parts) for i in range(parts)])

    def entries(page: PreparedPage) -> list[tuple[Any, ...]]:
        return [
            (e.number, e.identifier, e.deleted, e.reason, e.prepared and e.prepared.checksum)
            for e in page.entries
        ]

    assert [e[0] for e in entries(whole)] == list(range(201, 301))
    assert sum(e[3] is not None for e in entries(whole)) == 1  # the broken record, and only it
    assert entries(joined_page) == entries(whole)
    assert (joined_page.token, joined_page.response_date) == (whole.token, whole.response_date)
    # what a worker hands back arrives whole, each entry rebuilt by a call of its class
    assert pickle.loads(pickle.dumps(whole)) == whole
    assert all(e.__reduce_ex__(pickle.HIGHEST_PROTOCOL)[0] is Entry for e in whole.entries)


_RECORD_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?record(?=[\s/>])")  # what _record_tags finds
# Tags built around the name: what comes before it (a "<", a "</", anything), a prefix of name
# characters, colons and others, the name or a near miss, and what follows.
_TAGS = st.tuples(
    st.sampled_from([b"<", b"</", b"", b"x", b"/", b"<<"]),
    st.one_of(
        st.sampled_from([b"", b"marc:", b"1a:", b"_:", b"a.b-c:", b":", b"a:b:", b"-x:", b".:", b"9:"]),
        st.text(alphabet="aZ1_.-:/ ", max_size=5).map(str.encode),
    ),
    st.sampled_from([b"record", b"rec", b"Record"]),
    st.sampled_from([b">", b" ", b"/", b"\t", b"", b"x", b"record>"]),
).map(b"".join)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_TAGS, max_size=5))
def test_record_tags_are_found_as_the_pattern_finds_them(tags: list[bytes]) -> None:
    content = b"".join(tags)
    expected = [(m.start(), m.end(), m.group(1) == b"/") for m in _RECORD_TAG.finditer(content)]
    assert list(_record_tags(content)) == expected


def test_repository_errors_fail_the_job_with_the_reason(sqlite_engine: Engine, peer: Peer) -> None:
    _library(sqlite_engine, peer.url)
    with session_scope(sqlite_engine) as session:
        get_library(session, "KOHA").oai_metadata_prefix = "mods"
    with pytest.raises(HarvestError, match="cannotDisseminateFormat"):
        harvest_library(sqlite_engine, "KOHA", client=_client(peer.url))
    with session_scope(sqlite_engine) as session:
        add_library(session, "NOURL", "Không có OAI")
    with pytest.raises(HarvestError, match="no OAI-PMH base URL"):
        harvest_library(sqlite_engine, "NOURL")


def test_cli_harvest_killed_midway_resumes_without_loss(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    with Peer(batch_size=40) as peer:
        peer.load(KOHA)
        total = len(peer.repository.records)
        assert (
            run_cli(
                "library",
                "add",
                "KOHA",
                "--name",
                "Koha",
                "--holdings-profile",
                "koha",
                "--oai-url",
                peer.url,
            ).returncode
            == 0
        )
        from catalog import db

        engine = db.make_engine(f"sqlite:///{tmp_path / 'data' / 'unioncat.db'}")
        original = peer._respond

        def slow(params: dict[str, str]):  # type: ignore[no-untyped-def]
            time.sleep(0.3)
            return original(params)

        peer._respond = slow  # type: ignore[method-assign]
        env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONCAT_")}
        env["UNIONCAT_DATA_DIR"] = str(tmp_path / "data")
        proc = subprocess.Popen(
            [*unioncat_command(), "harvest", "KOHA"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while _active(engine) < 80 and time.monotonic() < deadline:
            time.sleep(0.05)
        helpers = descendants(proc.pid)  # the fork server and the preparing workers
        assert len(helpers) >= 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert wait_gone(helpers) == [], "processes of the killed harvest are still running"
        committed = _active(engine)
        assert 80 <= committed < total
        peer._respond = original  # type: ignore[method-assign]
        done = run_cli("harvest", "KOHA", "--json")
        assert done.returncode == 0, done.stderr
        import json

        summary = json.loads(done.stdout)
        assert summary["resumed"] and summary["read"] == total - committed
        assert _active(engine) == total
        with Session(engine) as session:
            jobs = session.exec(select(IngestJob).order_by(IngestJob.id)).all()  # type: ignore[call-overload]
        assert jobs[0][0].status == "failed" and "next harvest goes on" in (jobs[0][0].error or "")
        engine.dispose()


def test_the_service_harvests_on_schedule_and_on_request(tmp_path: Path, peer: Peer) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from catalog import db
    from catalog.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", admin_token="admin-secret", harvest_check_minutes=0)
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with session_scope(engine) as session:
        add_library(
            session, "KOHA", "Koha", holdings_profile="koha", oai_base_url=peer.url, harvest_interval_hours=24
        )
        add_library(session, "FILES", "Chỉ gửi tệp")
    app = create_app(engine, settings)
    admin = {"Authorization": "Bearer admin-secret"}
    with TestClient(app) as client:
        worker = app.state.worker
        assert worker.queue_due_harvests() == ["KOHA"]  # never harvested: due
        assert worker.wait_idle(120)
        assert worker.queue_due_harvests() == []  # harvested a moment ago: not due for 24 hours
        assert _active(engine) == len(peer.repository.records)
        peer.change_title(sorted(peer.repository.records)[0], "Tên mới")
        assert client.post("/api/v1/libraries/KOHA/harvest").status_code == 401
        asked = client.post("/api/v1/libraries/KOHA/harvest", headers=admin)
        assert asked.status_code == 202 and asked.json()["queued"]
        assert worker.wait_idle(120)
        jobs = client.get("/api/v1/libraries/KOHA/jobs", headers=admin).json()
        assert [j["source"] for j in jobs] == ["oai", "oai"] and jobs[0]["updated"] == 1
        refused = client.post("/api/v1/libraries/FILES/harvest", headers=admin)
        assert refused.status_code == 409 and "no OAI-PMH base URL" in refused.json()["detail"]
        shown = client.get("/api/v1/libraries/KOHA").json()
        assert shown["last_harvest_datestamp"] and not shown["harvest_unfinished"]
    engine.dispose()

"""The digital library over HTTP: deposits (streamed, size-limited, the token checked first),
metadata, files served under the access rules with ranges, changes, withdrawals and usage."""

from __future__ import annotations

import csv
import io
import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.schemas import digital as schemas
from catalog import db
from catalog.models import DigitalObject, IngestJob, SourceRecord
from harvest.ingest import ingest_file
from tests.api.librarian import form_token, sign_in
from tests.api.test_api_contract import _exactly
from tests.api.test_http import _admin, _library, _problem, _settings
from tests.conftest import fixture
from tests.digital_files import damaged_pdf, inflating_pdf, million_pages_pdf, password_pdf, text_pdf

RECORD = "11778504"  # The pragmatic programmer, in tests/fixtures/marc.dat


class Service:
    def __init__(self, client: TestClient, tmp_path: Path) -> None:
        self.client = client
        self.tmp = tmp_path
        self.engine = client.app_state.engine  # type: ignore[attr-defined]
        self.a = _library(client, "LIB-A")
        self.b = _library(client, "LIB-B")
        ingest_file(self.engine, "LIB-A", fixture("marc.dat"))
        ingest_file(self.engine, "LIB-B", fixture("marc.dat"))

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def deposit(
        self, path: Path, token: str | None = None, code: str = "LIB-A", **fields: str
    ) -> httpx.Response:
        data = {"record": RECORD, **fields}
        with path.open("rb") as fh:
            return self.client.post(
                f"/api/v1/libraries/{code}/digital",
                files={"file": (path.name, fh, "application/pdf")},
                data=data,
                headers=self.auth(token or self.a),
            )

    def objects(self) -> list[DigitalObject]:
        with Session(self.engine) as session:
            return list(session.exec(select(DigitalObject)).all())

    def stored_files(self) -> list[Path]:
        root = self.tmp / "data" / "digital"
        return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []

    def flush_usage(self) -> None:
        self.client.app_state.digital_usage.flush()  # type: ignore[attr-defined]


def make_client(tmp_path: Path, **settings: object) -> Iterator[TestClient]:
    from api.app import create_app

    config = _settings(tmp_path, **settings)
    engine = db.make_engine(config.resolved_database_url)
    db.upgrade(engine)
    app = create_app(engine, config, start_worker=False)
    with TestClient(app) as client:
        client.app_state = app.state  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    for client in make_client(tmp_path, max_digital_bytes=2_000_000):
        yield Service(client, tmp_path)


@pytest.fixture
def thesis(tmp_path: Path) -> Path:
    return text_pdf(tmp_path / "Luận văn thạc sĩ.pdf", pages=3)


def test_a_deposit_is_stored_checksummed_and_its_text_extraction_queued(
    service: Service, thesis: Path
) -> None:
    done = service.deposit(thesis, access="members", label="Toàn văn")
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["new"] is True and body["library"] == "LIB-A" and body["record"] == RECORD
    assert (body["content_type"], body["pages"], body["access"], body["label"]) == (
        "application/pdf",
        3,
        "members",
        "Toàn văn",
    )
    assert body["size"] == thesis.stat().st_size and body["filename"] == "Luận văn thạc sĩ.pdf"
    with Session(service.engine) as session:
        job = session.get(IngestJob, body["text_job"])
        assert job is not None and job.source == "text" and job.options == {"object_id": body["id"]}
    again = service.deposit(thesis, access="open")
    assert again.status_code == 201 and again.json()["id"] == body["id"] and again.json()["new"] is False
    assert len(service.stored_files()) == 1  # one file, stored once per content
    listed = service.client.get("/api/v1/libraries/LIB-A/digital").json()
    assert listed["total"] == 1 and listed["objects"][0]["id"] == body["id"]
    _exactly(schemas.Deposited, body)  # every answer is exactly its model
    _exactly(schemas.DigitalPage, listed)
    _exactly(schemas.DigitalObjectInfo, service.client.get(f"/api/v1/digital/{body['id']}").json())
    assert not list((service.tmp / "data" / "uploads").glob("incoming-*"))


@pytest.mark.hostile("uploads")
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (password_pdf, "password"),
        (million_pages_pdf, "1000000 pages"),
        (lambda p: damaged_pdf(p, text_pdf(p.with_name("good.pdf"))), "damaged"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty"),
        (lambda p: (p.write_bytes(b"<html><script>alert(1)</script>"), p)[1], "judged by its content"),
        (lambda p: inflating_pdf(p, inflated_mb=600), "memory"),
    ],
    ids=["encrypted", "million-pages", "damaged", "zero-byte", "html-as-pdf", "zip-bomb"],
)
def test_bad_files_are_each_refused_with_the_reason_and_nothing_is_stored(
    service: Service, tmp_path: Path, make, reason: str
) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path / "bad.pdf")
    refused = service.deposit(path)
    assert reason in _problem(refused, 422)["detail"]
    assert service.objects() == [] and service.stored_files() == []
    assert not list((service.tmp / "data" / "uploads").glob("incoming-*"))


@pytest.mark.hostile("uploads")
def test_deposits_are_checked_for_who_and_what_before_and_while_reading(
    service: Service, thesis: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * 2_100_000)
    with big.open("rb") as fh:  # no token: refused before the body is read, whatever its size
        anonymous = service.client.post(
            "/api/v1/libraries/LIB-A/digital", files={"file": ("big.pdf", fh)}, data={"record": RECORD}
        )
    _problem(anonymous, 401)
    _problem(service.deposit(thesis, token=service.b), 403)  # another library's token
    assert "the upload is larger than" in _problem(service.deposit(big), 413)["detail"]
    assert "no record" in _problem(service.deposit(thesis, record="not-ours"), 422)["detail"]
    assert "unknown access" in _problem(service.deposit(thesis, access="secret"), 422)["detail"]
    assert "not a date" in _problem(service.deposit(thesis, access="embargo:2030-13-45"), 422)["detail"]
    with thesis.open("rb") as fh:
        raw = service.client.post(
            "/api/v1/libraries/LIB-A/digital", content=fh.read(), headers=service.auth(service.a)
        )
    _problem(raw, 415)
    tricky = text_pdf(tmp_path / "x.pdf")
    with tricky.open("rb") as fh:
        named = service.client.post(
            "/api/v1/libraries/LIB-A/digital",
            files={"file": ("../../etc/passwd\x00.pdf", fh, "application/pdf")},
            data={"record": RECORD},
            headers=service.auth(service.a),
        )
    assert named.status_code == 201 and "/" not in named.json()["filename"]
    assert [o.filename for o in service.objects()] == [named.json()["filename"]]


def test_files_are_served_with_ranges_etag_and_a_safe_disposition(service: Service, thesis: Path) -> None:
    obj = service.deposit(thesis).json()
    data = thesis.read_bytes()
    url = f"/api/v1/digital/{obj['id']}/file"
    whole = service.client.get(url)
    assert whole.status_code == 200 and whole.content == data
    headers = whole.headers
    assert headers["content-type"] == "application/pdf"
    assert headers["etag"] == f'"{obj["sha256"]}"'
    assert headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in headers["content-security-policy"]
    assert headers["accept-ranges"] == "bytes"
    assert headers["content-disposition"] == (
        'attachment; filename="Luan van thac si.pdf"; '
        "filename*=UTF-8''Lu%E1%BA%ADn%20v%C4%83n%20th%E1%BA%A1c%20s%C4%A9.pdf"
    )
    part = service.client.get(url, headers={"Range": "bytes=10-19"})
    assert (part.status_code, part.content) == (206, data[10:20])
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    tail = service.client.get(url, headers={"Range": "bytes=-7"})
    assert (tail.status_code, tail.content) == (206, data[-7:])
    several = service.client.get(url, headers={"Range": "bytes=0-3, 100-104, 2-5"})
    assert several.status_code == 206
    assert several.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert data[0:6] in several.content and data[100:105] in several.content
    assert f"Content-Range: bytes 0-5/{len(data)}".encode() in several.content
    assert int(several.headers["content-length"]) == len(several.content)
    beyond = service.client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert "no requested range" in _problem(beyond, 416)["detail"]
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"
    for unreadable in ("bytes=5-2", "lines=1-2", "bytes=abc", "bytes=-"):
        ignored = service.client.get(url, headers={"Range": unreadable})
        assert (ignored.status_code, ignored.content) == (200, data), unreadable
    same = service.client.get(url, headers={"If-None-Match": headers["etag"]})
    assert same.status_code == 304 and same.content == b""
    stale = service.client.get(url, headers={"Range": "bytes=0-1", "If-Range": '"other"'})
    assert stale.status_code == 200


def test_access_rules_decide_who_reads_the_bytes(service: Service, thesis: Path, tmp_path: Path) -> None:
    members = service.deposit(thesis, access="members").json()
    later = text_pdf(tmp_path / "later.pdf", pages=1, words="Embargo")
    embargoed = service.deposit(later, access="embargo:2999-01-01").json()
    ended = service.deposit(
        text_pdf(tmp_path / "ended.pdf", pages=1, words="Xong"), access="embargo:2001-01-01"
    )
    anonymous = service.client
    for obj in (members, embargoed):
        denied = anonymous.get(f"/api/v1/digital/{obj['id']}/file")
        assert b"%PDF" not in denied.content
        _problem(denied, 403)
        assert anonymous.get(f"/api/v1/digital/{obj['id']}").json()["readable"] is False
    assert anonymous.get(f"/api/v1/digital/{ended.json()['id']}/file").status_code == 200
    member = anonymous.get(f"/api/v1/digital/{members['id']}/file", headers=service.auth(service.b))
    assert member.status_code == 200 and member.content == thesis.read_bytes()
    _problem(anonymous.get(f"/api/v1/digital/{embargoed['id']}/file", headers=service.auth(service.b)), 403)
    own = anonymous.get(f"/api/v1/digital/{embargoed['id']}/file", headers=service.auth(service.a))
    assert own.status_code == 200
    assert anonymous.get(f"/api/v1/digital/{embargoed['id']}/file", headers=_admin()).status_code == 200
    _problem(anonymous.get(f"/api/v1/digital/{members['id']}/file", headers=service.auth("uc_wrong")), 401)
    _problem(anonymous.get("/api/v1/digital/999999/file"), 404)
    _problem(anonymous.get("/api/v1/digital/99999999999/file"), 404)


def test_readers_on_a_members_network_read_members_files(tmp_path: Path, thesis: Path) -> None:
    for client in make_client(tmp_path, digital_member_networks={"LIB-B": ["10.20.0.0/16"]}):
        service = Service(client, tmp_path)
        obj = service.deposit(thesis, access="members").json()
        url = f"/api/v1/digital/{obj['id']}/file"
        from api.app import create_app

        app = client.app  # the same service, seen from two addresses
        inside = TestClient(app, client=("10.20.3.4", 50000))
        outside = TestClient(app, client=("192.0.2.1", 50000))
        assert inside.get(url).status_code == 200
        _problem(outside.get(url), 403)
        assert create_app is not None


def test_a_library_changes_and_withdraws_its_objects(service: Service, thesis: Path) -> None:
    obj = service.deposit(thesis, access="members").json()
    url = f"/api/v1/digital/{obj['id']}"
    _problem(service.client.patch(url, json={"access": "open"}), 401)
    _problem(service.client.patch(url, json={"access": "open"}, headers=service.auth(service.b)), 404)
    bad = service.client.patch(url, json={"access": "nobody"}, headers=service.auth(service.a))
    assert "body.access" in _problem(bad, 422)["detail"]  # refused by the schema's rule pattern
    _problem(service.client.patch(url, json={"colour": "red"}, headers=service.auth(service.a)), 422)
    changed = service.client.patch(
        url, json={"access": "embargo:2999-06-30", "label": "Tóm tắt"}, headers=service.auth(service.a)
    )
    assert changed.status_code == 200
    assert (changed.json()["rule"], changed.json()["label"]) == ("embargo:2999-06-30", "Tóm tắt")
    opened = service.client.patch(url, json={"access": "open"}, headers=service.auth(service.a))
    assert opened.json()["access"] == "open" and service.client.get(f"{url}/file").status_code == 200
    _problem(service.client.delete(url, headers=service.auth(service.b)), 404)
    assert service.client.delete(url, headers=service.auth(service.a)).status_code == 204
    _problem(service.client.get(url), 404)
    _problem(service.client.get(f"{url}/file"), 404)
    assert service.client.get(url, headers=service.auth(service.a)).json()["status"] == "withdrawn"
    assert service.client.get("/api/v1/libraries/LIB-A/digital").json()["total"] == 0
    mine = service.client.get("/api/v1/libraries/LIB-A/digital", headers=service.auth(service.a)).json()
    assert mine["total"] == 1 and mine["objects"][0]["status"] == "withdrawn"


def test_the_record_shows_its_files_with_a_link_or_a_lock(service: Service, thesis: Path) -> None:
    open_one = service.deposit(thesis, label="Toàn văn").json()
    locked = service.deposit(text_pdf(service.tmp / "m.pdf", 1), access="members", label="Phụ lục").json()
    with Session(service.engine) as session:
        record = session.exec(
            select(SourceRecord).where(SourceRecord.local_id == RECORD, SourceRecord.library_id == 1)
        ).one()
    union_id = record.union_record_id
    assert union_id is not None
    api = service.client.get(f"/api/v1/records/{union_id}").json()
    readable = {o["id"]: o["readable"] for o in api["digital_objects"]}
    assert readable == {open_one["id"]: True, locked["id"]: False}
    page = service.client.get(f"/records/{union_id}?lang=en").text
    assert f'href="/digital/{open_one["id"]}?lang=en"' in page and "Toàn văn" in page
    assert "Phụ lục" in page and "🔒" in page and f'href="/digital/{locked["id"]}' not in page
    member_view = service.client.get(f"/api/v1/records/{union_id}", headers=service.auth(service.b)).json()
    assert all(o["readable"] for o in member_view["digital_objects"])


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_reader_shows_pages_as_images_under_the_same_rule(service: Service, thesis: Path) -> None:
    obj = service.deposit(thesis).json()
    page = service.client.get(f"/digital/{obj['id']}?page=2&lang=vi")
    assert page.status_code == 200
    html = page.text
    assert f'src="/digital/{obj["id"]}/pages/2.png?width=800"' in html
    assert 'id="previous"' in html and 'id="next"' in html and "<script" not in html
    english = service.client.get(f"/digital/{obj['id']}?page=3&lang=en").text
    assert "Download the file" in english and 'id="next"' not in english
    image = service.client.get(f"/digital/{obj['id']}/pages/2.png?width=5000")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert png_size(image.content)[0] == 1600  # the widest drawn, whatever is asked
    assert png_size(service.client.get(f"/digital/{obj['id']}/pages/1.png?width=300").content)[0] == 400
    cached = list((service.tmp / "data" / "digital-pages").rglob("*.png"))
    assert len(cached) == 2
    _problem(service.client.get(f"/digital/{obj['id']}/pages/4.png"), 404)
    locked = service.deposit(text_pdf(service.tmp / "m.pdf", 1), access="members").json()
    denied = service.client.get(f"/digital/{locked['id']}?lang=en")
    assert (
        denied.status_code == 403
        and "member libraries only" in denied.text
        and "pages/1.png" not in denied.text
    )
    _problem(service.client.get(f"/digital/{locked['id']}/pages/1.png"), 403)
    allowed = service.client.get(f"/digital/{locked['id']}/pages/1.png", headers=service.auth(service.b))
    assert allowed.status_code == 200
    assert service.client.get("/digital/424242").status_code == 404


def test_usage_is_counted_once_per_double_click_and_reported_like_counter(
    service: Service, thesis: Path
) -> None:
    obj = service.deposit(thesis).json()
    url = f"/api/v1/digital/{obj['id']}/file"
    service.client.get(url)
    service.client.get(url)  # a double click: counted once
    service.client.get(url, headers={"Range": "bytes=100-200"})  # a later range: not a download
    service.client.get(url, headers={"Range": "bytes=0-99", "User-Agent": "other"})  # another client
    service.client.get(url, headers={**service.auth(service.b), "User-Agent": "member"})
    service.client.get(f"/digital/{obj['id']}")
    service.flush_usage()
    report = service.client.get(
        "/api/v1/digital/usage", params={"format": "csv"}, headers=service.auth(service.a)
    )
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(report.text)))
    assert rows[0] == ["Item_ID", "Item", "Publisher", "Member", "Month", "Metric_Type", "Count"]
    counts = {(r[3], r[5]): int(r[6]) for r in rows[1:]}
    assert counts[("", "Total_Item_Requests")] == 2
    assert counts[("", "Total_Item_Investigations")] == 3  # two downloads and a view
    assert counts[("LIB-B", "Total_Item_Requests")] == 1
    assert counts[("", "Unique_Item_Requests")] == 2
    assert all(r[1].startswith("The pragmatic programmer") and r[2] == "LIB-A" for r in rows[1:])
    as_json = service.client.get("/api/v1/digital/usage", headers=service.auth(service.a)).json()
    assert len(as_json) == len(rows) - 1
    _exactly(schemas.UsageRow, as_json)
    other = service.client.get("/api/v1/digital/usage", headers=service.auth(service.b)).json()
    assert other == []  # LIB-B's own objects have no use
    _problem(
        service.client.get(
            "/api/v1/digital/usage", params={"library": "LIB-A"}, headers=service.auth(service.b)
        ),
        403,
    )
    _problem(service.client.get("/api/v1/digital/usage", params={"from": "2026-13"}, headers=_admin()), 422)
    _problem(service.client.get("/api/v1/digital/usage"), 401)
    assert (
        service.client.get(
            "/api/v1/digital/usage", params={"from": "2999-01", "format": "json"}, headers=_admin()
        ).json()
        == []
    )


def test_librarians_deposit_replace_and_withdraw_on_their_page(service: Service, thesis: Path) -> None:
    client = service.client
    assert client.get("/librarian/digital", follow_redirects=False).status_code == 303  # not signed in
    login = sign_in(client, service.a)
    assert login.status_code == 303
    page = client.get("/librarian/digital?lang=en")
    csrf = form_token(client)
    assert page.status_code == 200 and 'id="deposit"' in page.text and "Deposit a file" in page.text
    with thesis.open("rb") as fh:
        foreign = client.post(
            "/librarian/digital",
            files={"file": (thesis.name, fh, "application/pdf")},
            data={"record": RECORD, "csrf_token": csrf},
            headers={"Origin": "https://evil.example"},
        )
    assert foreign.status_code == 403 and service.objects() == []
    with thesis.open("rb") as fh:
        done = client.post(
            "/librarian/digital?lang=en",
            files={"file": (thesis.name, fh, "application/pdf")},
            data={
                "record": RECORD,
                "access": "embargo",
                "embargo_until": "2999-12-31",
                "label": "Toàn văn",
                "csrf_token": csrf,
            },
        )
    assert done.status_code == 200 and "The file was deposited." in done.text
    [obj] = service.objects()
    assert obj.access == "embargo" and obj.embargo_until is not None and obj.embargo_until.year == 2999
    with password_pdf(service.tmp / "locked.pdf").open("rb") as fh:
        refused = client.post(
            "/librarian/digital?lang=en",
            files={"file": ("locked.pdf", fh)},
            data={"record": RECORD, "csrf_token": csrf},
        )
    assert refused.status_code == 422 and "password" in refused.text and len(service.objects()) == 1
    newer = text_pdf(service.tmp / "v2.pdf", pages=7)
    with newer.open("rb") as fh:
        swapped = client.post(
            f"/librarian/digital/{obj.id}/replace?lang=en",
            files={"file": ("v2.pdf", fh)},
            data={"csrf_token": csrf},
        )
    assert swapped.status_code == 200 and "The file was replaced." in swapped.text
    [again] = service.objects()
    assert again.id == obj.id and again.page_count == 7 and again.filename == "v2.pdf"
    opened = client.post(
        f"/librarian/digital/{obj.id}/access?lang=en", data={"access": "open", "csrf_token": csrf}
    )
    assert opened.status_code == 200 and "The access was changed." in opened.text
    assert service.objects()[0].access == "open"
    undated = client.post(
        f"/librarian/digital/{obj.id}/access?lang=en", data={"access": "embargo", "csrf_token": csrf}
    )
    assert undated.status_code == 422 and "needs the date it ends" in undated.text
    gone = client.post(f"/librarian/digital/{obj.id}/withdraw?lang=en", data={"csrf_token": csrf})
    assert gone.status_code == 200 and "The file was withdrawn." in gone.text
    assert service.objects()[0].status == "withdrawn"
    other = TestClient(client.app)
    sign_in(other, service.b)
    withdrawn = other.post(f"/librarian/digital/{obj.id}/withdraw", data={"csrf_token": form_token(other)})
    assert withdrawn.status_code == 404  # not LIB-B's

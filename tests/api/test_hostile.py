"""Hostile inputs, grouped (auth, uploads, compression, XML, JSON, query syntax, OAI arguments, admin
bodies, web): each case is one hostile input, marked ``hostile(GROUP)``, and must never be answered
with a server error. ``bench/hostile_counts.py`` counts them per group."""

from __future__ import annotations

import contextlib
import gzip
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from pymarc import Field, Record, Subfield
from sqlalchemy import text

from catalog import db
from tests.api.librarian import form_token
from tests.api.test_http import _library, _settings, _wait_job


def hostile(group: str) -> pytest.MarkDecorator:
    return pytest.mark.hostile(group)


def marc(local_id: str, title: str, *extra: Field) -> bytes:
    """One ISO 2709 record: ``001`` ``local_id``, a 245 ``title`` and the ``extra`` fields."""
    record = Record(force_utf8=True, leader="     nam a22     7a 4500")
    record.add_field(Field(tag="001", data=local_id))
    record.add_field(Field(tag="245", indicators=["0", "0"], subfields=[Subfield("a", title)]))
    for field in extra:
        record.add_field(field)
    return record.as_marc()


def upload(client: TestClient, code: str, token: str, data: bytes, **params: str) -> dict:  # type: ignore[type-arg]
    answer = client.post(
        f"/api/v1/libraries/{code}/uploads",
        content=data,
        params=params,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 202, answer.text
    return _wait_job(client, answer.headers["location"], token)


def union_id(client: TestClient, code: str, local_id: str) -> int:
    with client.app_state.engine.connect() as conn:  # type: ignore[attr-defined]
        return conn.execute(
            text(
                "SELECT s.union_record_id FROM source_record s JOIN library l ON l.id = s.library_id"
                " WHERE l.code = :code AND s.local_id = :local_id"
            ),
            {"code": code, "local_id": local_id},
        ).scalar_one()


# --- web: stored XSS through 856 $u, security headers ----------------------------------------------

NOT_LINKS = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(document.cookie)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/steal",
    'https://ok.example/a b" onmouseover="alert(1)',
]


@hostile("web")
@pytest.mark.parametrize("url", NOT_LINKS)
def test_a_856_url_that_is_not_http_is_shown_as_text_never_as_a_link(client: TestClient, url: str) -> None:
    token = _library(client, "VNU-LIC")
    field = Field(tag="856", indicators=["4", "0"], subfields=[Subfield("u", url), Subfield("z", "Read")])
    good = Field(tag="856", indicators=["4", "0"], subfields=[Subfield("u", "https://ok.example/full")])
    job = upload(client, "VNU-LIC", token, marc("X1", "Sách độc hại", field, good))
    assert job["status"] == "succeeded" and job["added"] == 1, job
    assert job["warnings"] == 1, job
    record_id = union_id(client, "VNU-LIC", "X1")

    page = client.get(f"/records/{record_id}")
    assert page.status_code == 200
    hrefs = re.findall(r'href="([^"]*)"', page.text)
    assert 'href="https://ok.example/full"' in page.text  # a real URL still is a link
    assert all(
        not h.lower().replace("\t", "").startswith(("javascript", "data:", "vbscript", "//")) for h in hrefs
    )
    assert "<script>" not in page.text
    ris = client.get(f"/records/{record_id}/citation.ris").text
    assert "UR  - https://ok.example/full" in ris
    assert [line for line in ris.splitlines() if line.startswith("UR")] == ["UR  - https://ok.example/full"]
    oai = client.get(
        "/oai",
        params={
            "verb": "GetRecord",
            "identifier": f"oai:unioncat:union/{record_id}",
            "metadataPrefix": "oai_dc",
        },
    ).text
    assert "https://ok.example/full" in oai and "script" not in oai.lower().replace("<dc:", "")

    with client.app_state.engine.connect() as conn:  # type: ignore[attr-defined]
        warnings = conn.execute(text("SELECT warnings FROM source_record")).scalar_one()
    assert "not an http(s) or ftp URL" in str(warnings)


PAGES = [
    "/",
    "/?q=%3Cscript%3E",
    "/libraries",
    "/librarian",
    "/records/1",
    "/api/v1/docs",
    "/api/v1/search",
    "/oai?verb=Identify",
]


@hostile("web")
@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code < 500
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    if answer.headers["content-type"].startswith("text/html"):
        from api.security import inline_hashes

        for tag in ("script", "style"):  # each inline block of a page is allowed by its hash
            for body in re.findall(rf"<{tag}>(.*?)</{tag}>", answer.text, re.DOTALL):
                assert inline_hashes(f"<{tag}>{body}</{tag}>", tag)[0] in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"]


# --- OAI arguments: every bad argument is an OAI error in a schema-valid answer ---------------------

OAI_ARGUMENTS = [
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "9999-12-31"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "until": "9999-12-31T23:59:59Z"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "0001-01-01", "until": "9999-12-31"},
    {"verb": "Identify\x01"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc\x0b"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "union\x00"},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:unioncat:union/1\x1b"},
    {"verb": "ListRecords", "resumptionToken": "\x02\x03"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01\x7f"},
    {
        "verb": "GetRecord",
        "metadataPrefix": "oai_dc",
        "identifier": "oai:unioncat:union/99999999999999999999999",
    },
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:unioncat:union/-1"},
    {"verb": "ListMetadataFormats", "identifier": "oai:unioncat:union/99999999999999999999999"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "source:"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "source:NO SUCH"},
    {"verb": "ListRecords", "metadataPrefix": "marc 21"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "nowhere"},
]


@hostile("oai")
@pytest.mark.parametrize("params", OAI_ARGUMENTS)
def test_a_bad_oai_argument_is_an_oai_error(client: TestClient, params: dict[str, str]) -> None:
    from tests.api.test_oai_provider import OAI, SCHEMA

    answer = client.get("/oai", params=params)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml"), answer.text
    root = etree.fromstring(answer.content)
    assert SCHEMA.validate(root), SCHEMA.error_log.last_error
    error = root.find(f"{OAI}error")
    assert error is not None or root.find(f"{OAI}ListRecords") is not None, answer.text
    assert all(ord(ch) >= 0x20 or ch in "\t\n\r" for ch in answer.text)


def _token(client: TestClient) -> str:
    from tests.api.test_oai_provider import OAI

    token = _library(client, "VNU-LIC")
    records = b"".join(marc(f"T{i}", f"Sách {i}") for i in range(12))
    upload(client, "VNU-LIC", token, records)
    client.app_state.oai.page_size = 5  # type: ignore[attr-defined]
    root = etree.fromstring(
        client.get("/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}).content
    )
    found = root.find(f"{OAI}ListIdentifiers/{OAI}resumptionToken")
    assert found is not None and found.text
    return found.text


def _forge(real: str, **changes: object) -> list[str]:
    import base64
    import json

    payload, _, _signature = real.partition(".")
    state = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    state.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    return [forged, f"{forged}.{_signature}", f"{forged}.AAAA"]


FORGERIES = [
    {"after": 10**30},
    {"after": 0, "cursor": 0},
    {"from": "garbage"},
    {"until": "9999-12-31T23:59:59+00:00x"},
    {"total": "many", "cursor": [1]},
    {"kind": "source", "after": -5},
    {"prefix": "marc21", "set": "source:"},
]


@hostile("oai")
@pytest.mark.parametrize("changes", FORGERIES)
def test_a_forged_resumption_token_is_a_bad_resumption_token(client: TestClient, changes: dict) -> None:  # type: ignore[type-arg]
    from tests.api.test_oai_provider import OAI, SCHEMA

    real = _token(client)
    for forged in _forge(real, **changes):
        answer = client.get("/oai", params={"verb": "ListIdentifiers", "resumptionToken": forged})
        assert answer.status_code == 200, answer.text
        root = etree.fromstring(answer.content)
        assert SCHEMA.validate(root), SCHEMA.error_log.last_error
        error = root.find(f"{OAI}error")
        assert error is not None and error.get("code") == "badResumptionToken", answer.text
    good = client.get("/oai", params={"verb": "ListIdentifiers", "resumptionToken": real})
    assert etree.fromstring(good.content).find(f"{OAI}error") is None  # the real one still resumes


# --- auth: ids past any integer, other libraries' jobs ---------------------------------------------

HUGE_IDS = ["99999999999999999999", "9223372036854775808", "2147483648", "0", "-1"]


@hostile("auth")
@pytest.mark.parametrize("job_id", HUGE_IDS)
def test_a_job_number_past_any_integer_is_not_found(client: TestClient, job_id: str) -> None:
    token = _library(client, "VNU-LIC")
    login = client.post(
        "/librarian/login", data={"token": token, "csrf_token": form_token(client)}, follow_redirects=False
    )
    assert login.status_code == 303
    page = client.get(f"/librarian/jobs/{job_id}")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code in (404, 422) and api.headers["content-type"].startswith(
        "application/problem+json"
    )


# --- compression: nested compression and bombs end as failed jobs with a clear reason --------------


def _zip(name: str, data: bytes) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return out.getvalue()


def _zeros_gzip(size: int) -> bytes:
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


GOOD = marc("G1", "Truyện Kiều") + marc("G2", "Số đỏ")
COMPRESSED = {
    "gzip in gzip": (lambda: gzip.compress(gzip.compress(GOOD)), "gzip file inside a compressed file"),
    "gzip in gzip in a zip": (
        lambda: _zip("x.mrc.gz.gz", gzip.compress(gzip.compress(GOOD))),
        "gzip file inside a compressed file",
    ),
    "zip in gzip": (lambda: gzip.compress(_zip("x.mrc", GOOD)), "zip file inside a compressed file"),
    "zip in zip": (lambda: _zip("inner.zip", _zip("x.mrc", GOOD)), "zip file inside a compressed file"),
    "1 GiB of zeros": (lambda: _zeros_gzip(1 << 30), "compression bomb"),
    "1 GiB of zeros in a zip": (lambda: _zip("zeros.mrc", bytes(1 << 30)), "compression bomb"),
    "damaged gzip": (lambda: gzip.compress(GOOD)[:40], "damaged"),
}


@hostile("compression")
@pytest.mark.parametrize("name", list(COMPRESSED))
def test_nested_compression_and_bombs_fail_the_job_with_a_clear_reason(client: TestClient, name: str) -> None:
    import time

    make, reason = COMPRESSED[name]
    token = _library(client, "VNU-LIC")
    started = time.monotonic()
    job = upload(client, "VNU-LIC", token, make(), format="iso2709")
    assert job["status"] == "failed" and reason in job["error"], job
    assert "internal error" not in job["error"] and "Error(" not in job["error"]
    assert time.monotonic() - started < 60


@hostile("compression")
def test_a_gzip_in_a_zip_is_still_read(client: TestClient) -> None:
    token = _library(client, "VNU-LIC")
    job = upload(client, "VNU-LIC", token, _zip("x.mrc.gz", gzip.compress(GOOD)))
    assert job["status"] == "succeeded" and job["added"] == 2, job


# --- uploads: a record longer than its format allows is rejected alone ------------------------------


def _xml_record(local_id: str, title: str, filler: int = 0) -> bytes:
    note = f'<datafield tag="500" ind1=" " ind2=" "><subfield code="a">{"x" * filler}</subfield></datafield>'
    return (
        '<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader>'
        f'<controlfield tag="001">{local_id}</controlfield>'
        f'<datafield tag="245" ind1="0" ind2="0"><subfield code="a">{title}</subfield></datafield>'
        f"{note if filler else ''}</record>"
    ).encode()


def _json_record(local_id: str, title: str) -> bytes:
    import json

    return json.dumps(
        {
            "leader": "00000nam a2200000 a 4500",
            "fields": [{"001": local_id}, {"245": {"ind1": "0", "ind2": "0", "subfields": [{"a": title}]}}],
        }
    ).encode()


def _xml_file(*records: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><collection xmlns="http://www.loc.gov/MARC21/slim">'
        + b"".join(records)
        + b"</collection>"
    )


BIG = 17 * 1024 * 1024
OVERSIZED = {
    "ISO 2709 without an end of record": (
        lambda: marc("A", "Một") + b"00000nam" + b"a" * 300_000 + b"\x1d" + marc("B", "Hai"),
        "iso2709",
    ),
    "ISO 2709 unterminated to the end": (
        lambda: marc("A", "Một") + marc("B", "Hai") + b"00000nam" + b"z" * 2_000_000,
        "iso2709",
    ),
    "MARCXML record of 17 MiB": (
        lambda: _xml_file(_xml_record("A", "Một"), _xml_record("X", "Lớn", BIG), _xml_record("B", "Hai")),
        "marcxml",
    ),
    "MARCXML record never closed": (
        lambda: (
            _xml_file(_xml_record("A", "Một"), _xml_record("B", "Hai"))[:-13]
            + b"<record><leader>"
            + b"y" * BIG
        ),
        "marcxml",
    ),
    "MARC-in-JSON record of 17 MiB": (
        lambda: (
            b"["
            + _json_record("A", "Một")
            + b","
            + _json_record("X", "x" * BIG)
            + b","
            + _json_record("B", "Hai")
            + b"]"
        ),
        "marcjson",
    ),
    "MARC-in-JSON record never closed": (
        lambda: (
            b"[" + _json_record("A", "Một") + b"," + _json_record("B", "Hai") + b',{"leader": "' + b"q" * BIG
        ),
        "marcjson",
    ),
}


@hostile("uploads")
@pytest.mark.parametrize("name", list(OVERSIZED))
def test_a_record_longer_than_its_format_allows_is_rejected_alone(client: TestClient, name: str) -> None:
    make, fmt = OVERSIZED[name]
    token = _library(client, "VNU-LIC")
    job = upload(client, "VNU-LIC", token, make(), format=fmt)
    assert job["status"] == "succeeded" and job["added"] == 2 and job["rejected"] == 1, job
    rejections = client.get(
        f"/api/v1/jobs/{job['job_id']}/rejections", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert "longer than" in rejections["rejections"][0]["reason"], rejections


# --- JSON: a record nested too deeply is rejected alone ---------------------------------------------

DEEP = {
    "arrays": lambda n: b'{"leader": "00000nam a2200000 a 4500", "fields": ' + b"[" * n + b"]" * n + b"}",
    "objects": lambda n: (
        b'{"leader": "00000nam a2200000 a 4500", "fields": [' + b'{"a":' * n + b"1" + b"}" * n + b"]}"
    ),
    "unclosed arrays": lambda n: b'{"leader": "00000nam a2200000 a 4500", "fields": ' + b"[" * n,
}


@hostile("json")
@pytest.mark.parametrize("shape", list(DEEP))
@pytest.mark.parametrize("depth", [50_000, 2_000])
def test_a_deeply_nested_json_record_is_rejected_alone(client: TestClient, shape: str, depth: int) -> None:
    token = _library(client, "VNU-LIC")
    data = _json_record("A", "Một") + b"\n" + DEEP[shape](depth) + b"\n" + _json_record("B", "Hai")
    job = upload(client, "VNU-LIC", token, data, format="marcjson")
    assert job["status"] == "succeeded" and job["read"] == 3 and job["added"] == 2 and job["rejected"] == 1, (
        job
    )


_PEAK = """
import sys
from pathlib import Path
from catalog import db
from catalog.db import session_scope
from catalog.libraries import add_library
from harvest.ingest import IngestError, ingest_file

engine = db.make_engine(sys.argv[1])
db.upgrade(engine)
with session_scope(engine) as session:
    add_library(session, "VNU-LIC", "Thư viện")
try:
    print(ingest_file(engine, "VNU-LIC", Path(sys.argv[2]), fmt=sys.argv[3], workers=0))
except IngestError as exc:
    print("failed:", exc)
# VmHWM, not ru_maxrss: Linux carries the latter over from the forking parent through exec
status = Path("/proc/self/status").read_text()
print("peak", int(status.split("VmHWM:")[1].split()[0]) * 1024)
"""

# A small gzip holding one unterminated record of 300 MiB (about 300 KB): what took the service to
# 738 MB (ISO 2709), 814 MB (MARCXML) and 1.1 GB (MARC-in-JSON), in time growing quadratically.
UNTERMINATED = {
    "iso2709": b"00000nam a2200000 a 4500",
    "marcxml": b'<collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>',
    "marcjson": b'[{"leader": "',
}


@hostile("uploads")
@pytest.mark.parametrize("fmt", list(UNTERMINATED))
def test_one_unterminated_record_of_300_mib_keeps_memory_bounded(tmp_path: Path, fmt: str) -> None:
    import subprocess
    import sys
    import zlib

    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = b"a" * (1 << 20)
    data = packer.compress(UNTERMINATED[fmt]) + b"".join(packer.compress(block) for _ in range(300))
    path = tmp_path / f"one-record.{fmt}.gz"
    path.write_bytes(data + packer.flush())
    assert path.stat().st_size < 2_000_000
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, f"sqlite:///{tmp_path / 'catalogue.db'}", str(path), fmt],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stdout
    peak = int(done.stdout.rsplit("peak", 1)[1])
    assert peak < 300 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MiB"


# --- uploads: authenticate first, the limit while reading, no partial file left ---------------------


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real server (uploads limited to 100,000 bytes) and its uploads folder."""
    from api.app import create_app
    from bench.measure import app_served

    settings = _settings(tmp_path, max_upload_bytes=100_000)
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with app_served(create_app(engine, settings)) as url:
        yield url, settings.uploads_dir


def _send_part(url: str, path: str, headers: dict[str, str], body: bytes, wait: float = 10) -> bytes:
    """Send a request whose Content-Length promises 1.5 GB but only ``body`` of it, then read what the
    server answers within ``wait`` seconds (b"" if it waits for the rest)."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Length: 1500000000", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        with contextlib.suppress(OSError):  # the server may answer and close while the body is sent
            sock.sendall(body)
        sock.settimeout(wait)
        try:
            return sock.recv(65536)
        except (TimeoutError, OSError):
            return b""


def _multipart_head(boundary: str = "XyZ") -> tuple[dict[str, str], bytes]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="mode"\r\n\r\nupdate\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mrc"\r\n'
        "Content-Type: application/marc\r\n\r\n"
    ).encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, head


@hostile("auth")
def test_an_upload_without_a_session_is_refused_before_its_body_is_read(small_server) -> None:  # type: ignore[no-untyped-def]
    url, uploads = small_server
    headers, head = _multipart_head()
    answer = _send_part(url, "/librarian/upload", headers, head + b"a" * 1_000_000)
    assert answer.startswith(b"HTTP/1.1 303"), answer[:200]
    assert not list(uploads.glob("incoming-*")) if uploads.exists() else True


@hostile("uploads")
@pytest.mark.parametrize("multipart", [True, False])
def test_the_size_limit_holds_while_the_body_is_read(small_server, multipart: bool) -> None:  # type: ignore[no-untyped-def]
    url, uploads = small_server
    with httpx.Client(base_url=url) as http:
        token = _library(http, "VNU-LIC")  # type: ignore[arg-type]
    headers, head = _multipart_head() if multipart else ({}, b"")
    headers["Authorization"] = f"Bearer {token}"
    answer = _send_part(url, "/api/v1/libraries/VNU-LIC/uploads", headers, head + b"a" * 1_000_000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    time.sleep(0.5)
    assert not list(uploads.glob("incoming-*"))


@hostile("uploads")
@pytest.mark.parametrize("multipart", [True, False])
def test_a_client_that_goes_away_mid_upload_leaves_no_file(small_server, multipart: bool) -> None:  # type: ignore[no-untyped-def]
    import socket

    url, uploads = small_server
    with httpx.Client(base_url=url) as http:
        token = _library(http, "VNU-LIC")  # type: ignore[arg-type]
    headers, head = _multipart_head() if multipart else ({}, b"")
    host, port = url.removeprefix("http://").split(":")
    lines = ["POST /api/v1/libraries/VNU-LIC/uploads HTTP/1.1", f"Host: {host}", "Content-Length: 90000"]
    lines += [f"{k}: {v}" for k, v in {**headers, "Authorization": f"Bearer {token}"}.items()]
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + head + b"a" * 20_000)
        deadline = time.monotonic() + 10
        while not list(uploads.glob("incoming-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(uploads.glob("incoming-*")), "the upload never started"
    deadline = time.monotonic() + 10
    while list(uploads.glob("incoming-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(uploads.glob("incoming-*"))


@hostile("uploads")
def test_partial_uploads_left_by_a_stopped_service_are_removed_at_start(tmp_path: Path) -> None:
    import os

    from api.app import create_app

    settings = _settings(tmp_path)
    settings.uploads_dir.mkdir(parents=True)
    orphan = settings.uploads_dir / "incoming-0123abcd"
    orphan.write_bytes(b"x" * 1000)
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    queued = settings.uploads_dir / "job-7.upload"  # a queued job's file is not a partial upload
    queued.write_bytes(b"y")
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with TestClient(create_app(engine, settings, start_worker=False)):
        assert not orphan.exists() and queued.exists()


@hostile("auth")
@pytest.mark.parametrize("what", ["", "/rejections"])
def test_another_librarys_job_is_not_found_and_its_owner_unsaid(client: TestClient, what: str) -> None:
    vnu, hust = _library(client, "VNU-LIC"), _library(client, "HUST-LIB")
    job = upload(client, "VNU-LIC", vnu, marc("A", "Một"))
    answer = client.get(f"/api/v1/jobs/{job['job_id']}{what}", headers={"Authorization": f"Bearer {hust}"})
    assert answer.status_code == 404 and "VNU-LIC" not in answer.text


@hostile("web")
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/<script>alert(1)</script>",
        "/api/v1/records/%22%3E%3Csvg%20onload=alert(1)%3E",
        "/api/v1/x" * 50,
    ],
)
def test_a_404_does_not_echo_the_path_asked_for(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code in (404, 422) and answer.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert "script" not in answer.text and "svg" not in answer.text and "/x/x" not in answer.text


@hostile("web")
@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/api/v1/search", "/oai", "/"])
def test_an_unsupported_method_is_405_with_allow(client: TestClient, method: str, path: str) -> None:
    answer = client.request(method, path)
    assert answer.status_code == 405 and "GET" in answer.headers["allow"], answer.headers


# --- admin bodies: wrong types are 422 problem details, never stored --------------------------------


@hostile("admin")
def test_a_new_library_named_under_both_spellings_is_added(client: TestClient) -> None:
    """Found by schemathesis: 'name' beside 'name_vi' was a 500."""
    from tests.api.test_http import _admin

    body = {"code": "BOTH", "name_vi": "Thư viện", "name": "Thu vien"}
    answer = client.post("/api/v1/libraries", json=body, headers=_admin())
    assert answer.status_code == 201 and answer.json()["name_vi"] == "Thư viện", answer.text


ADMIN_BODIES = [
    {"active": "yes"},
    {"name_vi": 123},
    {"harvest_interval_hours": [1]},
    {"harvest_interval_hours": "abc"},
    {"harvest_interval_hours": -5},
    {"harvest_interval_hours": 10**30},
    {"opac_url_pattern": {"a": 1}},
    {"code": "RENAMED"},
    {"unknown": 1},
    [],
    "x",
    None,
]


@hostile("admin")
@pytest.mark.parametrize("body", ADMIN_BODIES)
def test_a_malformed_admin_body_is_422_and_changes_nothing(client: TestClient, body: object) -> None:
    from tests.api.test_http import _admin

    _library(client, "VNU-LIC")
    before = client.get("/api/v1/libraries/VNU-LIC").json()
    answer = client.patch("/api/v1/libraries/VNU-LIC", json=body, headers=_admin())
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/libraries/VNU-LIC").json() == before
    created = client.post("/api/v1/libraries", json=body, headers=_admin())
    assert created.status_code == 422, created.text


# --- query syntax: FTS5 operators and oddities are searched for or refused, never a 500 -------------

QUERIES = [
    '"',
    "NEAR(",
    "a AND",
    "OR",
    "*",
    "^a",
    "a:b",
    "title:(x",
    "\x00",
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    "-" * 400,
    "(((((",
    "'; DROP TABLE library; --",
]


@hostile("query")
@pytest.mark.parametrize("q", QUERIES)
def test_query_syntax_never_breaks_the_search(client: TestClient, q: str) -> None:
    api = client.get("/api/v1/search", params={"q": q})
    assert api.status_code in (200, 422), api.text
    page = client.get("/", params={"q": q})
    assert page.status_code == 200


# --- XML: entities, DTDs and odd nesting never reach outside the record or break the job ------------

_LEADER = "<leader>00000nam a2200000 a 4500</leader>"


def _xml_with(title: str, doctype: str = "", local_id: str = "X1") -> bytes:
    return (
        f'<?xml version="1.0"?>{doctype}<collection xmlns="http://www.loc.gov/MARC21/slim">'
        f'<record>{_LEADER}<controlfield tag="001">{local_id}</controlfield>'
        f'<datafield tag="245" ind1="0" ind2="0"><subfield code="a">{title}</subfield></datafield></record>'
        f"{_xml_record('G1', 'Truyện Kiều').decode()}</collection>"
    ).encode()


XML_ATTACKS = {
    "external entity (XXE)": _xml_with("&x;", '<!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>'),
    "parameter entity": _xml_with("t", '<!DOCTYPE c [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'),
    "billion laughs": _xml_with(
        "&l9;",
        "<!DOCTYPE c [<!ENTITY l0 'ha'>"
        + "".join(f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" for i in range(1, 10))
        + "]>",
    ),
    "external DTD": _xml_with("t", '<!DOCTYPE c SYSTEM "http://127.0.0.1:9/evil.dtd">'),
    "deep nesting": _xml_with("<b>" * 20_000 + "t" + "</b>" * 20_000),
    "unclosed subfield": _xml_with("<subfield code='a'>open"),
    "CDATA and PI": _xml_with("<![CDATA[<script>alert(1)</script>]]><?evil x?>"),
    "NUL byte": _xml_with("a\x00b"),
}


@hostile("xml")
@pytest.mark.parametrize("name", list(XML_ATTACKS))
def test_xml_attacks_stay_inside_the_record(client: TestClient, name: str) -> None:
    token = _library(client, "VNU-LIC")
    job = upload(client, "VNU-LIC", token, XML_ATTACKS[name], format="marcxml")
    assert job["status"] in ("succeeded", "failed"), job
    assert "internal error" not in (job["error"] or ""), job
    if job["status"] == "succeeded":
        assert job["read"] == 2 and job["added"] + job["rejected"] == 2, job
    with client.app_state.engine.connect() as conn:  # type: ignore[attr-defined]
        titles = [t for (t,) in conn.execute(text("SELECT title FROM source_record"))]
    assert not any("root:" in (t or "") or "haha" in (t or "") for t in titles), titles


# --- auth: the librarian's session ------------------------------------------------------------------


def _logout(client: TestClient, cookie: str) -> None:
    client.cookies.clear()
    csrf = form_token(client, cookie)
    answer = client.post("/librarian/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303


def _login(client: TestClient, token: str) -> str:
    answer = client.post(
        "/librarian/login", data={"token": token, "csrf_token": form_token(client)}, follow_redirects=False
    )
    assert answer.status_code == 303
    cookie = answer.cookies.get("unioncat_session")
    assert cookie
    return cookie


def _signed_in(client: TestClient, cookie: str) -> bool:
    client.cookies.clear()
    page = client.get("/librarian", cookies={"unioncat_session": cookie})
    return "VNU-LIC" in page.text


@hostile("auth")
@pytest.mark.parametrize(
    "forge", ["the token itself", "unsigned id", "another signature", "signature only", "empty"]
)
def test_the_session_cookie_is_a_signed_id_not_the_token(client: TestClient, forge: str) -> None:
    token = _library(client, "VNU-LIC")
    cookie = _login(client, token)
    assert token not in cookie and _signed_in(client, cookie)
    sid, _, signature = cookie.partition(".")
    forged = {
        "the token itself": token,
        "unsigned id": sid,
        "another signature": f"{sid}.{signature[::-1]}",
        "signature only": f".{signature}",
        "empty": "",
    }[forge]
    assert not _signed_in(client, forged)


@hostile("auth")
def test_logout_ends_the_session_on_the_server(client: TestClient) -> None:
    token = _library(client, "VNU-LIC")
    cookie = _login(client, token)
    _logout(client, cookie)
    assert not _signed_in(client, cookie)  # the copied cookie is worth nothing now


@hostile("auth")
def test_a_revoked_token_ends_its_sessions(client: TestClient) -> None:
    from tests.api.test_http import _admin

    token = _library(client, "VNU-LIC")
    cookie = _login(client, token)
    [listed] = client.get("/api/v1/tokens", headers=_admin()).json()
    client.delete(f"/api/v1/tokens/{listed['id']}", headers=_admin())
    assert not _signed_in(client, cookie)


def test_a_session_is_known_to_every_replica_and_outlives_a_restart(
    client: TestClient, tmp_path: Path
) -> None:
    """Sessions are kept in the catalogue: a second service on the same catalogue (another replica,
    or the same service restarted) knows the session, and a logout on one ends it on the other."""
    from api.app import create_app

    token = _library(client, "VNU-LIC")
    cookie = _login(client, token)
    settings = _settings(tmp_path)
    engine = db.make_engine(settings.resolved_database_url)
    with TestClient(create_app(engine, settings, start_worker=False)) as replica:
        assert _signed_in(replica, cookie)
        _logout(replica, cookie)
    assert not _signed_in(client, cookie)
    engine.dispose()


@hostile("auth")
def test_an_expired_session_is_refused(client: TestClient, tmp_path: Path) -> None:
    from sqlalchemy import text

    token = _library(client, "VNU-LIC")
    cookie = _login(client, token)
    engine = db.make_engine(_settings(tmp_path).resolved_database_url)
    with db.writing(engine) as conn:
        conn.execute(text("UPDATE librarian_session SET expires_at = '2999-01-01 00:00:00.000000'"))
    assert _signed_in(client, cookie)
    with db.writing(engine) as conn:
        conn.execute(text("UPDATE librarian_session SET expires_at = '2000-01-01 00:00:00.000000'"))
    engine.dispose()
    assert not _signed_in(client, cookie)


@hostile("auth")
def test_the_session_cookie_is_secure_over_https(client: TestClient) -> None:
    token = _library(client, "VNU-LIC")
    csrf = form_token(client, base="https://testserver")
    answer = client.post(
        "https://testserver/librarian/login",
        data={"token": token, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert (
        "secure" in answer.headers["set-cookie"].lower()
        and "httponly" in answer.headers["set-cookie"].lower()
    )


@hostile("auth")
@pytest.mark.parametrize("header", ["origin", "referer"])
def test_a_cross_site_upload_form_is_refused(client: TestClient, header: str) -> None:
    token = _library(client, "VNU-LIC")
    cookie = _login(client, token)
    client.cookies.clear()
    answer = client.post(
        "/librarian/upload",
        files={"file": ("x.mrc", GOOD, "application/marc")},
        data={"mode": "update"},
        headers={header: "https://evil.example" + ("/page" if header == "referer" else "")},
        cookies={"unioncat_session": cookie},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert not list(client.app_state.settings.uploads_dir.glob("*"))  # type: ignore[attr-defined]
    csrf = form_token(client, cookie)
    client.cookies.clear()
    same = client.post(
        "/librarian/upload",
        files={"file": ("x.mrc", GOOD, "application/marc")},
        data={"mode": "update", "csrf_token": csrf},
        headers={header: "http://testserver" + ("/librarian" if header == "referer" else "")},
        cookies={"unioncat_session": cookie},
        follow_redirects=False,
    )
    assert same.status_code == 303 and "/librarian/jobs/" in same.headers["location"]


# --- web: every librarian form carries a CSRF token ------------------------------------------------

CSRF_FORGERIES = ["missing", "wrong", "another session's", "the pre-session one"]


@hostile("web")
@pytest.mark.parametrize("form", ["login", "upload", "logout", "digital", "correction"])
@pytest.mark.parametrize("forgery", CSRF_FORGERIES)
def test_a_librarian_form_without_its_csrf_token_is_refused(
    client: TestClient, form: str, forgery: str
) -> None:
    token = _library(client, "VNU-LIC")
    client.cookies.clear()
    anonymous = form_token(client)  # the sign-in page's, before any session
    other = _login(client, token)
    other_token = form_token(client, other)
    cookie = _login(client, token) if form != "login" else None
    client.cookies.clear()
    if cookie:
        client.cookies.set("unioncat_session", cookie)
    else:
        form_token(client)  # the pre-session cookie of this browser
    presented = {
        "missing": None,
        "wrong": "x" * 43,
        "another session's": other_token,
        "the pre-session one": anonymous,  # another browser's, or before signing in
    }[forgery]
    data = {"csrf_token": presented} if presented is not None else {}
    if form == "login":
        answer = client.post("/librarian/login", data={"token": token, **data}, follow_redirects=False)
    elif form == "upload":
        answer = client.post(
            "/librarian/upload",
            files={"file": ("x.mrc", GOOD, "application/marc")},
            data={"mode": "update", **data},
            follow_redirects=False,
        )
    elif form == "digital":  # checked before the file is looked for
        answer = client.post("/librarian/digital/1/withdraw", data=data, follow_redirects=False)
    elif form == "correction":
        fields = {"action": "split", "record": "1", "target": "VNU-LIC:x", **data}
        answer = client.post("/librarian/corrections", data=fields, follow_redirects=False)
    else:
        answer = client.post("/librarian/logout", data=data, follow_redirects=False)
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
    assert "unioncat_session" not in answer.headers.get("set-cookie", "")
    assert not list(client.app_state.settings.uploads_dir.glob("*"))  # type: ignore[attr-defined]
    if cookie:
        assert _signed_in(client, cookie)  # a forged sign-out ends nothing


def test_the_librarian_forms_work_with_their_csrf_token(client: TestClient) -> None:
    token = _library(client, "VNU-LIC")
    cookie = _login(client, token)
    client.cookies.clear()
    csrf = form_token(client, cookie)
    answer = client.post(
        "/librarian/upload",
        files={"file": ("x.mrc", GOOD, "application/marc")},
        data={"mode": "update", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "/librarian/jobs/" in answer.headers["location"]
    assert client.get("/librarian/logout").status_code == 405  # a link cannot sign anyone out
    _logout(client, cookie)
    assert not _signed_in(client, cookie)


@hostile("query")
@pytest.mark.parametrize("same", [True, False])
def test_a_lookup_by_several_identifiers_answers_what_all_of_them_lead_to(
    client: TestClient, same: bool
) -> None:
    """Schema-valid, so never refused: the records every identifier given leads to (maybe none)."""
    token = _library(client, "VNU-LIC")
    isbn = Field(tag="020", indicators=[" ", " "], subfields=[Subfield("a", "9780306406157")])
    upload(client, "VNU-LIC", token, marc("L1", "Sách một", isbn) + marc("L2", "Sách hai"))
    first, second = union_id(client, "VNU-LIC", "L1"), union_id(client, "VNU-LIC", "L2")
    answer = client.get(
        "/api/v1/holdings", params={"isbn": "978-0-306-40615-7", "id": first if same else second}
    )
    assert answer.status_code == 200, answer.text
    assert [r["id"] for r in answer.json()["records"]] == ([first] if same else [])


@hostile("oai")
def test_a_post_to_oai_whose_body_is_no_form_is_422(client: TestClient) -> None:
    answer = client.post("/oai", content=b"x", headers={"content-type": "multipart/form-data"})
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")

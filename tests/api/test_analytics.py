"""Collection analytics over HTTP (JSON, CSV, problem details), on the librarians' page and on the
command line, on a catalogue of three members sharing real records (SQLite, and PostgreSQL when a
server is given)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from catalog import db
from catalog.db import session_scope
from catalog.libraries import add_library
from catalog.tokens import create_token
from harvest.ingest import ingest_file
from harvest.iso2709 import split_records
from tests.api.librarian import sign_in
from tests.api.test_http import ADMIN, _settings
from tests.conftest import VIETNAMESE

SHARES = {"HN-A": range(0, 100), "HN-B": range(50, 120), "HCM-C": range(90, 130)}


def fill(engine: Engine, folder: Path) -> dict[str, str]:
    """Three members holding overlapping parts of the Vietnamese records; their tokens."""
    with open(VIETNAMESE, "rb") as fh:
        raws = [raw for _offset, raw in split_records(fh)]
    tokens = {}
    with session_scope(engine) as session:
        for code in SHARES:
            add_library(session, code, f"Thư viện {code}", name_en=f"Library {code}")
            tokens[code] = create_token(session, code, "tests")[1]
    for code, part in SHARES.items():
        path = folder / f"{code}.mrc"
        path.write_bytes(b"".join(raws[i] for i in part))
        ingest_file(engine, code, path, search=None)
    # the jobs' changes wait for a worker: an idle one counts them
    from catalog.analytics.cache import status
    from harvest.worker import Worker

    with engine.connect() as conn:
        assert status(conn).pending
    assert Worker(engine, _settings(folder), None).run_once() is None
    with engine.connect() as conn:
        assert not status(conn).pending
    return tokens


@pytest.fixture
def service(db_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], Engine]]:
    from api.app import create_app

    engine = db.make_engine(db_url)
    db.upgrade(engine)
    tokens = fill(engine, tmp_path)
    # a PostgreSQL catalogue is served with Meilisearch; these routes never search, so none needs to run
    extra = {"meili_url": "http://127.0.0.1:9"} if engine.dialect.name == "postgresql" else {}
    app = create_app(engine, _settings(tmp_path, **extra), start_worker=False)
    with TestClient(app) as client:
        yield client, tokens, engine
    engine.dispose()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()  # type: ignore[no-any-return]


def _held(engine: Engine) -> dict[int, set[str]]:
    held: dict[int, set[str]] = {}
    with engine.connect() as conn:
        for union_id, code in conn.execute(
            text(
                "SELECT s.union_record_id, l.code FROM source_record s JOIN library l ON l.id = s.library_id "
                "WHERE s.status = 'active' AND s.union_record_id IS NOT NULL"
            )
        ):
            held.setdefault(union_id, set()).add(code)
    return held


def test_the_reports_as_json(service: tuple[TestClient, dict[str, str], Engine]) -> None:
    client, tokens, engine = service
    held = _held(engine)
    who = _auth(tokens["HCM-C"])  # any member sees the consortium's figures
    summary = client.get("/api/v1/analytics/summary", headers=who).json()
    assert summary["titles"] == len(held)
    assert summary["unique_titles"] == sum(1 for libs in held.values() if len(libs) == 1)
    assert summary["held_by_at_least"] == sum(1 for libs in held.values() if len(libs) >= 2)
    assert summary["refreshed_at"] and summary["pending"] is False
    assert set(summary["breakdowns"]) == {"class", "language", "decade", "material_type"}
    vietnamese = {e["value"]: e for e in summary["breakdowns"]["language"]}["vie"]
    assert vietnamese["label"] == "Tiếng Việt" and vietnamese["titles"] > 0
    classes = {e["value"]: e["label"] for e in summary["breakdowns"]["class"]}
    assert all(label.startswith(value) for value, label in classes.items() if value)
    assert any(" · " in label for label in classes.values())  # the classes' names, in Vietnamese
    english = client.get("/api/v1/analytics/summary", params={"lang": "en", "min_libraries": 3}, headers=who)
    assert {e["value"]: e for e in english.json()["breakdowns"]["language"]}["vie"]["label"] == "Vietnamese"
    assert english.json()["held_by_at_least"] == sum(1 for libs in held.values() if len(libs) == 3)

    mine = client.get("/api/v1/analytics/summary", params={"library": "hn-a"}, headers=who).json()
    assert mine["library"] == "HN-A"
    assert mine["titles"] == sum(1 for libs in held.values() if "HN-A" in libs)

    overlap = client.get("/api/v1/analytics/overlap", headers=_auth(ADMIN)).json()
    codes = [m["code"] for m in overlap["libraries"]]
    a, b = codes.index("HN-A"), codes.index("HN-B")
    both = sum(1 for libs in held.values() if {"HN-A", "HN-B"} <= libs)
    assert overlap["matrix"][a][b] == overlap["matrix"][b][a] == both > 0
    pairs = client.get("/api/v1/analytics/overlap", params={"library": "HN-B"}, headers=who).json()["pairs"]
    assert {p["code"]: p["shared"] for p in pairs} == {
        "HN-A": both,
        "HCM-C": sum(1 for libs in held.values() if {"HN-B", "HCM-C"} <= libs),
    }

    alone = sorted(u for u, libs in held.items() if libs == {"HN-A"})
    first = client.get(
        "/api/v1/analytics/unique", params={"library": "HN-A", "limit": 10}, headers=who
    ).json()
    assert [t["id"] for t in first["titles"]] == alone[:10] and first["next_after"] == alone[9]
    rest = client.get(
        "/api/v1/analytics/unique",
        params={"library": "HN-A", "after": first["next_after"], "limit": 1000},
        headers=who,
    ).json()
    assert [t["id"] for t in rest["titles"]] == alone[10:] and rest["next_after"] is None
    assert {m["code"]: m["unique_titles"] for m in first["members"]}["HN-A"] == len(alone)

    growth = client.get("/api/v1/analytics/growth", headers=who).json()
    assert {m["library"]: m["added"] for m in growth["months"]} == {
        code: len(r) for code, r in SHARES.items()
    }


def test_a_workers_job_reaches_the_figures(
    service: tuple[TestClient, dict[str, str], Engine], tmp_path: Path
) -> None:
    from harvest.worker import Worker

    client, tokens, engine = service
    who = _auth(tokens["HN-A"])
    before = client.get("/api/v1/analytics/summary", params={"library": "HN-A"}, headers=who).json()
    with open(VIETNAMESE, "rb") as fh:
        more = b"".join(raw for n, (_offset, raw) in enumerate(split_records(fh)) if 100 <= n < 140)
    queued = client.post("/api/v1/libraries/HN-A/uploads", content=more, headers=who)
    assert queued.status_code == 202, queued.text
    job_id = Worker(engine, _settings(tmp_path), None).run_once()  # runs the upload, then counts it
    assert job_id == queued.json()["job_id"]
    after = client.get("/api/v1/analytics/summary", params={"library": "HN-A"}, headers=who).json()
    assert after["pending"] is False
    assert (
        after["titles"]
        == before["titles"] + 40
        == sum(1 for libs in _held(engine).values() if "HN-A" in libs)
    )
    growth = client.get("/api/v1/analytics/growth", params={"library": "HN-A"}, headers=who).json()
    assert sum(m["added"] for m in growth["months"]) == 140 and sum(m["jobs"] for m in growth["months"]) == 2


def test_csv_by_parameter_or_accept_header(service: tuple[TestClient, dict[str, str], Engine]) -> None:
    client, tokens, _engine = service
    who = _auth(tokens["HN-A"])
    answer = client.get("/api/v1/analytics/overlap", params={"format": "csv"}, headers=who)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="analytics-overlap.csv"' in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text.removeprefix("\ufeff"))))
    assert rows[0] == ["code", "name", "titles", "HCM-C", "HN-A", "HN-B"]
    assert [r[0] for r in rows[1:]] == ["HCM-C", "HN-A", "HN-B"]
    assert all(r[2] == r[3 + i] for i, r in enumerate(rows[1:]))  # the diagonal: the titles held

    growth = client.get("/api/v1/analytics/growth", headers={**who, "Accept": "text/csv"})
    assert growth.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(growth.text.removeprefix("\ufeff"))))
    assert sorted(int(r["added"]) for r in lines) == sorted(len(r) for r in SHARES.values())
    unique = client.get("/api/v1/analytics/unique", params={"library": "HN-A", "format": "csv"}, headers=who)
    assert "analytics-unique-HN-A.csv" in unique.headers["content-disposition"]
    assert next(csv.reader(io.StringIO(unique.text.removeprefix("\ufeff")))) == [
        "id",
        "title",
        "year",
        "library",
    ]
    summary = client.get("/api/v1/analytics/summary", params={"format": "csv"}, headers=who)
    kinds = {r["dimension"] for r in csv.DictReader(io.StringIO(summary.text.removeprefix("\ufeff")))}
    assert kinds == {"libraries", "class", "language", "decade", "material_type"}


def test_bad_requests_are_problems(service: tuple[TestClient, dict[str, str], Engine]) -> None:
    client, tokens, _engine = service
    assert _problem(client.get("/api/v1/analytics/summary"), 401)
    who = _auth(tokens["HN-A"])
    assert (
        "NOPE"
        in _problem(client.get("/api/v1/analytics/overlap", params={"library": "NOPE"}, headers=who), 404)[
            "detail"
        ]
    )
    for path, params in (
        ("summary", {"min_libraries": "0"}),
        ("summary", {"format": "xml"}),
        ("unique", {"limit": "5000"}),
        ("unique", {"after": "-1"}),
        ("growth", {"library": "X" * 40}),
        ("overlap", {"lang": "fr"}),
    ):
        assert _problem(client.get(f"/api/v1/analytics/{path}", params=params, headers=who), 422)["errors"]


def test_the_librarians_page(service: tuple[TestClient, dict[str, str], Engine]) -> None:
    client, tokens, engine = service
    if engine.dialect.name != "sqlite":
        pytest.skip("the pages are the same on both engines; their figures are tested above")
    signed_out = client.get("/librarian/analytics", follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/librarian")
    assert client.get("/librarian/analytics/csv/summary", follow_redirects=False).status_code == 303
    login = sign_in(client, tokens["HN-B"])
    assert login.status_code == 303

    page = client.get("/librarian/analytics", params={"lang": "en"})
    assert page.status_code == 200
    html = page.text
    assert "Collection analytics: Whole consortium" in html
    assert html.count('role="img"') == 6 and html.count("<title id=") == 6 and "<desc id=" in html
    assert "Titles held by one member only" in html and "Overlap between members" in html
    assert "<table>" in html and 'scope="col"' in html and "<script" not in html
    assert 'style="' not in html  # the page's policy allows no inline style attributes
    assert "/librarian/analytics/csv/overlap?lang=en" in html

    vietnamese = client.get("/librarian/analytics/hn-a", params={"lang": "vi"}).text
    assert "Thống kê bộ sưu tập: Thư viện HN-A (HN-A)" in vietnamese
    assert "Trùng lặp giữa các thư viện" in vietnamese and "Tải CSV" in vietnamese
    assert vietnamese.count('role="img"') == 7  # with the overlap against each other member

    chosen = client.get(
        "/librarian/analytics", params={"library": "HCM-C", "lang": "en"}, follow_redirects=False
    )
    assert chosen.headers["location"] == "/librarian/analytics/HCM-C?lang=en"
    assert client.get("/librarian/analytics/NOPE").status_code == 404
    odd = client.get(
        "/librarian/analytics", params={"library": "../x?y", "lang": "en"}, follow_redirects=False
    )
    assert odd.headers["location"] == "/librarian/analytics/..%2Fx%3Fy?lang=en"

    download = client.get("/librarian/analytics/csv/unique", params={"library": "HN-A"})
    assert download.headers["content-type"].startswith("text/csv")
    listed = list(csv.DictReader(io.StringIO(download.text.removeprefix("\ufeff"))))
    held = _held(engine)
    assert sorted(int(r["id"]) for r in listed) == sorted(u for u, libs in held.items() if libs == {"HN-A"})
    assert client.get("/librarian/analytics/csv/everything").status_code == 404


def test_the_command_line(run_cli: Any, tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'data' / 'unioncat.db'}")
    (tmp_path / "data").mkdir(exist_ok=True)
    db.upgrade(engine)
    fill(engine, tmp_path)
    engine.dispose()
    summary = run_cli("analytics", "summary", "--json", "--min-libraries", "3")
    assert summary.returncode == 0, summary.stderr
    data = json.loads(summary.stdout)
    assert data["titles"] > 0 and data["min_libraries"] == 3
    mine = run_cli("analytics", "unique", "--library", "HN-A", "--csv", "--limit", "0")
    assert mine.returncode == 0, mine.stderr
    rows = list(csv.DictReader(io.StringIO(mine.stdout)))
    assert rows and {r["library"] for r in rows} == {"HN-A"}
    text_out = run_cli("analytics", "overlap")
    assert text_out.returncode == 0 and "HN-A" in text_out.stdout
    assert run_cli("analytics", "growth", "--library", "HCM-C").stdout.count("HCM-C") == 1
    rebuilt = run_cli("dedup", "--rebuild")  # every union record decided again, then counted again
    assert rebuilt.returncode == 0, rebuilt.stderr
    after = json.loads(run_cli("analytics", "summary", "--json", "--min-libraries", "3").stdout)
    assert after["pending"] is False and after["titles"] == data["titles"]
    refreshed = run_cli("analytics", "refresh", "--full", "--json")
    assert json.loads(refreshed.stdout)["full"] is True
    unknown = run_cli("analytics", "summary", "--library", "NOPE")
    assert unknown.returncode == 1 and unknown.stderr.strip() == "error: no library 'NOPE'"
    both = run_cli("analytics", "growth", "--json", "--csv")
    assert both.returncode == 1 and "not both" in both.stderr


def test_class_names_in_both_languages() -> None:
    from api.subject_classes import class_label

    assert class_label("LC Q", "en") == "LC Q · Science"
    assert class_label("LC D", "vi") == "LC D · Lịch sử thế giới"
    assert class_label("DDC 300", "en") == "DDC 300 · Social sciences"
    assert class_label("LC W", "en") == "LC W"  # not a class of the LC schedules: left as it is

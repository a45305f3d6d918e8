"""Corrections of union records through the API and the librarian's pages, the MARC view, and the
URL of a union record merged into another."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pymarc import MARCReader

from harvest.ingest import ingest_file
from harvest.iso2709 import split_records
from tests.api.librarian import form_token, sign_in
from tests.api.test_http import _admin, _library, _problem
from tests.conftest import VIETNAMESE


def _books(count: int = 6) -> list[tuple[str, bytes]]:
    out = []
    with open(VIETNAMESE, "rb") as fh:
        for _offset, raw in split_records(fh):
            record = next(MARCReader(raw, to_unicode=True, force_utf8=True))
            out.append((record["001"].data.strip(), raw))
            if len(out) == count:
                break
    return out


BOOKS = _books()
IDS = [local for local, _raw in BOOKS]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def consortium(client: TestClient, tmp_path: Path) -> dict[str, str]:
    """VNU-LIC and HUST-LIB hold books 0-2 (one union record of two each); HCM-LIB holds book 5."""
    tokens = {code: _library(client, code) for code in ("VNU-LIC", "HUST-LIB", "HCM-LIB")}
    engine = client.app_state.engine  # type: ignore[attr-defined]
    search = client.app_state.search  # type: ignore[attr-defined]
    for code, books in (("VNU-LIC", [0, 1, 2]), ("HUST-LIB", [0, 1, 2]), ("HCM-LIB", [5])):
        path = tmp_path / f"{code}.mrc"
        path.write_bytes(b"".join(BOOKS[n][1] for n in books))
        ingest_file(engine, code, path, search=search)
    return tokens


def _union(client: TestClient, code: str, local_id: str) -> int:
    answer = client.get(f"/api/v1/libraries/{code}/records/{local_id}")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["union_record_id"])


def test_split_by_the_owning_library_and_undo(client: TestClient, consortium: dict[str, str]) -> None:
    vnu, hust = consortium["VNU-LIC"], consortium["HUST-LIB"]
    old = _union(client, "VNU-LIC", IDS[0])
    body = {"library": "VNU-LIC", "local_id": IDS[0], "note": "another printing"}
    _problem(client.post("/api/v1/corrections/split", json=body), 401)
    _problem(client.post("/api/v1/corrections/split", json=body, headers=_bearer(hust)), 403)
    done = client.post("/api/v1/corrections/split", json=body, headers=_bearer(vnu))
    assert done.status_code == 201, done.text
    decision = done.json()["decision"]
    assert decision["label"].startswith("manual: split by VNU-LIC on ")
    assert decision["side_a"] == [["VNU-LIC", IDS[0]]] and decision["side_b"] == [["HUST-LIB", IDS[0]]]
    new = _union(client, "VNU-LIC", IDS[0])
    assert new != _union(client, "HUST-LIB", IDS[0]) and sorted(done.json()["union_records"]) == sorted(
        {new, old}
    )
    explained = client.get(f"/api/v1/records/{new}/explain").json()
    assert [c["label"] for c in explained["corrections"]] == [decision["label"]]
    assert any(d["rule"] == "manual" and not d["accepted"] for d in explained["decisions"])
    # splitting it again says why not
    again = _problem(client.post("/api/v1/corrections/split", json=body, headers=_bearer(vnu)), 409)
    assert "of its own" in again["detail"]
    # the library lists its own decisions; another sees none of them
    assert [d["id"] for d in client.get("/api/v1/corrections", headers=_bearer(vnu)).json()["decisions"]] == [
        decision["id"]
    ]
    assert client.get("/api/v1/corrections", headers=_bearer(consortium["HCM-LIB"])).json()["decisions"] == []
    _problem(client.delete(f"/api/v1/corrections/{decision['id']}", headers=_bearer(hust)), 403)
    _problem(client.delete("/api/v1/corrections/99999", headers=_admin()), 404)
    _problem(client.delete("/api/v1/corrections/99999999999999999999", headers=_admin()), 422)
    undone = client.delete(f"/api/v1/corrections/{decision['id']}", headers=_bearer(vnu))
    assert undone.status_code == 200 and undone.json()["undone"]
    assert _union(client, "VNU-LIC", IDS[0]) == _union(client, "HUST-LIB", IDS[0])


def test_merge_and_the_merged_records_url(client: TestClient, consortium: dict[str, str]) -> None:
    book0, book1 = _union(client, "VNU-LIC", IDS[0]), _union(client, "VNU-LIC", IDS[1])
    hcm = _union(client, "HCM-LIB", IDS[5])
    # VNU-LIC and HUST-LIB hold a record of both: refused, with the reason
    refused = _problem(
        client.post("/api/v1/corrections/merge", json={"union_ids": [book0, book1]}, headers=_admin()), 409
    )
    assert "one record per library" in refused["detail"]
    _problem(
        client.post("/api/v1/corrections/merge", json={"union_ids": [book0, 99999]}, headers=_admin()), 404
    )
    _problem(client.post("/api/v1/corrections/merge", json={"union_ids": [book0]}, headers=_admin()), 422)
    # a library holding a member of one of them may merge
    done = client.post(
        "/api/v1/corrections/merge", json={"union_ids": [book0, hcm]}, headers=_bearer(consortium["HCM-LIB"])
    )
    assert done.status_code == 201, done.text
    [kept] = done.json()["union_records"]
    gone = hcm if kept == book0 else book0
    moved = client.get(f"/api/v1/records/{gone}", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == f"/api/v1/records/{kept}"
    explained = client.get(f"/api/v1/records/{gone}/explain", follow_redirects=False)
    assert explained.status_code == 308 and explained.headers["location"] == f"/api/v1/records/{kept}/explain"
    assert client.get(f"/api/v1/records/{gone}/explain").json()["id"] == kept
    page = client.get(f"/records/{gone}?lang=en", follow_redirects=False)
    assert page.status_code == 301 and page.headers["location"].startswith(f"/records/{kept}")
    members = client.get(f"/api/v1/records/{kept}").json()["members"]
    assert {m["library"] for m in members} == {"VNU-LIC", "HUST-LIB", "HCM-LIB"}


def test_a_record_really_deleted_stays_gone(
    client: TestClient, consortium: dict[str, str], tmp_path: Path
) -> None:
    hcm = _union(client, "HCM-LIB", IDS[5])
    path = tmp_path / "delete.mrc"
    path.write_bytes(BOOKS[5][1])
    ingest_file(client.app_state.engine, "HCM-LIB", path, mode="delete")  # type: ignore[attr-defined]
    _problem(client.get(f"/api/v1/records/{hcm}", follow_redirects=False), 410)
    _problem(client.get(f"/api/v1/records/{hcm}/explain", follow_redirects=False), 410)
    assert client.get(f"/records/{hcm}", follow_redirects=False).status_code == 410


def test_keep_apart_bodies_and_rights(client: TestClient, consortium: dict[str, str]) -> None:
    vnu = consortium["VNU-LIC"]
    book2 = _union(client, "VNU-LIC", IDS[2])
    url = "/api/v1/corrections/keep-apart"
    for bad in (
        {"a": {"union_id": book2, "library": "VNU-LIC"}, "b": {"union_id": 1}},
        {"a": {}, "b": {"union_id": 1}},
        {"a": {"union_id": "x"}, "b": {"union_id": 1}},
        {"a": {"union_id": book2}, "b": {"union_id": 1}, "extra": True},
        {"a": {"union_id": book2}, "b": {"union_id": 1}, "note": "x" * 1001},
    ):
        _problem(client.post(url, json=bad, headers=_admin()), 422)
    both = {"a": {"library": "VNU-LIC", "local_id": IDS[2]}, "b": {"library": "HUST-LIB", "local_id": IDS[2]}}
    _problem(client.post(url, json=both, headers=_bearer(consortium["HCM-LIB"])), 403)
    done = client.post(url, json=both, headers=_bearer(vnu))
    assert done.status_code == 201, done.text
    assert done.json()["decision"]["label"].startswith("manual: kept apart by VNU-LIC on ")
    assert _union(client, "VNU-LIC", IDS[2]) != _union(client, "HUST-LIB", IDS[2])


def _sign_in(client: TestClient, token: str) -> None:
    login = sign_in(client, token)
    assert login.status_code == 303


def test_marc_view_and_member_differences(
    client: TestClient, consortium: dict[str, str], tmp_path: Path
) -> None:
    # HUST-LIB's copy of book 1 carries another note, and a title with markup in it
    record = next(MARCReader(BOOKS[1][1], to_unicode=True, force_utf8=True))
    from pymarc import Field, Subfield

    record.add_ordered_field(
        Field(tag="500", indicators=[" ", " "], subfields=[Subfield("a", "<b>Bản sao</b>")])
    )
    path = tmp_path / "hust-changed.mrc"
    path.write_bytes(record.as_marc())
    ingest_file(client.app_state.engine, "HUST-LIB", path)  # type: ignore[attr-defined]
    union = _union(client, "VNU-LIC", IDS[1])
    for lang, words in (
        ("vi", ("Xem dạng MARC", "Trường con khác nhau")),
        ("en", ("MARC view", "Subfields that differ")),
    ):
        page = client.get(f"/records/{union}/marc?lang={lang}")
        assert page.status_code == 200
        for word in words:
            assert word in page.text
        assert "&lt;b&gt;Bản sao&lt;/b&gt;" in page.text and "<b>Bản sao" not in page.text
        assert f"VNU-LIC: {IDS[1]}" in page.text and f"HUST-LIB: {IDS[1]}" in page.text
        assert ">245<" in page.text and ">500<" in page.text
    record_page = client.get(f"/records/{union}?lang=en")
    assert f'href="/records/{union}/marc?lang=en"' in record_page.text
    assert "Split this record out" not in record_page.text  # nobody signed in
    assert client.get("/records/99999/marc").status_code == 404


def test_librarian_splits_on_the_web_pages(client: TestClient, consortium: dict[str, str]) -> None:
    union = _union(client, "VNU-LIC", IDS[0])
    assert (
        client.get(
            f"/librarian/corrections/confirm?action=split&record={union}&target=VNU-LIC:{IDS[0]}",
            follow_redirects=False,
        ).status_code
        == 303
    )
    _sign_in(client, consortium["VNU-LIC"])
    record_page = client.get(f"/records/{union}?lang=en")
    assert "Split this record out" in record_page.text
    confirm = client.get(
        "/librarian/corrections/confirm",
        params={"action": "split", "record": union, "target": f"VNU-LIC:{IDS[0]}", "lang": "en"},
    )
    assert confirm.status_code == 200 and "becomes a union record of its own" in confirm.text
    form = {
        "action": "split",
        "record": str(union),
        "target": f"VNU-LIC:{IDS[0]}",
        "note": "tập 2",
        "lang": "en",
        "csrf_token": form_token(client),
    }
    cross = client.post("/librarian/corrections", data=form, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and _union(client, "VNU-LIC", IDS[0]) == union
    foreign = client.post("/librarian/corrections", data=dict(form, target=f"HUST-LIB:{IDS[0]}"))
    assert foreign.status_code == 403
    done = client.post("/librarian/corrections", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert _union(client, "VNU-LIC", IDS[0]) != _union(client, "HUST-LIB", IDS[0])
    marc = client.get(done.headers["location"])
    assert "manual: split by VNU-LIC on" in marc.text and "(tập 2)" in marc.text
    wrong = client.post("/librarian/corrections", data=dict(form, action="explode"))
    assert wrong.status_code == 422


def test_command_line_corrections_and_their_export(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    def ok(*args: str):  # type: ignore[no-untyped-def]
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        return result

    files = {}
    for code, books in (("VNU-LIC", [0, 1]), ("HUST-LIB", [0, 1]), ("HCM-LIB", [5])):
        ok("library", "add", code, "--name", f"Thư viện {code}")
        files[code] = tmp_path / f"{code}.mrc"
        files[code].write_bytes(b"".join(BOOKS[n][1] for n in books))
        ok("ingest", str(files[code]), "--library", code)
    listed = [json.loads(line) for line in ok("dedup", "--list", "--json").stdout.splitlines()]
    union_of = {(code, local): entry["id"] for entry in listed for code, local in entry["members"]}
    split = json.loads(ok("dedup", "--split", f"VNU-LIC:{IDS[0]}", "--note", "tập 2", "--json").stdout)
    assert split["decision"]["label"].startswith("manual: split by admin on ")
    merged = json.loads(
        ok(
            "dedup",
            "--merge",
            str(union_of[("VNU-LIC", IDS[1])]),
            str(union_of[("HCM-LIB", IDS[5])]),
            "--json",
        ).stdout
    )
    assert len(merged["union_records"]) == 1
    explained = ok("dedup", "--explain", str(union_of[("HUST-LIB", IDS[0])])).stdout
    assert "manual: split by admin on" in explained and "(tập 2)" in explained
    refused = run_cli(
        "dedup", "--merge", str(union_of[("VNU-LIC", IDS[1])]), str(union_of[("HUST-LIB", IDS[0])])
    )
    assert (
        refused.returncode == 1
        and "one record per library" in refused.stderr
        and "Traceback" not in refused.stderr
    )
    bad = run_cli("dedup", "--never", "nonsense", "1")
    assert bad.returncode == 1 and "CODE:LOCAL_ID" in bad.stderr
    assert run_cli("dedup", "--undo", "999").returncode == 1

    exported = tmp_path / "decisions.json"
    ok("dedup", "--export-decisions", str(exported))
    assert len(json.loads(exported.read_text())["decisions"]) == 2
    before = sorted(ok("dedup", "--list", "--json").stdout.splitlines())
    ok("dedup", "--undo", str(split["decision"]["id"]))
    assert sorted(ok("dedup", "--list", "--json").stdout.splitlines()) != before
    imported = json.loads(ok("dedup", "--import-decisions", str(exported), "--json").stdout)
    assert imported["added"] == 1 and imported["decisions"] == 2
    ok("dedup", "--rebuild")
    after = [json.loads(line)["members"] for line in ok("dedup", "--list", "--json").stdout.splitlines()]
    assert sorted(after) == sorted(json.loads(line)["members"] for line in before)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = run_cli("dedup", "--import-decisions", str(broken))
    assert result.returncode == 1 and "not JSON" in result.stderr


def test_librarian_merges_and_undoes_on_the_web_pages(client: TestClient, consortium: dict[str, str]) -> None:
    book0, hcm = _union(client, "VNU-LIC", IDS[0]), _union(client, "HCM-LIB", IDS[5])
    _sign_in(client, consortium["HCM-LIB"])
    marc = client.get(f"/records/{hcm}/marc?lang=vi")
    assert "Gộp với biểu ghi liên hợp số" in marc.text and "Không bao giờ gộp" in marc.text
    confirm = client.get(
        "/librarian/corrections/confirm",
        params={"action": "merge", "record": hcm, "target": book0, "lang": "vi"},
    )
    assert f"Gộp biểu ghi liên hợp {hcm} và {book0} thành một." in confirm.text
    form = {
        "action": "merge",
        "record": str(hcm),
        "target": str(book0),
        "lang": "vi",
        "csrf_token": form_token(client),
    }
    assert client.post("/librarian/corrections", data=dict(form, target="abc")).status_code == 409
    done = client.post("/librarian/corrections", data=form, follow_redirects=False)
    assert done.status_code == 303
    kept = _union(client, "HCM-LIB", IDS[5])
    assert kept == _union(client, "VNU-LIC", IDS[0]) and kept in (book0, hcm)
    decisions = client.get("/api/v1/corrections", headers=_bearer(consortium["HCM-LIB"])).json()["decisions"]
    [decision] = decisions
    page = client.get(f"/records/{kept}/marc?lang=vi")
    assert "Huỷ hiệu chỉnh" in page.text and f"#{decision['id']} manual: merged by HCM-LIB on" in page.text
    undo = {"action": "undo", "record": str(kept), "target": str(decision["id"]), "lang": "vi"}
    undo["csrf_token"] = form_token(client)
    assert client.post("/librarian/corrections", data=undo, follow_redirects=False).status_code == 303
    assert _union(client, "HCM-LIB", IDS[5]) != _union(client, "VNU-LIC", IDS[0])

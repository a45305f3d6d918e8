"""Every command through the installed ``unioncat`` script: happy paths and error paths."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import KOHA, VIETNAMESE, fixture, unioncat_command


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def _fails(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert lines and message in result.stderr, result.stderr


def test_help_lists_the_commands(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = _ok(run_cli("--help"))
    for command in ("db", "library", "ingest", "serve", "demo"):
        assert command in result.stdout


def test_db_upgrade(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = _ok(run_cli("db", "upgrade", "--json"))
    data = json.loads(result.stdout)
    assert data["revision"] and (tmp_path / "data" / "unioncat.db").exists()
    bad = run_cli("db", "upgrade", env={"UNIONCAT_DATABASE_URL": "mysql://nope"})
    _fails(bad, "error: invalid setting UNIONCAT_DATABASE_URL")
    unreachable = run_cli("db", "upgrade", env={"UNIONCAT_DATABASE_URL": "postgresql://u@127.0.0.1:1/x"})
    _fails(unreachable, "error: cannot open the catalogue database")


def test_library_commands(run_cli) -> None:  # type: ignore[no-untyped-def]
    added = json.loads(
        _ok(
            run_cli(
                "library",
                "add",
                "vnu-lic",
                "--name",
                "Trung tâm Thư viện ĐHQGHN",
                "--city",
                "Hà Nội",
                "--json",
            )
        ).stdout
    )
    assert added["code"] == "VNU-LIC" and added["name_vi"] == "Trung tâm Thư viện ĐHQGHN"
    _ok(run_cli("library", "add", "TNU-LRC", "--name", "Trung tâm Học liệu", "--holdings-profile", "koha"))
    listed = json.loads(_ok(run_cli("library", "list", "--json")).stdout)
    assert [lib["code"] for lib in listed] == ["TNU-LRC", "VNU-LIC"]
    assert listed[1]["records"] == 0
    shown = json.loads(_ok(run_cli("library", "show", "VNU-LIC", "--json")).stdout)
    assert shown["city"] == "Hà Nội"
    assert "VNU-LIC" in _ok(run_cli("library", "list")).stdout
    _fails(run_cli("library", "add", "VNU-LIC", "--name", "again"), "error: library VNU-LIC already exists")
    _fails(run_cli("library", "add", "bad code!", "--name", "x"), "error: invalid library code")
    _fails(run_cli("library", "show", "NOPE"), "error: unknown library NOPE")
    _fails(
        run_cli("library", "add", "X-LIB", "--name", "x", "--holdings-profile", "aleph"),
        "unknown holdings profile",
    )


def test_ingest_command(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _ok(run_cli("library", "add", "VNU-LIC", "--name", "VNU"))
    result = _ok(run_cli("ingest", str(VIETNAMESE), "--library", "VNU-LIC", "--json"))
    summary = json.loads(result.stdout)
    for key in ("read", "added", "updated", "unchanged", "deleted", "rejected", "job_id"):
        assert key in summary
    assert (summary["read"], summary["added"], summary["status"]) == (529, 529, "succeeded")
    again = json.loads(_ok(run_cli("ingest", str(VIETNAMESE), "-l", "VNU-LIC", "--json")).stdout)
    assert again["unchanged"] == 529
    # rejected records are listed with their number, offset and reason
    bad = _ok(run_cli("ingest", str(fixture("bad_records.mrc")), "-l", "VNU-LIC"))
    assert "rejected 9" in bad.stderr
    assert "record 2 at byte 127: base address" in bad.stderr
    bad_json = json.loads(
        _ok(run_cli("ingest", str(fixture("bad_records.mrc")), "-l", "VNU-LIC", "--json")).stdout
    )
    assert bad_json["rejections"][1] == {
        "record_number": 2,
        "byte_offset": 127,
        "local_id": None,
        "reason": bad_json["rejections"][1]["reason"],
    }
    _fails(run_cli("ingest", str(VIETNAMESE), "--library", "NOPE"), "error: unknown library NOPE")
    _fails(run_cli("ingest", str(tmp_path / "missing.mrc"), "-l", "VNU-LIC"), "error: no such file")
    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    _fails(run_cli("ingest", str(junk), "-l", "VNU-LIC"), "not a MARC file")
    _fails(run_cli("ingest", str(VIETNAMESE), "-l", "VNU-LIC", "--mode", "replace"), "unknown mode")
    _fails(run_cli("ingest", str(VIETNAMESE), "-l", "VNU-LIC", "--format", "pdf"), "unknown format")
    listed = json.loads(_ok(run_cli("library", "list", "--json")).stdout)
    assert listed[0]["records"] == 529 and listed[0]["last_ingest"]


def test_ingest_koha_snapshot_via_cli(run_cli) -> None:  # type: ignore[no-untyped-def]
    _ok(run_cli("library", "add", "TNU-LRC", "--name", "TNU", "--holdings-profile", "koha"))
    summary = json.loads(
        _ok(run_cli("ingest", str(KOHA), "-l", "TNU-LRC", "--mode", "snapshot", "--json")).stdout
    )
    assert (summary["added"], summary["mode"]) == (436, "snapshot")
    shown = json.loads(_ok(run_cli("library", "show", "TNU-LRC", "--json")).stdout)
    assert shown["holdings"] == 986


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen[str], timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_serve_and_demo_answer_health(command: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONCAT_")}
    env["UNIONCAT_DATA_DIR"] = str(tmp_path / "data")
    args = [*unioncat_command(), command, "--port", str(port)]
    if command == "demo":
        args += ["--data-dir", str(tmp_path / "demo")]
    proc = subprocess.Popen(
        args, cwd=tmp_path, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/health", proc, timeout=120)
        assert health["status"] == "ok" and health["database"] == "ok"
        if command == "demo":
            assert health["counts"]["libraries"] == 5
            assert health["counts"]["source_records"] > 2000
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/libraries", timeout=5) as response:
                libraries = json.loads(response.read())
            assert {lib["code"] for lib in libraries} >= {"VNU-LIC", "HUST-LIB", "TNU-LRC"}
            listed = subprocess.run(
                [*unioncat_command(), "library", "list", "--json"],
                env={**env, "UNIONCAT_DATA_DIR": str(tmp_path / "demo")},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert len(json.loads(listed.stdout)) == 5
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_search_holdings_dedup_and_index_commands(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from harvest.iso2709 import split_records

    with open(VIETNAMESE, "rb") as fh:
        raws = [raw for _offset, raw in split_records(fh)]
    (tmp_path / "a.mrc").write_bytes(b"".join(raws[:300]))
    (tmp_path / "b.mrc").write_bytes(b"".join(raws[200:]))
    for code, name in (("VNU-LIC", "a.mrc"), ("HUST-LIB", "b.mrc")):
        _ok(run_cli("library", "add", code, "--name", code))
        _ok(run_cli("ingest", str(tmp_path / name), "-l", code))
    found = json.loads(_ok(run_cli("search", "path of emancipation", "--json")).stdout)
    assert found["total"] >= 1
    first = found["hits"][0]
    assert set(first) == {"id", "title", "year", "isbns", "libraries"}
    assert first["isbns"] == ["9781888375152"] and first["libraries"] == ["VNU-LIC"]
    shared = json.loads(
        _ok(run_cli("search", "viet nam", "--library", "HUST-LIB", "--limit", "5", "--json")).stdout
    )
    assert shared["hits"] and all("HUST-LIB" in h["libraries"] for h in shared["hits"])
    assert "union records" in _ok(run_cli("search", "dai hoc")).stderr
    held = json.loads(_ok(run_cli("holdings", "--isbn", "1-888375-15-9", "--json")).stdout)
    assert held["query"] == {"kind": "isbn", "value": "9781888375152"}
    assert [lib["code"] for lib in held["records"][0]["libraries"]] == ["VNU-LIC"]
    by_id = json.loads(_ok(run_cli("holdings", "--id", str(first["id"]), "--json")).stdout)
    assert by_id["records"][0]["title"] == first["title"]
    _fails(run_cli("holdings", "--isbn", "12345"), "error: not a valid ISBN")
    _fails(run_cli("holdings"), "error: give exactly one of")
    _fails(run_cli("search", "x", "--sort", "sideways"), "error: unknown sort")
    # union records: 100 records are held by both libraries
    lines = [json.loads(line) for line in _ok(run_cli("dedup", "--list", "--json")).stdout.splitlines()]
    assert len(lines) == 529
    assert sum(1 for entry in lines if len(entry["members"]) == 2) == 100
    pair = next(entry for entry in lines if len(entry["members"]) == 2)
    assert {m[0] for m in pair["members"]} == {"VNU-LIC", "HUST-LIB"}
    explained = json.loads(_ok(run_cli("dedup", "--explain", str(pair["id"]), "--json")).stdout)
    assert explained["decisions"] and explained["decisions"][0]["accepted"]
    assert "merged" in _ok(run_cli("dedup", "--explain", str(pair["id"]))).stdout
    _fails(run_cli("dedup", "--explain", "999999"), "error: no union record 999999")
    _fails(run_cli("dedup"), "error: give exactly one of")
    rebuilt = json.loads(_ok(run_cli("dedup", "--rebuild", "--json")).stdout)
    assert rebuilt["union_records"] == 529 and rebuilt["pairs_accepted"] == 100
    checked = json.loads(_ok(run_cli("check-index", "--json")).stdout)
    assert checked["in_sync"] and checked["index_documents"] == 529
    assert json.loads(_ok(run_cli("reindex", "--json")).stdout)["documents"] == 529


def test_check_index_reports_drift(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    _ok(run_cli("library", "add", "VNU-LIC", "--name", "VNU"))
    _ok(run_cli("ingest", str(fixture("marc.dat")), "-l", "VNU-LIC"))
    with sqlite3.connect(tmp_path / "data" / "unioncat.db") as conn:
        conn.execute("DELETE FROM search_doc WHERE union_id = (SELECT min(union_id) FROM search_doc)")
    drift = run_cli("check-index", "--json", "--sample", "1000")
    assert drift.returncode == 1 and not json.loads(drift.stdout)["in_sync"]
    _ok(run_cli("reindex"))
    _ok(run_cli("check-index"))


@pytest.mark.postgres
def test_postgresql_without_meilisearch_is_refused(run_cli) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import _pg_database

    for url in _pg_database():  # a fresh database, dropped afterwards
        _fails(
            run_cli("search", "x", env={"UNIONCAT_DATABASE_URL": url}),
            "searches with Meilisearch: set UNIONCAT_MEILI_URL",
        )
        _fails(
            run_cli("serve", env={"UNIONCAT_DATABASE_URL": url}),
            "searches with Meilisearch: set UNIONCAT_MEILI_URL",
        )

"""``unioncat digital`` through the installed script: deposit, list, access, replace, withdraw and
usage, with one clear line for every refusal."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlmodel import Session

from catalog.models import DigitalUsage
from tests.conftest import fixture
from tests.digital_files import password_pdf, text_pdf

RECORD = "11778504"


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def _fails(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert message in result.stderr, result.stderr


def test_the_digital_commands(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _ok(run_cli("library", "add", "LIB-A", "--name", "Thư viện A"))
    _ok(run_cli("library", "add", "LIB-B", "--name", "Thư viện B"))
    _ok(run_cli("ingest", str(fixture("marc.dat")), "--library", "LIB-A"))
    _ok(run_cli("ingest", str(fixture("marc.dat")), "--library", "LIB-B"))
    thesis = text_pdf(tmp_path / "luan-van.pdf", pages=2)
    added = json.loads(
        _ok(
            run_cli("digital", "add", str(thesis), "--library", "LIB-A", "--record", RECORD,
                    "--access", "members", "--label", "Toàn văn", "--json")
        ).stdout
    )  # fmt: skip
    assert added["id"] and added["pages"] == 2 and added["rule"] == "members" and added["text_job"]
    assert (tmp_path / "data" / "digital" / "sha256" / added["sha256"][:2] / added["sha256"]).is_file()
    listed = json.loads(_ok(run_cli("digital", "list", "--library", "LIB-A", "--json")).stdout)
    assert [o["id"] for o in listed] == [added["id"]]
    assert "LIB-A" in _ok(run_cli("digital", "list")).stdout

    changed = json.loads(
        _ok(run_cli("digital", "access", str(added["id"]), "embargo:2999-01-01", "--json")).stdout
    )
    assert changed["rule"] == "embargo:2999-01-01"
    _fails(run_cli("digital", "access", str(added["id"]), "whenever"), "error: unknown access")

    newer = text_pdf(tmp_path / "luan-van-v2.pdf", pages=5)
    replaced = json.loads(_ok(run_cli("digital", "replace", str(added["id"]), str(newer), "--json")).stdout)
    assert (
        replaced["id"] == added["id"] and replaced["pages"] == 5 and replaced["rule"] == "embargo:2999-01-01"
    )
    assert replaced["sha256"] != added["sha256"]
    assert not (tmp_path / "data" / "digital" / "sha256" / added["sha256"][:2] / added["sha256"]).exists()
    _fails(run_cli("digital", "replace", str(added["id"]), str(newer)), "error: the new file is the same")

    _fails(
        run_cli(
            "digital", "add", str(password_pdf(tmp_path / "p.pdf")), "--library", "LIB-A", "--record", RECORD
        ),
        "error: the PDF is protected by a password",
    )
    _fails(
        run_cli("digital", "add", str(thesis), "--library", "LIB-B", "--record", "not-there"),
        "error: the library has no record 'not-there'",
    )
    _fails(run_cli("digital", "add", str(tmp_path / "none.pdf"), "--library", "LIB-A", "--record", RECORD),
           "error: no file")  # fmt: skip
    _fails(
        run_cli("digital", "add", str(thesis), "--library", "NOPE", "--record", RECORD),
        "unknown library NOPE",
    )

    _ok(run_cli("digital", "withdraw", str(added["id"])))
    assert json.loads(_ok(run_cli("digital", "list", "--json")).stdout)[0]["status"] == "withdrawn"
    _fails(run_cli("digital", "withdraw", "9999"), "error: no digital object 9999")

    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'unioncat.db'}")
    month = f"{datetime.now(UTC):%Y-%m}"
    with Session(engine) as session:
        session.add(
            DigitalUsage(object_id=added["id"], month=month, kind="download", requester="LIB-B", count=4)
        )
        session.add(DigitalUsage(object_id=added["id"], month=month, kind="view", requester="LIB-B", count=3))
        session.commit()
    engine.dispose()
    report = _ok(run_cli("digital", "usage", "--library", "LIB-A", "--csv")).stdout
    rows = list(csv.reader(io.StringIO(report)))
    assert rows[0][:6] == ["Item_ID", "Item", "Publisher", "Member", "Month", "Metric_Type"]
    counts = {r[5]: int(r[6]) for r in rows[1:]}
    assert counts == {"Total_Item_Investigations": 7, "Total_Item_Requests": 4}
    assert json.loads(_ok(run_cli("digital", "usage", "--library", "LIB-B", "--json")).stdout) == []
    _fails(run_cli("digital", "usage", "--from", "2026-1"), "is not a month YYYY-MM")

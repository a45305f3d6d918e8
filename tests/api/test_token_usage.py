"""A token's ``last_used_at``: set by its use (API and librarian session), shown by the admin API and
``unioncat library token list``, written at most once per interval and never waiting for the lock."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from catalog import db
from catalog.models import ApiToken
from catalog.token_usage import TokenUsage
from tests.api.test_http import _admin, _library, _settings


def _stored(engine: object, token_id: int) -> datetime | None:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return conn.execute(select(ApiToken.last_used_at).where(ApiToken.id == token_id)).scalar_one()


def test_a_tokens_use_is_shown_by_the_admin_api_and_the_command_line(client: TestClient, run_cli) -> None:  # type: ignore[no-untyped-def]
    token = _library(client, "VNU-LIC")
    [listed] = client.get("/api/v1/tokens", headers=_admin()).json()
    assert listed["last_used_at"] is None  # created, never used
    before = time.time()
    assert client.get(
        "/api/v1/libraries/VNU-LIC/jobs", headers={"Authorization": f"Bearer {token}"}
    ).is_success
    [listed] = client.get("/api/v1/tokens", headers=_admin()).json()
    assert datetime.fromisoformat(listed["last_used_at"]).timestamp() >= before - 1
    shown = run_cli("token", "list", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)[0]["last_used_at"] == listed["last_used_at"]
    table = run_cli("token", "list")
    assert "last used" in table.stdout and listed["last_used_at"][:10] in table.stdout


def test_a_librarian_session_counts_as_a_use_of_its_token(client: TestClient) -> None:
    token = _library(client, "VNU-LIC")
    from tests.api.test_hostile import _login

    _login(client, token)
    [listed] = client.get("/api/v1/tokens", headers=_admin()).json()
    assert listed["last_used_at"] is not None


def test_the_use_is_written_once_per_interval_and_never_waits_for_the_lock(
    client: TestClient, tmp_path: Path
) -> None:
    _library(client, "VNU-LIC")
    engine = db.make_engine(_settings(tmp_path).resolved_database_url)
    usage = TokenUsage(engine, every=300, retry=0.2)
    usage.seen(1)
    first = _stored(engine, 1)
    assert first is not None
    time.sleep(0.01)
    usage.seen(1)  # within the interval: remembered, not written
    assert _stored(engine, 1) == first

    holder = sqlite3.connect(engine.url.database, isolation_level=None)  # type: ignore[arg-type]
    holder.execute("BEGIN IMMEDIATE")  # another writer (a job) holds the catalogue
    try:
        eager = TokenUsage(engine, every=0, retry=0.2)
        started = time.monotonic()
        eager.seen(1)
        assert time.monotonic() - started < 1.0  # skipped, not waited for
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _stored(engine, 1) == first
    time.sleep(0.3)  # past the retry: the next use writes the time noted
    eager.seen(1)
    assert _stored(engine, 1) > first  # type: ignore[operator]
    engine.dispose()

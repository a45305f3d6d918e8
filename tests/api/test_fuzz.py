"""Fuzz the OpenAPI document with schemathesis: no input gives a 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from catalog import db
from catalog.db import session_scope
from catalog.libraries import add_library
from catalog.settings import Settings
from harvest.ingest import ingest_file
from tests.conftest import fixture

_work = Path(__import__("tempfile").mkdtemp(prefix="unioncat-fuzz-"))


def _app():  # type: ignore[no-untyped-def]
    from api.app import create_app

    settings = Settings(
        data_dir=_work / "data",
        database_url=f"sqlite:///{_work / 'data' / 'unioncat.db'}",
        admin_token="fuzz-admin",
    )
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with session_scope(engine) as session:
        add_library(session, "VNU-LIC", "Trung tâm Thư viện ĐHQGHN")
    ingest_file(engine, "VNU-LIC", fixture("marc.dat"))
    return create_app(engine, settings, start_worker=False)


schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
    if response.status_code >= 400 and case.path != "/health":
        content_type = response.headers.get("content-type") or [""]
        assert content_type[0].startswith("application/problem+json"), (case.path, response.text[:200])


@pytest.fixture(autouse=True, scope="module")
def _cleanup() -> object:
    yield None
    import shutil

    shutil.rmtree(_work, ignore_errors=True)

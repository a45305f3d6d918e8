"""What the API's tests share: a service on a fresh SQLite catalogue, through FastAPI's test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from catalog import db
from tests.api.test_http import _settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The service (with its in-process job worker) on a new catalogue; ``client.app_state`` is its
    state, for tests that reach its engine or worker."""
    from api.app import create_app

    settings = _settings(tmp_path)
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    app = create_app(engine, settings)
    with TestClient(app) as test_client:
        test_client.app_state = app.state  # type: ignore[attr-defined]
        yield test_client

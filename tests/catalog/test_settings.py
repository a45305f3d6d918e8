from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from catalog.settings import Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "MEILI_URL", "MEILI_KEY", "ADMIN_TOKEN", "DATA_DIR"):
        monkeypatch.delenv(f"UNIONCAT_{name}", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.data_dir == Path("data")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'data' / 'unioncat.db'}"
    assert settings.meili_url is None and settings.admin_token is None
    assert settings.max_upload_bytes == 2 * 1024**3
    assert settings.is_sqlite


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIONCAT_DATABASE_URL", "postgresql://u:p@db:5432/unioncat")
    monkeypatch.setenv("UNIONCAT_MEILI_URL", "http://meili:7700")
    monkeypatch.setenv("UNIONCAT_MEILI_KEY", "k")
    monkeypatch.setenv("UNIONCAT_ADMIN_TOKEN", "secret")
    monkeypatch.setenv("UNIONCAT_DATA_DIR", "/srv/unioncat")
    monkeypatch.setenv("UNIONCAT_MAX_UPLOAD_BYTES", "1000")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+psycopg://u:p@db:5432/unioncat"
    assert not settings.is_sqlite
    assert (settings.meili_url, settings.meili_key, settings.admin_token) == (
        "http://meili:7700",
        "k",
        "secret",
    )
    assert settings.data_dir == Path("/srv/unioncat") and settings.max_upload_bytes == 1000


def test_dotenv_file_and_empty_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNIONCAT_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("UNIONCAT_MEILI_URL", raising=False)
    (tmp_path / ".env").write_text("UNIONCAT_ADMIN_TOKEN=from-dotenv\nUNIONCAT_MEILI_URL=\n")
    settings = Settings()
    assert settings.admin_token == "from-dotenv"
    assert settings.meili_url is None  # empty means absent: embedded search


@pytest.mark.parametrize(
    ("name", "value"),
    [("DATABASE_URL", "mysql://x"), ("MAX_UPLOAD_BYTES", "-1"), ("MAX_UPLOAD_BYTES", "lots")],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"UNIONCAT_{name}", value)
    with pytest.raises(ValidationError):
        Settings()


def test_the_signing_key_is_generated_once_kept_private_and_a_configured_one_wins(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "data").signing_key()
    assert len(first) == 64
    assert Settings(data_dir=tmp_path / "data").signing_key() == first  # survives a restart
    assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o077 == 0
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret.key"]
    assert Settings(data_dir=tmp_path / "data", secret_key="configured").signing_key() == b"configured"
    assert Settings(data_dir=tmp_path / "other").signing_key() != first

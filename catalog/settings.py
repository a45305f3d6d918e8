"""One settings object for the whole service, read from ``UNIONCAT_*`` variables or a ``.env`` file."""

from __future__ import annotations

import os
import re
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of a unioncat installation.

    Every field is read from the environment variable ``UNIONCAT_<NAME>`` (for example
    ``UNIONCAT_DATABASE_URL``) or from a ``.env`` file in the working directory.
    """

    model_config = SettingsConfigDict(
        env_prefix="UNIONCAT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("data"), description="Where the SQLite catalogue and uploads live.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file unioncat.db under data_dir."
    )
    meili_url: str | None = Field(default=None, description="Meilisearch URL; absent = embedded search.")
    meili_key: str | None = Field(default=None, description="Meilisearch API key.")
    meili_index: str = Field(default="union_records", description="Name of the Meilisearch index.")
    admin_token: str | None = Field(default=None, description="Token that manages libraries and tokens.")
    secret_key: str | None = Field(
        default=None,
        description="Signs OAI-PMH resumption tokens and librarian sessions; default: a random key "
        "generated once and kept in data_dir/secret.key.",
    )
    max_upload_bytes: int = Field(default=2 * 1024**3, gt=0, description="Largest accepted upload.")
    max_digital_bytes: int = Field(
        default=1024**3, gt=0, description="Largest file accepted into the digital library."
    )
    digital_max_pages: int = Field(
        default=5000, ge=1, description="Most pages a PDF deposited in the digital library may have."
    )
    digital_s3_url: str | None = Field(
        default=None,
        description="Endpoint of an S3-compatible object storage (MinIO, Ceph, AWS S3) for the digital "
        "library's files; absent = a directory under data_dir.",
    )
    digital_s3_bucket: str = Field(default="unioncat-digital", description="The bucket of those files.")
    digital_s3_access_key: str | None = Field(default=None, description="The object storage's access key.")
    digital_s3_secret_key: str | None = Field(default=None, description="The object storage's secret key.")
    digital_s3_region: str = Field(default="us-east-1", description="The object storage's region.")
    digital_member_networks: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Member library code -> its IP networks (CIDR): readers there read the files kept "
        'for members, e.g. {"HUST": ["203.162.0.0/16"]}.',
    )
    ingest_batch_size: int = Field(default=2000, ge=1, le=100_000, description="Records written per batch.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS.")
    dedup_ignore_isbns: list[str] = Field(
        default_factory=list, description="ISBNs never trusted for matching (reused by publishers)."
    )
    oai_repository_name: str = Field(
        default="unioncat union catalogue", description="repositoryName of the OAI-PMH provider (/oai)."
    )
    oai_repository_identifier: str = Field(
        default="unioncat",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9\-]*(\.[A-Za-z0-9\-]+)*$",
        description="The namespace of the provider's OAI identifiers (oai:<this>:union/123).",
    )
    oai_admin_email: str = Field(
        default="admin@unioncat.invalid",
        pattern=r"^\S+@(\S+\.)+\S+$",
        description="adminEmail the OAI-PMH provider gives in Identify.",
    )
    oai_page_size: int = Field(default=200, ge=1, le=5000, description="Records per OAI-PMH list response.")
    harvest_check_minutes: int = Field(
        default=15, ge=0, description="How often the service looks for libraries due a harvest (0 = never)."
    )
    serve_worker: bool = Field(
        default=True,
        description="'unioncat serve' starts one 'unioncat worker' process beside it (false where workers "
        "run apart, as in production).",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often an idle worker looks for a queued job."
    )
    job_lease_seconds: int = Field(
        default=120,
        ge=10,
        description="A running job whose worker has not renewed its lease for this long is taken as "
        "interrupted (its worker died) and queued again (PostgreSQL; workers renew it every quarter).",
    )
    job_max_attempts: int = Field(
        default=3, ge=1, le=20, description="How often an interrupted job is tried before it is failed."
    )

    marc_org_code: str = Field(
        default="UNIONCAT",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9:\-]{0,15}$",
        description="The consortium's MARC organisation code: 003 and 040 $d of the records handed out "
        "for cataloguing (SRU, exports).",
    )
    copy_safe_drop_tags: list[str] = Field(
        default_factory=lambda: ["9XX", "852", "876", "877", "878"],
        description="Fields dropped from records handed out for cataloguing (X: any digit).",
    )
    copy_safe_drop_subfields: list[str] = Field(
        default_factory=lambda: ["9", "5"],
        description="Subfields dropped from every field of records handed out for cataloguing.",
    )
    sru_max_records: int = Field(
        default=100, ge=1, le=1000, description="The most records one SRU searchRetrieve answers."
    )

    @field_validator(
        "database_url",
        "meili_url",
        "meili_key",
        "admin_token",
        "secret_key",
        "digital_s3_url",
        "digital_s3_access_key",
        "digital_s3_secret_key",
        mode="before",
    )
    @classmethod
    def _empty_is_absent(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("copy_safe_drop_tags")
    @classmethod
    def _tag_patterns(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not re.fullmatch(r"[0-9X]{3}", tag.strip().upper()):
                raise ValueError(f"{tag!r} is not a MARC tag (three digits, X for any digit: 9XX)")
        return [tag.strip().upper() for tag in value]

    @field_validator("copy_safe_drop_subfields")
    @classmethod
    def _subfield_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if len(code) != 1:
                raise ValueError(f"{code!r} is not a subfield code (one character)")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("database_url must be a sqlite:// or postgresql:// URL")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL actually used: the configured one, or the default SQLite file."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            return url
        return f"sqlite:///{(self.data_dir / 'unioncat.db').resolve()}"

    @field_validator("digital_member_networks")
    @classmethod
    def _networks(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        import ipaddress

        for code, networks in value.items():
            for network in networks:
                try:
                    ipaddress.ip_network(network, strict=False)
                except ValueError:
                    raise ValueError(f"{network!r} of {code} is not an IP network (CIDR)") from None
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def digital_dir(self) -> Path:
        """Where the digital library's files are kept on the embedded default."""
        return self.data_dir / "digital"

    def signing_key(self) -> bytes:
        """The key that signs what the service hands out and must get back unchanged: the configured
        ``secret_key``, or one generated on first use and kept (readable by the owner only) in
        ``data_dir/secret.key``, so that it survives restarts."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        try:
            return path.read_bytes().strip()
        except FileNotFoundError:
            pass
        self.data_dir.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".secret.key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:  # whole or not at all: a process that made it first wins, and all use its key
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
        return path.read_bytes().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()

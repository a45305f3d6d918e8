"""The catalogue's tables (SQLModel). The schema itself is created and changed by Alembic migrations only."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from catalog.dedup.keys import IDENTIFIER_KEYS


def utcnow() -> datetime:
    return datetime.now(UTC)


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=DateTime(timezone=True), **kwargs)  # type: ignore[call-overload]


class RecordStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobMode(StrEnum):
    SNAPSHOT = "snapshot"
    UPDATE = "update"
    DELETE = "delete"


class Library(SQLModel, table=True):
    """A member library of the consortium."""

    __tablename__ = "library"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True, description="ISIL-like code, e.g. VNU-LIC")
    name_vi: str = Field(max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    region: str | None = Field(default=None, max_length=100)
    city: str | None = Field(default=None, max_length=100)
    website: str | None = Field(default=None, max_length=500)
    opac_url_pattern: str | None = Field(
        default=None, max_length=500, description="Link to a local record; {id} is replaced by its local id"
    )
    contact: str | None = Field(default=None, max_length=300)
    active: bool = Field(default=True)
    holdings_profile: str = Field(default="auto", max_length=32, description="Named holdings mapping")
    holdings_config: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True), description="Overrides of the named profile"
    )
    oai_base_url: str | None = Field(default=None, max_length=500)
    oai_metadata_prefix: str | None = Field(default=None, max_length=64)
    oai_set: str | None = Field(default=None, max_length=200)
    harvest_interval_hours: int | None = Field(default=None, ge=1)
    last_harvest_datestamp: str | None = Field(
        default=None, max_length=32, description="Start of the last complete harvest (repository's clock)"
    )
    # An unfinished harvest (interrupted, or failed after some pages committed) goes on from here.
    oai_resumption_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    oai_window_from: str | None = Field(default=None, max_length=32)
    oai_window_start: str | None = Field(default=None, max_length=32)
    oai_last_sweep: datetime | None = _when(default=None)
    # The library's digital repository (DSpace and the like), harvested into the digital library
    # (harvest.repository); its place to resume from is kept as the MARC harvest's is.
    repository_url: str | None = Field(default=None, max_length=500, description="Its OAI-PMH base URL")
    repository_format: str | None = Field(default=None, max_length=16, description="oai_dc (default) or qdc")
    repository_files: str | None = Field(
        default=None, max_length=16, description="ore (default), mets or none"
    )
    repository_set: str | None = Field(default=None, max_length=200)
    repository_access: str | None = Field(
        default=None, max_length=16, description="Rule of harvested files: open (default) or members"
    )
    repository_last_datestamp: str | None = Field(default=None, max_length=32)
    repository_resumption_token: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    repository_window_from: str | None = Field(default=None, max_length=32)
    repository_window_start: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)


class IngestJob(SQLModel, table=True):
    """One run that brought records of one library into the catalogue."""

    __tablename__ = "ingest_job"
    __table_args__ = (
        Index("ix_ingest_job_library_created", "library_id", "created_at"),
        Index("ix_ingest_job_status_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    library_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("library.id"), nullable=True),
        description="None for the jobs of the whole catalogue (reindex, dedup-rebuild)",
    )
    source: str = Field(max_length=16, description="upload, oai, cli, demo, reindex or dedup-rebuild")
    mode: str = Field(max_length=16)
    format: str | None = Field(default=None, max_length=32)
    filename: str | None = Field(default=None, max_length=500)
    status: str = Field(default=JobStatus.QUEUED, max_length=16, index=True)
    error: str | None = Field(default=None)
    created_at: datetime = _when(default_factory=utcnow)
    started_at: datetime | None = _when(default=None)
    finished_at: datetime | None = _when(default=None)
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    warnings: int = 0
    host: str | None = Field(default=None, max_length=255)
    pid: int | None = None
    # The queue (see catalog.jobs): what a queued job needs to run, and the lease of its worker.
    options: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    claimed_by: str | None = Field(default=None, max_length=255, description="host:pid of the worker")
    heartbeat_at: datetime | None = _when(default=None)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # How far a running job got, written by its worker every few seconds (see catalog.job_progress).
    progress: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class JobRejection(SQLModel, table=True):
    """A record a job could not take, with where it was in the file and why."""

    __tablename__ = "job_rejection"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(
        sa_column=Column(Integer, ForeignKey("ingest_job.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    record_number: int = Field(description="1-based position of the record in the file")
    byte_offset: int | None = None
    local_id: str | None = Field(default=None, max_length=255)
    reason: str


class UnionTombstone(SQLModel, table=True):
    """A union record that no longer exists (filled by database triggers; see migration 0004)."""

    __tablename__ = "union_tombstone"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    deleted_at: datetime = _when(index=True)
    merged_into: int | None = Field(default=None, description="The union record its members went to")


class IdCounter(SQLModel, table=True):
    """The highest id ever given to a row of a table that gets explicit ids (SQLite only; see
    :func:`catalog.db.allocate_ids`): ids, and so permalinks and OAI identifiers, are never reused."""

    __tablename__ = "id_counter"

    name: str = Field(primary_key=True, max_length=64)
    last_id: int = Field(sa_column=Column(BigInteger, nullable=False))


class UnionRecord(SQLModel, table=True):
    """A cluster of source records that describe the same edition."""

    __tablename__ = "union_record"

    id: int | None = Field(default=None, primary_key=True)
    title: str | None = None
    title_key: str | None = Field(default=None, index=True)
    year: int | None = None
    fields: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    member_count: int = 0
    library_count: int = 0
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)


class UnionKey(SQLModel, table=True):
    """A blocking key of a union record's members, with how many of them hold it: where a new record
    finds its candidate union records without reading their members (migration 0011)."""

    __tablename__ = "union_key"

    kind: str = Field(max_length=16, primary_key=True)
    value: str = Field(max_length=255, primary_key=True)
    union_record_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("union_record.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )
    members: int = 1


class UnionState(SQLModel, table=True):
    """What deduplication keeps of a union record to decide and merge a new member against it alone:
    its classes of members, libraries and merge tags (catalog.dedup.state); written when first needed."""

    __tablename__ = "union_state"

    union_record_id: int = Field(
        sa_column=Column(Integer, ForeignKey("union_record.id", ondelete="CASCADE"), primary_key=True)
    )
    state: str = Field(sa_column=Column(Text, nullable=False))


class SourceRecord(SQLModel, table=True):
    """One bibliographic record exactly as a member library sent it, with the fields extracted from it."""

    __tablename__ = "source_record"
    __table_args__ = (
        UniqueConstraint("library_id", "local_id", name="uq_source_record_library_local_id"),
        # Partial: most rows have neither a union record (before deduplication) nor an OAI
        # identifier (read from a file), and no query looks for an empty one (migration 0009).
        # With the status and library: a union record's members are counted from the index alone.
        Index(
            "ix_source_record_union_record_id",
            "union_record_id",
            "status",
            "library_id",
            sqlite_where=text("union_record_id IS NOT NULL"),
            postgresql_where=text("union_record_id IS NOT NULL"),
        ),
        Index(
            "ix_source_record_library_oai",
            "library_id",
            "oai_identifier",
            sqlite_where=text("oai_identifier IS NOT NULL"),
            postgresql_where=text("oai_identifier IS NOT NULL"),
        ),
        Index("ix_source_record_changed_at", "changed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    library_id: int = Field(sa_column=Column(Integer, ForeignKey("library.id"), nullable=False))
    local_id: str = Field(max_length=255)
    oai_identifier: str | None = Field(default=None, max_length=255, description="As harvested over OAI-PMH")
    raw_format: str = Field(max_length=16, description="iso2709, marcxml or marcjson")
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    checksum: str = Field(max_length=64)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    title: str | None = None
    title_key: str | None = None  # not indexed: union records are looked up by theirs (migration 0008)
    year: int | None = None
    material_type: str | None = Field(default=None, max_length=32)
    warnings: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(default=RecordStatus.ACTIVE, max_length=16)
    deleted_at: datetime | None = _when(default=None)
    changed_at: datetime | None = _when(default=None, description="Added, changed or deleted (OAI datestamp)")
    first_seen: datetime = _when(default_factory=utcnow)
    last_seen: datetime = _when(default_factory=utcnow)
    job_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("ingest_job.id"), nullable=True)
    )
    last_job_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("ingest_job.id"), nullable=True)
    )
    union_record_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("union_record.id", ondelete="SET NULL"), nullable=True),
    )


class RecordKey(SQLModel, table=True):
    """An identifier or match key of a source record (ISBN, ISSN, LCCN, OCLC, title key ...)."""

    __tablename__ = "record_key"
    __table_args__ = (
        Index(
            "ix_record_key_identifier",
            "kind",
            "value",
            sqlite_where=text(IDENTIFIER_KEYS),
            postgresql_where=text(IDENTIFIER_KEYS),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_record_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("source_record.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    kind: str = Field(max_length=16)
    value: str = Field(max_length=255)


class Holding(SQLModel, table=True):
    """An item or a holding of a library for one of its source records."""

    __tablename__ = "holding"
    # With the library and copies: a union record's holdings are summed from the index alone.
    __table_args__ = (Index("ix_holding_source_record_id", "source_record_id", "library_id", "copies"),)

    id: int | None = Field(default=None, primary_key=True)
    library_id: int = Field(sa_column=Column(Integer, ForeignKey("library.id"), nullable=False, index=True))
    source_record_id: int = Field(
        sa_column=Column(Integer, ForeignKey("source_record.id", ondelete="CASCADE"), nullable=False)
    )
    call_number: str | None = Field(default=None, max_length=255)
    location: str | None = Field(default=None, max_length=255, description="branch")
    sublocation: str | None = Field(default=None, max_length=255, description="shelving location")
    barcode: str | None = Field(default=None, max_length=255)
    copies: int | None = None
    item_type: str | None = Field(default=None, max_length=100)
    status: str | None = Field(default=None, max_length=64)


class MatchDecision(SQLModel, table=True):
    """A stored decision that two source records describe (or do not describe) the same edition."""

    __tablename__ = "match_decision"
    __table_args__ = (UniqueConstraint("record_a_id", "record_b_id", name="uq_match_decision_pair"),)

    id: int | None = Field(default=None, primary_key=True)
    record_a_id: int = Field(  # found by the pair's unique index, which leads with it
        sa_column=Column(Integer, ForeignKey("source_record.id", ondelete="CASCADE"), nullable=False)
    )
    record_b_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("source_record.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    accepted: bool
    rule: str = Field(max_length=64)
    reason: str
    decided_at: datetime = _when(default_factory=utcnow)


class ManualDecision(SQLModel, table=True):
    """A librarian's correction of union records, which wins over the rules (catalog.dedup.manual):
    ``split`` keeps side_a's one record apart from side_b (its union record's other members then),
    ``merge`` puts side_a and side_b in one union record, ``never`` keeps them apart. Sides are lists
    of [library code, local id], so that a decision survives re-ingest and rebuild (migration 0017)."""

    __tablename__ = "manual_decision"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=16)
    side_a: list[list[str]] = Field(sa_column=Column(JSON, nullable=False))
    side_b: list[list[str]] = Field(sa_column=Column(JSON, nullable=False))
    decided_by: str = Field(max_length=32, description="a library code, or 'admin'")
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_at: datetime = _when(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A library's API token: only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    library_id: int = Field(sa_column=Column(Integer, ForeignKey("library.id"), nullable=False, index=True))
    name: str = Field(default="", max_length=200)
    prefix: str = Field(max_length=16, description="the first characters, to recognise a token in lists")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = _when(default_factory=utcnow)
    last_used_at: datetime | None = _when(default=None)
    revoked_at: datetime | None = _when(default=None)


class LibrarianSession(SQLModel, table=True):
    """A librarian signed in on the web pages with a library's token: kept in the catalogue (not in
    one server's memory), so that every replica of the service knows it and a restart keeps it. The
    cookie holds the session's id, of which only the SHA-256 is stored; the token behind it is
    checked again at every request, so revoking it ends its sessions."""

    __tablename__ = "librarian_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    token_id: int = Field(
        sa_column=Column(Integer, ForeignKey("api_token.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = _when(default_factory=utcnow)
    expires_at: datetime = _when()


class DigitalAccess(StrEnum):
    """Who may read a digital object's file and the text inside it."""

    OPEN = "open"
    MEMBERS = "members"  # readers of member libraries (a member's token, a signed-in reader, its IP ranges)
    EMBARGO = "embargo"  # nobody but its library and admins until ``embargo_until``, then open


class DigitalStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class TextStatus(StrEnum):
    """Where the extraction of an object's full text stands (done by a worker job)."""

    PENDING = "pending"
    EXTRACTED = "extracted"
    NONE = "none"  # a file without a text layer (a scan: OCR is not done)
    FAILED = "failed"


class DigitalObject(SQLModel, table=True):
    """A file (a thesis, lecture notes, a report ...) that a member library holds for one of its
    records: deposited by the library or harvested from its repository. The bytes live in the
    object storage under ``storage_key`` (content-addressed by SHA-256, so one file is stored once)."""

    __tablename__ = "digital_object"
    __table_args__ = (
        UniqueConstraint("source_record_id", "sha256", name="uq_digital_object_record_sha256"),
        Index("ix_digital_object_library_status", "library_id", "status"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    library_id: int = Field(sa_column=Column(Integer, ForeignKey("library.id"), nullable=False))
    source_record_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("source_record.id", ondelete="SET NULL"), nullable=True, index=True
        ),
        description="The member's record the file belongs to",
    )
    filename: str = Field(max_length=255, description="The file's name as given, cleaned of any path")
    content_type: str = Field(max_length=100)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(max_length=64, index=True)
    storage_key: str = Field(max_length=500)
    label: str | None = Field(default=None, max_length=300, description="e.g. 'Full text', 'Abstract'")
    access: str = Field(default=DigitalAccess.OPEN, max_length=16)
    embargo_until: datetime | None = _when(default=None)
    status: str = Field(default=DigitalStatus.ACTIVE, max_length=16)
    origin: str = Field(default="deposit", max_length=16, description="deposit or harvest")
    origin_url: str | None = Field(
        default=None, max_length=2000, description="Where a harvested file came from"
    )
    text_status: str = Field(default=TextStatus.PENDING, max_length=16)
    text_error: str | None = Field(default=None)
    page_count: int | None = None
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)
    withdrawn_at: datetime | None = _when(default=None)


class DigitalPage(SQLModel, table=True):
    """The text of one page of a digital object, as extracted, normalised with catalog.text."""

    __tablename__ = "digital_page"

    object_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("digital_object.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    page: int = Field(primary_key=True, description="1-based page number")
    text: str = Field(sa_column=Column(Text, nullable=False))


class DigitalUsage(SQLModel, table=True):
    """Views and downloads of an object per month and per requesting member library ('' for readers
    not identified with a member), in the spirit of COUNTER R5 item reports."""

    __tablename__ = "digital_usage"

    object_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("digital_object.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    month: str = Field(primary_key=True, max_length=7, description="YYYY-MM")
    kind: str = Field(primary_key=True, max_length=16, description="view or download")
    requester: str = Field(primary_key=True, max_length=16, description="member library code, or ''")
    count: int = 0


class RepositoryFile(SQLModel, table=True):
    """A file of an item of a library's repository as the last harvest of the item left it: fetched
    (the digital object it became, and what tells a changed file: its size, checksum and ETag),
    failed (the reason; fetched again at the next harvest) or refused (the reason: its content, size
    or address cannot be taken; fetched again only when its item changes)."""

    __tablename__ = "repository_file"
    __table_args__ = (
        Index("ix_repository_file_library_item", "library_id", "item"),
        Index("ix_repository_file_library_status", "library_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    library_id: int = Field(sa_column=Column(Integer, ForeignKey("library.id"), nullable=False))
    item: str = Field(max_length=255, description="The item's OAI identifier (its record's local id)")
    url: str = Field(max_length=2000)
    name: str | None = Field(default=None, max_length=500)
    content_type: str | None = Field(default=None, max_length=100)
    size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    checksum: str | None = Field(default=None, max_length=128, description="As the repository gives it")
    etag: str | None = Field(default=None, max_length=300)
    access: str = Field(default=DigitalAccess.OPEN, max_length=16)
    embargo_until: datetime | None = _when(default=None)
    object_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("digital_object.id", ondelete="SET NULL"), nullable=True),
    )
    status: str = Field(max_length=16, description="fetched, failed (tried again) or refused")
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = 0
    checked_at: datetime = _when(default_factory=utcnow)

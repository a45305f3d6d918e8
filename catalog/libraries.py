"""Member libraries: code rules, creation, lookup and their catalogue counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from catalog import holdings
from catalog.models import Holding, IngestJob, JobStatus, Library, RecordStatus, SourceRecord, utcnow

# ISIL-like: letters and digits in up to four parts joined by '-', 2 to 16 characters, upper case.
_CODE = re.compile(r"^[A-Z0-9]+(?:[-:/][A-Z0-9]+){0,3}$")


class LibraryError(ValueError):
    """A library request that cannot be carried out (bad code, unknown or duplicate library ...)."""


class UnknownLibrary(LibraryError):
    pass


class DuplicateLibrary(LibraryError):
    pass


def normalise_code(code: str) -> str:
    """The canonical form of a library code, or :class:`LibraryError` explaining what is wrong."""
    value = (code or "").strip().upper()
    if not 2 <= len(value) <= 16 or not _CODE.match(value):
        raise LibraryError(
            f"invalid library code {code!r}: use 2-16 letters and digits, parts joined by '-' (e.g. VNU-LIC)"
        )
    return value


_EDITABLE = (
    "name_vi",
    "name_en",
    "region",
    "city",
    "website",
    "opac_url_pattern",
    "contact",
    "active",
    "holdings_profile",
    "holdings_config",
    "oai_base_url",
    "oai_metadata_prefix",
    "oai_set",
    "harvest_interval_hours",
    "repository_url",
    "repository_format",
    "repository_files",
    "repository_set",
    "repository_access",
)
# A library's digital repository (see harvest.repository): the formats of its item descriptions and
# of its items' file lists (the first of each is the default), and the rules its files may get.
REPOSITORY_FORMATS = ("oai_dc", "qdc")
REPOSITORY_FILE_LISTS = ("ore", "mets", "none")
REPOSITORY_ACCESS = ("open", "members")


def _validate(values: dict[str, Any]) -> None:
    if "name_vi" in values and not (values["name_vi"] or "").strip():
        raise LibraryError("a library needs a name")
    if "holdings_profile" in values or "holdings_config" in values:
        try:
            holdings.resolve(values.get("holdings_profile") or holdings.AUTO, values.get("holdings_config"))
        except ValueError as exc:
            raise LibraryError(str(exc)) from None
    pattern = values.get("opac_url_pattern")
    if pattern and "{id}" not in pattern:
        raise LibraryError("the OPAC URL pattern must contain {id}, where the local record id goes")
    for key in ("website", "opac_url_pattern", "oai_base_url", "repository_url"):
        url = values.get(key)
        if url and not url.startswith(("http://", "https://")):
            raise LibraryError(f"{key} must be an http(s) URL")
    for key, allowed in (
        ("repository_format", REPOSITORY_FORMATS),
        ("repository_files", REPOSITORY_FILE_LISTS),
        ("repository_access", REPOSITORY_ACCESS),
    ):
        value = values.get(key)
        if value is not None and value not in allowed:
            raise LibraryError(f"{key} must be one of {', '.join(allowed)}, not {value!r}")


def add_library(session: Session, code: str, name: str, **values: Any) -> Library:
    unknown = set(values) - set(_EDITABLE)
    if unknown:
        raise LibraryError(f"unknown library setting(s): {', '.join(sorted(unknown))}")
    values = {k: v for k, v in values.items() if v is not None}
    values["name_vi"] = name
    _validate(values)
    library = Library(code=normalise_code(code), **values)
    existing = session.scalars(select(Library).where(Library.code == library.code)).first()
    if existing is not None:
        raise DuplicateLibrary(f"library {library.code} already exists")
    session.add(library)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise DuplicateLibrary(f"library {library.code} already exists") from None
    return library


def update_library(session: Session, code: str, **values: Any) -> Library:
    library = get_library(session, code)
    unknown = set(values) - set(_EDITABLE)
    if unknown:
        raise LibraryError(f"unknown library setting(s): {', '.join(sorted(unknown))}")
    merged = {k: getattr(library, k) for k in ("holdings_profile", "holdings_config")} | values
    _validate(merged)
    if values.get("repository_url", library.repository_url) != library.repository_url:
        # another repository: its first harvest reads everything, from its own beginning
        library.repository_last_datestamp = library.repository_resumption_token = None
        library.repository_window_from = library.repository_window_start = None
    for key, value in values.items():
        setattr(library, key, value)
    library.updated_at = utcnow()
    session.add(library)
    session.flush()
    return library


def get_library(session: Session, code: str) -> Library:
    try:
        key = normalise_code(code)
    except LibraryError:
        raise UnknownLibrary(f"unknown library {code!r}") from None
    library = session.scalars(select(Library).where(Library.code == key)).first()
    if library is None:
        raise UnknownLibrary(f"unknown library {key}")
    return library


def list_libraries(session: Session, active_only: bool = False) -> list[Library]:
    query = select(Library).order_by(Library.code)
    if active_only:
        query = query.where(Library.active.is_(True))  # type: ignore[attr-defined]
    return list(session.scalars(query))


@dataclass
class LibraryStats:
    records: int
    deleted: int
    holdings: int
    copies: int
    last_ingest: datetime | None


def library_stats(session: Session, library: Library) -> LibraryStats:
    by_status = dict(
        session.execute(
            select(SourceRecord.status, func.count())
            .where(SourceRecord.library_id == library.id)
            .group_by(SourceRecord.status)
        ).all()
    )
    holding_count, copies = session.execute(
        select(func.count(), func.coalesce(func.sum(func.coalesce(Holding.copies, 1)), 0)).where(
            Holding.library_id == library.id
        )
    ).one()
    last = session.scalar(
        select(func.max(IngestJob.finished_at)).where(
            IngestJob.library_id == library.id, IngestJob.status == JobStatus.SUCCEEDED.value
        )
    )
    return LibraryStats(
        records=by_status.get(RecordStatus.ACTIVE.value, 0),
        deleted=by_status.get(RecordStatus.DELETED.value, 0),
        holdings=holding_count,
        copies=int(copies),
        last_ingest=last,
    )


def library_dict(library: Library, stats: LibraryStats | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": library.code,
        "name_vi": library.name_vi,
        "name_en": library.name_en,
        "region": library.region,
        "city": library.city,
        "website": library.website,
        "opac_url_pattern": library.opac_url_pattern,
        "contact": library.contact,
        "active": library.active,
        "holdings_profile": library.holdings_profile,
        "holdings_config": library.holdings_config,
        "oai_base_url": library.oai_base_url,
        "oai_metadata_prefix": library.oai_metadata_prefix,
        "oai_set": library.oai_set,
        "harvest_interval_hours": library.harvest_interval_hours,
        "last_harvest_datestamp": library.last_harvest_datestamp,
        "harvest_unfinished": library.oai_resumption_token is not None,
        "repository_url": library.repository_url,
        "repository_format": library.repository_format or REPOSITORY_FORMATS[0],
        "repository_files": library.repository_files or REPOSITORY_FILE_LISTS[0],
        "repository_set": library.repository_set,
        "repository_access": library.repository_access or REPOSITORY_ACCESS[0],
        "repository_last_datestamp": library.repository_last_datestamp,
        "repository_harvest_unfinished": library.repository_resumption_token is not None,
    }
    if stats is not None:
        data.update(
            records=stats.records,
            deleted_records=stats.deleted,
            holdings=stats.holdings,
            copies=stats.copies,
            last_ingest=stats.last_ingest.isoformat() if stats.last_ingest else None,
        )
    return data

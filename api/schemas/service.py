"""The service's health and the admin operations' answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Counts(BaseModel):
    libraries: int
    source_records: int
    holdings: int
    union_records: int


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when the search engine does not answer (503)")
    database: str
    search: dict[str, Any]
    counts: Counts


class DatabaseUnreachable(BaseModel):
    status: str = Field(description="unavailable")
    database: str = Field(description="unreachable")
    detail: str

"""Jobs (uploads, harvests, reindex and dedup-rebuild) and what they rejected."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Job(BaseModel):
    job_id: int
    library: str | None
    source: str = Field(description="upload, oai, repository, cli, demo, reindex or dedup-rebuild")
    mode: str
    format: str | None
    filename: str | None
    status: str = Field(description="queued, running, succeeded or failed")
    error: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    read: int
    added: int
    updated: int
    unchanged: int
    deleted: int
    rejected: int
    warnings: int


class JobStatus(Job):
    progress: dict[str, Any] | None = Field(
        description="While it runs, as its worker last wrote it (every few seconds): 'records' read so "
        "far, the byte 'offset' reached in the file (of the decompressed stream when compressed) and "
        "the uploaded 'file_bytes', when known, and 'at', when it was noted"
    )
    rejections_url: str


class Rejection(BaseModel):
    record_number: int | None
    byte_offset: int | None
    local_id: str | None
    reason: str


class Rejections(BaseModel):
    job_id: int
    total: int
    page: int
    per_page: int
    rejections: list[Rejection]


class JobQueued(BaseModel):
    """A job queued for the workers (202): follow it at ``url``."""

    job_id: int
    status: str
    url: str = Field(description="The job, also in the Location header")


class UploadAccepted(JobQueued):
    pass


class HarvestQueued(BaseModel):
    library: str
    queued: bool = Field(description="False: a harvest of the library was already waiting")
    jobs: str

"""Collection analytics: what ``/api/v1/analytics/...`` answers (see catalog.analytics)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Freshness(BaseModel):
    refreshed_at: datetime | None = Field(description="When the figures were last brought up to date")
    pending: bool = Field(description="Changes of a job wait for the next refresh (seconds, usually)")


class MemberTitles(BaseModel):
    code: str
    name: str
    titles: int = Field(description="Union records the member holds")


class OverlapPair(MemberTitles):
    shared: int = Field(description="Union records held by both the member asked for and this one")
    share_of_library: float = Field(description="Percent of the member asked for's titles")
    share_of_other: float = Field(description="Percent of this member's titles")


class Overlap(Freshness):
    library: str | None = Field(description="The member asked for, if any")
    libraries: list[MemberTitles]
    matrix: list[list[int]] = Field(description="matrix[i][j]: titles held by libraries i and j")
    pairs: list[OverlapPair] = Field(description="The member asked for against each other one")


class UniqueCount(MemberTitles):
    unique_titles: int = Field(description="Titles no other member holds")
    unique_share: float = Field(description="Percent of the member's titles")


class UniqueTitle(BaseModel):
    id: int = Field(description="Union record id")
    title: str | None
    year: int | None
    library: str | None = Field(description="The member that alone holds it")


class Unique(Freshness):
    library: str | None
    members: list[UniqueCount]
    titles: list[UniqueTitle] = Field(description="A page of unique titles, in id order")
    next_after: int | None = Field(description="Pass as 'after' for the next page (none: last page)")


class Held(BaseModel):
    libraries: int = Field(description="Number of members holding a title")
    titles: int


class BreakdownEntry(BaseModel):
    value: str = Field(description="'' when unknown")
    label: str
    titles: int
    unique_titles: int = Field(description="Of these, titles held by one member alone")


class Summary(Freshness):
    library: str | None
    titles: int = Field(description="Union records held (by the member asked for, or by any member)")
    unique_titles: int
    min_libraries: int
    held_by_at_least: int = Field(description="Titles held by min_libraries members or more")
    distribution: list[Held]
    breakdowns: dict[str, list[BreakdownEntry]] = Field(
        description="class, language, decade, material_type -> titles per value"
    )


class GrowthMonth(BaseModel):
    month: str = Field(description="YYYY-MM (UTC), the month the jobs ended")
    library: str
    added: int
    updated: int
    deleted: int
    jobs: int


class GrowthTotal(BaseModel):
    month: str
    added: int
    updated: int
    deleted: int
    jobs: int


class Growth(BaseModel):
    library: str | None
    months: list[GrowthMonth]
    totals: list[GrowthTotal]

"""Who holds a record: the libraries, their items and copies."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Item(BaseModel):
    call_number: str | None
    location: str | None
    sublocation: str | None
    barcode: str | None
    copies: int | None
    item_type: str | None
    status: str | None


class HeldBy(BaseModel):
    """One library's holdings of a union record."""

    code: str
    name: str
    name_en: str | None
    region: str | None
    city: str | None
    local_id: str = Field(description="The library's own record id")
    opac_url: str | None = Field(description="The record in the library's catalogue")
    copies: int
    items: list[Item]


class HeldRecord(BaseModel):
    id: int
    title: str | None
    year: int | None
    isbns: list[str]
    libraries: list[HeldBy]
    library_count: int
    copies: int
    match: str = Field(description="'identifier', or 'same work' for another edition")


class LookupQuery(BaseModel):
    kind: str
    value: str = Field(description="The identifier, normalised")


class HoldingsAnswer(BaseModel):
    query: LookupQuery
    records: list[HeldRecord]
    library_count: int

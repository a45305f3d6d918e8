"""Union records and the libraries' own records."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .corrections import CorrectionAnswer
from .digital import DigitalObjectInfo
from .holdings import HeldBy, Item


class MemberLink(BaseModel):
    library: str
    local_id: str
    title: str | None
    url: str = Field(description="The library's record in the API")


class UnionRecordAnswer(BaseModel):
    id: int
    title: str | None
    year: int | None
    fields: dict[str, Any] | None = Field(description="The merged description")
    members: list[MemberLink] = Field(description="The libraries' records merged into it")
    holdings: list[HeldBy]
    digital_objects: list[DigitalObjectInfo] = Field(
        default_factory=list, description="The members' files for it (see /digital/{id})"
    )
    exports: dict[str, str] = Field(description="Format -> where to download the merged MARC record")


class MemberRef(BaseModel):
    library: str
    local_id: str
    title: str | None


class DecisionSide(BaseModel):
    library: str
    local_id: str
    union_record_id: int | None


class Decision(BaseModel):
    a: DecisionSide
    b: DecisionSide
    accepted: bool = Field(description="True: the two records were merged")
    rule: str | None
    reason: str | None
    in_this_union: bool


class Explanation(BaseModel):
    id: int
    title: str | None
    year: int | None
    members: list[MemberRef]
    decisions: list[Decision]
    corrections: list[CorrectionAnswer] = []


class SourceRecordAnswer(BaseModel):
    library: str
    local_id: str
    status: str
    union_record_id: int | None
    raw_format: str
    warnings: list[str]
    first_seen: str
    last_seen: str
    fields: dict[str, Any] | None
    holdings: list[Item]
    opac_url: str | None
    exports: dict[str, str]

"""Bodies and answers of the corrections of union records (split, merge, keep apart, undo)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Note = Annotated[str | None, Field(default=None, max_length=1000, description="Why, for the record")]
Code = Annotated[str, Field(min_length=1, max_length=16, description="library code")]
LocalId = Annotated[str, Field(min_length=1, max_length=255, description="the library's record id")]
UnionId = Annotated[int, Field(ge=1, le=2_147_483_647, description="union record id")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitBody(_Body):
    """Take a library's record out of its union record."""

    library: Code
    local_id: LocalId
    note: Note = None


class MergeBody(_Body):
    """Put every member of two union records in one."""

    union_ids: Annotated[
        list[UnionId], Field(min_length=2, max_length=2, json_schema_extra={"uniqueItems": True})
    ]
    note: Note = None


class UnionTarget(_Body):
    """A union record, by its id."""

    union_id: UnionId

    def as_target(self) -> int | tuple[str, str]:
        return self.union_id


class RecordTarget(_Body):
    """A library's record, by the library's code and its local id."""

    library: Code
    local_id: LocalId

    def as_target(self) -> int | tuple[str, str]:
        return (self.library, self.local_id)


# Either kind, told apart by its fields (the schema says so too: one of the two objects).
Target = UnionTarget | RecordTarget


class KeepApartBody(_Body):
    """Never merge these two."""

    a: Target
    b: Target
    note: Note = None


class CorrectionAnswer(BaseModel):
    id: int
    action: str = Field(description="split, merge or never")
    side_a: list[list[str]] = Field(description="[library code, local id] of each record")
    side_b: list[list[str]]
    decided_by: str = Field(description="library code, or admin")
    note: str | None
    decided_at: str
    label: str = Field(description='as explanations show it: "manual: split by VNU-LIC on 2026-12-07"')


class CorrectionOutcome(BaseModel):
    decision: CorrectionAnswer
    undone: bool
    union_records: list[int] = Field(description="where the records it names are now")
    union_records_changed: list[int]


class CorrectionList(BaseModel):
    decisions: list[CorrectionAnswer]

"""The digital library's objects, their changes and their pages of a list."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DigitalObjectInfo(BaseModel):
    id: int
    library: str = Field(description="The member library that holds it")
    record: str | None = Field(description="The local id of the library's record it belongs to")
    filename: str
    label: str | None
    content_type: str
    size: int = Field(description="Bytes")
    sha256: str
    pages: int | None
    access: str = Field(description="open, members or embargo")
    rule: str = Field(description="The rule as written: open, members or embargo:YYYY-MM-DD")
    embargo_until: str | None
    access_now: str = Field(description="The rule in force now: an embargo that has ended is open")
    status: str = Field(description="active or withdrawn")
    origin: str
    text_status: str
    created_at: datetime
    updated_at: datetime
    readable: bool = Field(description="Whether the caller may read the file")
    file_url: str
    reader_url: str


class Deposited(DigitalObjectInfo):
    new: bool = Field(description="False when the same file was already attached to the record")
    text_job: int | None = Field(description="The queued job extracting its full text")


class DigitalPage(BaseModel):
    total: int
    page: int
    per_page: int
    objects: list[DigitalObjectInfo]


# A rule as written: open, members, or an embargo until a date of the Gregorian calendar (a day the
# month has not, as 2027-02-30, passes this and is refused by the date's own check).
ACCESS_RULE = r"^(open|members|embargo:\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))$"
MONTH = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"


class DigitalChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access: str | None = Field(
        default=None,
        max_length=40,
        pattern=ACCESS_RULE,
        description="open, members or embargo:YYYY-MM-DD",
        examples=["members"],
    )
    label: str | None = Field(default=None, max_length=300)


class UsageRow(BaseModel):
    """One line of the usage report (a COUNTER R5 item report's line, one month per line)."""

    Item_ID: int = Field(description="The digital object's id")
    Item: str = Field(description="The title of its record")
    Publisher: str = Field(description="The member library holding it")
    Member: str = Field(description="The requesting member library ('' for other readers)")
    Month: str = Field(description="YYYY-MM")
    Metric_Type: str = Field(
        description="Total_Item_Investigations, Unique_Item_Investigations, Total_Item_Requests or "
        "Unique_Item_Requests"
    )
    Count: int

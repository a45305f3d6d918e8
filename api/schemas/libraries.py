"""Member libraries: what an admin sends to add or change one, and what the API answers."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from catalog.holdings import AUTO, HoldingsProfile, profile_names

HTTP_URL = r"^$|^https?://"  # an http(s) URL, or empty (none)
# The settings of a holdings profile a library may override.
OVERRIDABLE = [f.name for f in fields(HoldingsProfile) if f.name not in ("name", "description")]


class LibraryChange(BaseModel):
    """A library's settings an admin may change (the fields left out stay as they are)."""

    model_config = ConfigDict(extra="forbid")

    name_vi: StrictStr | None = Field(None, max_length=300, pattern=r"\S", description="Name in Vietnamese")
    name_en: StrictStr | None = Field(None, max_length=300)
    region: StrictStr | None = Field(None, max_length=100)
    city: StrictStr | None = Field(None, max_length=100)
    website: StrictStr | None = Field(None, max_length=500, pattern=HTTP_URL)
    opac_url_pattern: StrictStr | None = Field(
        None,
        max_length=500,
        pattern=r"^$|^https?://[\s\S]*\{id\}",
        description="Link to a local record; {id} is replaced by its local id",
    )
    contact: StrictStr | None = Field(None, max_length=300)
    active: StrictBool | None = None
    holdings_profile: StrictStr | None = Field(
        None,
        max_length=32,
        description="Named holdings mapping",
        json_schema_extra={"enum": [*profile_names(), AUTO, "", None]},
    )
    holdings_config: dict[str, Any] | None = Field(
        None,
        description="Overrides of the named profile (not of 'auto')",
        json_schema_extra={"propertyNames": {"enum": OVERRIDABLE}},
    )
    oai_base_url: StrictStr | None = Field(None, max_length=500, pattern=HTTP_URL)
    oai_metadata_prefix: StrictStr | None = Field(None, max_length=64)
    oai_set: StrictStr | None = Field(None, max_length=200)
    harvest_interval_hours: StrictInt | None = Field(
        None, ge=1, le=24 * 366, description="Hours between harvests (at most a year)"
    )
    repository_url: StrictStr | None = Field(
        None,
        max_length=500,
        pattern=r"^https?://[^\s/?#]+[^\s]*$",
        description="OAI-PMH base URL of the library's digital repository (DSpace ...)",
    )
    repository_format: Literal["oai_dc", "qdc"] | None = Field(
        None, description="Format of the items' descriptions (default oai_dc)"
    )
    repository_files: Literal["ore", "mets", "none"] | None = Field(
        None, description="Where the items' files are listed (default ore; none: descriptions only)"
    )
    repository_set: StrictStr | None = Field(None, max_length=200)
    repository_access: Literal["open", "members"] | None = Field(
        None, description="Access rule of harvested files where the item says none (default open)"
    )

    def values(self) -> dict[str, Any]:
        """The settings the request gave (null included: it clears a setting)."""
        return self.model_dump(exclude_unset=True)


class LibraryCreate(LibraryChange):
    """A new member library: its code and its name, and any of its settings."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [  # a name, under either spelling
                {"required": ["name_vi"], "properties": {"name_vi": {"type": "string"}}},
                {"required": ["name"], "properties": {"name": {"type": "string"}}},
            ]
        },
    )

    code: StrictStr = Field(
        min_length=2,
        max_length=16,
        pattern=r"^[A-Za-z0-9]+(?:[-:/][A-Za-z0-9]+){0,3}$",
        description="ISIL-like code, e.g. VNU-LIC",
    )
    name: StrictStr | None = Field(
        None, max_length=300, pattern=r"\S", description="Another spelling of name_vi"
    )

    @model_validator(mode="after")
    def _named(self) -> LibraryCreate:
        if not (self.name_vi or self.name):
            raise ValueError("a library needs 'code' and 'name_vi'")
        return self


class LibraryFields(BaseModel):
    code: str
    name_vi: str
    name_en: str | None
    region: str | None
    city: str | None
    website: str | None
    opac_url_pattern: str | None
    contact: str | None
    active: bool
    holdings_profile: str
    oai_base_url: str | None
    oai_metadata_prefix: str | None
    oai_set: str | None
    harvest_interval_hours: int | None
    last_harvest_datestamp: str | None = Field(description="Start of the last complete harvest")
    harvest_unfinished: bool = Field(description="An interrupted harvest will go on where it stopped")
    repository_url: str | None = None
    repository_format: str = "oai_dc"
    repository_files: str = "ore"
    repository_set: str | None = None
    repository_access: str = "open"
    repository_last_datestamp: str | None = Field(
        None, description="Start of the last complete harvest of it"
    )
    repository_harvest_unfinished: bool = False


class LibrarySettings(LibraryFields):
    """A library with every setting (admin answers)."""

    holdings_config: dict[str, Any] | None


class LibraryInfo(LibraryFields):
    """A library with its catalogue counts."""

    records: int = Field(description="Active records")
    deleted_records: int
    holdings: int
    copies: int
    last_ingest: str | None = Field(description="When its last successful job finished")


class Token(BaseModel):
    id: int
    library: str
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart")
    created_at: str | None
    last_used_at: str | None = Field(
        description="When the token was last used (kept to within a few minutes); null: never"
    )
    revoked: bool


class NewToken(Token):
    token: str = Field(description="The token itself: shown in this answer only")

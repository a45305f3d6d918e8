"""The answer of a search."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HitLibrary(BaseModel):
    code: str
    name: str | None = Field(description="The library's Vietnamese name")
    copies: int | None


class FulltextPage(BaseModel):
    object: int = Field(description="The digital object (file) the page is in")
    page: int = Field(description="The page's number, from 1")
    snippet: str = Field(
        description="HTML: words of the page around the match, escaped, matched words in <mark>"
    )


class SearchHit(BaseModel):
    id: int
    title: str | None
    authors: list[str]
    year: int | None
    material_type: str | None
    isbns: list[str]
    libraries: list[HitLibrary] = Field(description="The libraries that hold it")
    library_count: int
    copies: int
    has_digital: bool
    highlight: dict[str, str] = Field(description="HTML of the title and authors, matched words in <mark>")
    url: str = Field(description="The union record in the API")
    fulltext: list[FulltextPage] = Field(
        default_factory=list,
        description="The best pages of its files (those the requester may read) holding the words",
    )


class FacetValue(BaseModel):
    value: str
    count: int
    label: str = Field(description="The value's name for display, in the language asked for")


class SearchAnswer(BaseModel):
    total: int
    facets_exact: bool = Field(description="False: a broad query's counts estimated from a sample")
    query_shortened: bool = Field(
        description="True: the query was longer than the engines search, and its start was searched"
    )
    did_you_mean: str | None = Field(
        description="The corrected query (typos, Telex or VNI keys repaired), when the words as typed "
        "find almost nothing"
    )
    page: int
    per_page: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]] = Field(description="Per facet, its most frequent values")

"""A search as a front end asks it (the API's query string, the search page, the ``search`` command):
one model, validated the same everywhere, and one way to turn it into a
:class:`~catalog.search.query.SearchQuery`. Its facet filters come from the facet registry
(catalog.search.facets): a facet declared there is a query parameter here."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from catalog.digital.access import ANONYMOUS, Reader
from catalog.search.facets import FILTERS, Facet, Kind
from catalog.search.query import (
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY_INPUT,
    MAX_QUERY_LENGTH,
    SORTS,
    SearchQuery,
    shorten,
)

MAX_VALUES = 20  # values of one facet in one search
MAX_DECADE = 9990


class SearchBase(BaseModel):
    """What every search asks besides its facet filters."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field(
        "",
        max_length=MAX_QUERY_INPUT,
        description='Words, "phrases", or an ISBN/ISSN; a query longer than '
        f"{MAX_QUERY_LENGTH} characters is searched by its first {MAX_QUERY_LENGTH}",
    )
    year_from: int | None = Field(None, ge=0, le=9999)
    year_to: int | None = Field(None, ge=0, le=9999)
    sort: str = Field(
        "relevance", description=f"One of: {', '.join(SORTS)}", json_schema_extra={"enum": list(SORTS)}
    )
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)
    facets: bool = Field(True, description="Count the facets' values")
    fulltext: bool = Field(
        True,
        description="Also find records by words inside their files (the pages the requester may read); "
        "false: by their description only",
    )

    @field_validator("sort")
    @classmethod
    def _known_sort(cls, value: str) -> str:
        if value not in SORTS:
            raise ValueError(f"unknown sort {value!r}; use one of: {', '.join(SORTS)}")
        return value

    @property
    def shortened(self) -> bool:
        """Whether the query is searched by its start only (see :func:`catalog.search.query.shorten`)."""
        return len(self.q) > MAX_QUERY_LENGTH

    def to_query(self, facet_limit: int = 20, reader: Reader = ANONYMOUS) -> SearchQuery:
        """The search the engines answer, for ``reader`` (whose files' text it may search)."""
        chosen: dict[str, Any] = {}
        for facet in FILTERS:
            value = getattr(self, facet.name)
            if facet.name == "library":  # library codes are upper case, whatever was typed
                value = [code.upper() for code in value]
            chosen[facet.query_field] = value
        return SearchQuery(
            q=shorten(self.q),
            year_from=self.year_from,
            year_to=self.year_to,
            sort=self.sort,
            page=self.page,
            per_page=self.per_page,
            facets=self.facets,
            facet_limit=facet_limit,
            fulltext=self.fulltext,
            reader=reader,
            **chosen,
        )


def _parameter(facet: Facet) -> tuple[Any, Any]:
    """The type and default of a facet's query parameter."""
    described = facet.description or f"Values of the {facet.name} facet (any of them)"
    if facet.kind is Kind.BOOLEAN:
        return bool | None, Field(None, description=described)
    item: Any = Annotated[int, Field(ge=0, le=MAX_DECADE)] if facet.kind is Kind.INTEGER else str
    return list[item], Field(default_factory=list, max_length=MAX_VALUES, description=described)


SearchParams: type[SearchBase] = create_model(  # type: ignore[call-overload]
    "SearchParams",
    __base__=SearchBase,
    __doc__="A search: words, facet filters, sort and page.",
    **{facet.name: _parameter(facet) for facet in FILTERS},
)


def problem_text(exc: ValidationError) -> str:
    """A validation error as one line for a person: the message of a rule of ours as it is, others
    with the parameter they are about."""
    parts = []
    for error in exc.errors():
        if error["type"] == "value_error":
            parts.append(str(error["ctx"]["error"]))
        else:
            parts.append(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}")
    return "; ".join(parts)

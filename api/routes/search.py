"""Searching every member library at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from catalog.search.errors import QueryError, SearchUnavailable

from ..deps import API, NamesDep, SearchDep
from ..digital_readers import ReaderDep
from ..labels import facet_value_label
from ..problems import Problem, errors
from ..schemas.search import SearchAnswer
from ..search_params import SearchParams

router = APIRouter(prefix=API, tags=["search"])


@router.get("/search", response_model=SearchAnswer, responses=errors(422, 503))
def search(
    params: Annotated[SearchParams, Query()],  # type: ignore[valid-type]
    engine: SearchDep,
    names: NamesDep,
    reader: ReaderDep,
    lang: Annotated[
        str, Query(pattern="^(vi|en)$", description="Language of the facet values' labels")
    ] = "vi",
) -> dict[str, Any]:
    """Search every member library at once; each hit names the libraries that hold it. Each facet
    value has a label for display (a language's name for its code, a library's name, ...). Records
    are found by words inside their files too (``fulltext=false``: not); the text searched is
    that of the files the caller may read (see the digital library's access rules)."""
    try:
        result = engine.search(params.to_query(reader=reader))
    except QueryError as exc:
        raise Problem(422, str(exc)) from None
    except SearchUnavailable as exc:
        raise Problem(503, str(exc)) from None
    data = result.as_dict()
    data["query_shortened"] = params.shortened
    for hit in data["hits"]:
        hit["libraries"] = [
            {"code": code, "name": names.get(code), "copies": hit["holdings"].get(code)}
            for code in hit["libraries"]
        ]
        del hit["holdings"]
        hit["url"] = f"{API}/records/{hit['id']}"
    for facet, values in data["facets"].items():
        for value in values:
            value["label"] = facet_value_label(facet, value["value"], lang, names)
    return data

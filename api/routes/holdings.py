"""Who holds this? By ISBN, ISSN, LCCN, OCLC number or union record id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from catalog.lookup import InvalidIdentifier, lookup

from ..deps import API, MAX_ID, EngineDep
from ..problems import Problem, errors
from ..schemas.holdings import HoldingsAnswer

router = APIRouter(prefix=API, tags=["holdings"])


@router.get("/holdings", response_model=HoldingsAnswer, responses=errors(422))
def holdings(
    catalogue: EngineDep,
    isbn: Annotated[str | None, Query(max_length=40)] = None,
    issn: Annotated[str | None, Query(max_length=20)] = None,
    lccn: Annotated[str | None, Query(max_length=40)] = None,
    oclc: Annotated[str | None, Query(max_length=40)] = None,
    id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="union record id")] = None,
    library: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
    region: Annotated[str | None, Query(max_length=100)] = None,
    all_editions: bool = False,
) -> JSONResponse:
    """Who holds this? By ISBN (10 or 13, hyphens allowed), ISSN, LCCN, OCLC number or union record id
    (several: the records every one of them leads to); optionally only some libraries or a region, and
    widened to every edition of the work.

    It runs in the thread pool, never on the event loop: a database call that waits (a connection
    of a busy pool, a lock) must not hold up every other request. (The answer is written as the
    lookup returns it, without its validation against the model.)"""
    given = [
        (k, v)
        for k, v in (("isbn", isbn), ("issn", issn), ("lccn", lccn), ("oclc", oclc), ("id", id))
        if v is not None
    ]
    if not given:
        raise Problem(422, "give one of isbn, issn, lccn, oclc or id")
    try:
        with catalogue.connect() as conn:
            answers = [
                lookup(
                    conn,
                    kind,
                    str(value),
                    libraries=library or None,
                    region=region,
                    all_editions=all_editions,
                )
                for kind, value in given
            ]
    except InvalidIdentifier as exc:
        raise Problem(422, str(exc)) from None
    found = answers[0]
    if len(answers) > 1:  # the records that every identifier given leads to
        common = set.intersection(*({record["id"] for record in a["records"]} for a in answers))
        found["records"] = [record for record in found["records"] if record["id"] in common]
        found["library_count"] = len({lib["code"] for r in found["records"] for lib in r["libraries"]})
    return JSONResponse(found)

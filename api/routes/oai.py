"""The OAI-PMH 2.0 provider's endpoint (the protocol itself is in api/oai_provider.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from ..oai_provider import Provider
from ..problems import Problem, errors

router = APIRouter(tags=["oai-pmh"])
XML = "text/xml; charset=utf-8"


def get_provider(request: Request) -> Provider:
    return request.app.state.oai  # type: ignore[no-any-return]


ProviderDep = Annotated[Provider, Depends(get_provider)]


def base_url(request: Request) -> str:
    return str(request.url.replace(query=None, fragment=None))


@router.get(
    "/oai",
    response_class=Response,
    summary="OAI-PMH 2.0 provider",
    responses={200: {"content": {XML: {}}, "description": "An OAI-PMH response (errors included)"}},
)
def oai_get(
    request: Request,
    provider: ProviderDep,
    verb: str | None = Query(default=None, description="Identify, ListRecords, GetRecord ..."),
    metadataPrefix: str | None = Query(default=None, description="marc21 or oai_dc"),
    identifier: str | None = Query(default=None),
    set: str | None = Query(default=None, description="union, source or source:<library>"),
    from_: str | None = Query(default=None, alias="from"),
    until: str | None = Query(default=None),
    resumptionToken: str | None = Query(default=None),
) -> Response:
    """The union catalogue over OAI-PMH 2.0 (see Identify and ListSets). Errors are OAI-PMH error
    elements in a 200 response, as the protocol wants."""
    body = provider.respond(base_url(request), request.query_params.multi_items())
    return Response(body, media_type=XML)


_FORM = {
    "requestBody": {
        "description": "The OAI-PMH arguments as a form (the protocol allows GET and POST alike)",
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        name: {"type": "string"}
                        for name in (
                            "verb",
                            "metadataPrefix",
                            "identifier",
                            "set",
                            "from",
                            "until",
                            "resumptionToken",
                        )
                    },
                }
            }
        },
    }
}


@router.post(
    "/oai",
    response_class=Response,
    summary="OAI-PMH 2.0 provider (arguments as a form)",
    responses={
        200: {"content": {XML: {}}, "description": "An OAI-PMH response (errors included)"},
        **errors(422),
    },
    openapi_extra=_FORM,
)
async def oai_post(request: Request, provider: ProviderDep) -> Response:
    """The same as GET, with the arguments in a form body (422: a body that is not a form)."""
    try:
        form = await request.form()
    except (HTTPException, ValueError) as exc:  # a broken multipart body, say
        raise Problem(422, f"the body is not a readable form: {getattr(exc, 'detail', exc)}") from None
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    body = await run_in_threadpool(provider.respond, base_url(request), pairs)
    return Response(body, media_type=XML)

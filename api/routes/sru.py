"""The SRU server's endpoint, ``/sru`` (the protocol itself is in api/sru/)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..sru.server import SruServer

router = APIRouter(tags=["sru"])
XML = "text/xml; charset=utf-8"


def get_server(request: Request) -> SruServer:
    server = getattr(request.app.state, "sru", None)
    if server is None:  # made on first use: the app's catalogue, search engine and settings
        state = request.app.state
        server = state.sru = SruServer(state.engine, state.search, state.settings)
    return server  # type: ignore[no-any-return]


ServerDep = Annotated[SruServer, Depends(get_server)]


def base_url(request: Request) -> str:
    return str(request.url.replace(query=None, fragment=None))


@router.get(
    "/sru",
    response_class=Response,
    summary="SRU 1.1, 1.2 and 2.0 server (searchRetrieve, explain) for copy cataloguing",
    responses={200: {"content": {XML: {}}, "description": "An SRU response (diagnostics included)"}},
)
def sru_get(request: Request, server: ServerDep) -> Response:
    """The union catalogue over SRU: CQL queries on dc.title, dc.creator, dc.subject, dc.date,
    dc.publisher, bath.isbn, bath.issn, bath.lccn, rec.id and cql.serverChoice; records in MARCXML
    (copy-safe) or Dublin Core. Without parameters: the explain record. Errors are SRU diagnostics
    in a 200 response, as the protocol wants."""
    return Response(server.respond(base_url(request), request.query_params.multi_items()), media_type=XML)


@router.get("/sru/", include_in_schema=False)
def sru_get_slash(request: Request, server: ServerDep) -> Response:
    return sru_get(request, server)


@router.post(
    "/sru",
    response_class=Response,
    summary="SRU over HTTP POST (a form of the same parameters as GET)",
    responses={200: {"content": {XML: {}}, "description": "An SRU response (diagnostics included)"}},
)
async def sru_post(request: Request, server: ServerDep) -> Response:
    """The same as GET ``/sru`` with its parameters in an ``application/x-www-form-urlencoded``
    body, as SRU 1.2 and 2.0 allow; SRW's SOAP envelopes are answered with a diagnostic."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
        return Response(server.refuse_soap(), media_type=XML)  # SRW's SOAP envelopes, or other bodies
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    body = await run_in_threadpool(server.respond, base_url(request), pairs)
    return Response(body, media_type=XML)

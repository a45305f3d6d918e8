"""The interactive API docs (Swagger UI) with every file served by the API itself: its script,
style sheet and icon come from the fastapi-offline package, so the docs work offline and on closed
networks, and no page of the service loads anything from another host."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from ..deps import API
from ..problems import Problem
from ..security import docs_page

ASSETS = Path(str(files("fastapi_offline") / "static"))
ASSET_PATH = f"{API}/docs/assets"
# The files the docs page loads, by the name it asks them with; nothing else is served from there.
SERVED = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
CACHE = "public, max-age=86400"

router = APIRouter(include_in_schema=False)


@router.get(f"{API}/docs")
def docs(request: Request) -> HTMLResponse:
    return docs_page(f"{API}/openapi.json", f"{request.app.title} API", ASSET_PATH)


@router.get(f"{ASSET_PATH}/{{name}}")
def asset(name: str) -> FileResponse:
    if name not in SERVED:
        raise Problem(404, f"no docs asset {name[:60]!r}")
    return FileResponse(ASSETS / name, media_type=SERVED[name], headers={"cache-control": CACHE})

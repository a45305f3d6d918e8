"""Security headers on every response: a Content-Security-Policy that runs no inline script (only
inline code whose hash is listed: the pages' own style sheet, the API docs' start-up script; every
script, style sheet and image comes from the service itself),
``frame-ancestors 'none'``, ``X-Content-Type-Options: nosniff`` and a Referrer-Policy.

Hashes are computed from the templates' and the docs' sources, never from a rendered page, so text
a record brings into a page can never be allowed by them."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TEMPLATES = Path(__file__).parent / "templates"
_INLINE = {tag: re.compile(rf"<{tag}>(.*?)</{tag}>", re.DOTALL) for tag in ("script", "style")}
COMMON = "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
# Answers that are not pages (JSON, XML, files): nothing in them may run or be framed.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}


def inline_hashes(source: str, tag: str) -> list[str]:
    """The CSP hash sources of every inline ``<tag>`` block (without attributes) of ``source``."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE[tag].findall(source)
    ]


def _page_policy() -> str:
    sources = "".join(path.read_text(encoding="utf-8") for path in sorted(TEMPLATES.glob("*.html")))
    styles = " ".join(inline_hashes(sources, "style"))
    scripts = " ".join(inline_hashes(sources, "script")) or "'none'"
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' {styles}; img-src 'self' data:; {COMMON}"
    )


PAGE_POLICY = _page_policy()


def docs_page(openapi_url: str, title: str, assets: str) -> HTMLResponse:
    """The interactive API docs, their files under ``assets`` on this service, with a policy that
    allows their own start-up script and this service's files only."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon.png",
        swagger_ui_parameters={"validatorUrl": None},  # Swagger UI's default sends the API to swagger.io
    )
    scripts = " ".join(inline_hashes(bytes(page.body).decode(), "script"))
    page.headers["content-security-policy"] = (
        f"default-src 'self'; script-src 'self' {scripts}; style-src 'self'; "
        f"img-src 'self' data:; connect-src 'self'; {COMMON}"
    )
    return page


class SecurityHeaders:
    """ASGI middleware: the headers above on every response; an HTML answer without a policy of its
    own gets the pages' policy, any other answer the data one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                if b"content-security-policy" not in present:
                    html = any(
                        name.lower() == b"content-type" and value.startswith(b"text/html")
                        for name, value in headers
                    )
                    policy = PAGE_POLICY if html else DATA_POLICY
                    headers.append((b"content-security-policy", policy.encode()))
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items() if k.encode() not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

"""Which URLs of a record may become links: only http(s) and ftp ones.

A member library's 856 $u is whatever its catalogue held, including ``javascript:`` and ``data:``
URLs that would run script in a reader's browser if they became the target of a link. Every place
that renders a record's URLs as links (the record page, RIS, Dublin Core over OAI-PMH) asks
:func:`linkable`; the others are shown as text, and ingest records a warning for each one
(:func:`link_warnings`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

LINK_SCHEMES = ("http", "https", "ftp")
# A scheme of ours, "://", then no whitespace or control character anywhere (browsers drop tabs and
# newlines inside a URL, which is how "java\tscript:" gets past a naive scheme check).
_LINKABLE = re.compile(rf"(?:{'|'.join(LINK_SCHEMES)})://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)


def linkable(url: object) -> bool:
    """Whether ``url`` may be the target of a link: an http(s) or ftp URL with nothing odd in it."""
    return isinstance(url, str) and _LINKABLE.fullmatch(url) is not None


def link_warnings(links: Iterable[dict[str, Any]]) -> list[str]:
    """A warning for each of a record's ``links`` that is shown as text rather than as a link."""
    return [
        f"856 $u is not an http(s) or ftp URL, shown as text only: {str(link.get('url'))[:80]!r}"
        for link in links
        if not linkable(link.get("url"))
    ]


def fields_link_warnings(fields: dict[str, Any], fields_json: str) -> list[str]:
    """:func:`link_warnings` for a record's catalogue ``fields``, or for the JSON of them when the
    compiled mapping read it (its ``fields`` then hold only the core ones)."""
    if "links" in fields:
        return link_warnings(fields["links"] or [])
    if not fields_json or '"links":[]' in fields_json or '"links"' not in fields_json:
        return []
    return link_warnings(orjson.loads(fields_json).get("links") or [])

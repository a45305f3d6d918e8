"""The union record's description: the most complete member's fields, with list fields combined."""

from __future__ import annotations

from typing import Any

COMBINED = (
    "isbns",
    "issns",
    "subjects",
    "links",
    "languages",
    "series",
    "alternate_script",
    "system_numbers",
)
_SCORED = (
    "title", "subtitle", "responsibility", "authors", "edition", "place", "publisher", "year", "extent",
    "subjects", "classification", "series", "summary", "languages", "content_types",
)  # fmt: skip


def completeness(fields: dict[str, Any]) -> int:
    """How good a member is as the union record's face: fields present, ISBN, a title not in capitals."""
    score = sum(2 for key in _SCORED if fields.get(key))
    score += 3 if fields.get("isbns") else 0
    title = fields.get("title") or ""
    score += 2 if title and not title.isupper() else 0
    score += min(len(fields.get("subjects") or []), 5)
    return score


def _key(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_key(v) for v in value)
    return value


def merge(members: list[tuple[tuple[str, str], dict[str, Any]]]) -> dict[str, Any]:
    """Merged fields of a cluster; ``members`` are ((library, local id), fields) pairs.

    The choice depends only on the members' content and their identity (never on which was ingested
    first): the most complete wins, ties go to the smallest (library, local id).
    """
    ordered = sorted(members, key=lambda m: (-completeness(m[1]), m[0]))
    best = dict(ordered[0][1])
    for key in COMBINED:
        seen: set[Any] = set()
        combined = []
        for _ident, fields in ordered:
            for value in fields.get(key) or []:
                marker = _key(value)
                if marker not in seen:
                    seen.add(marker)
                    combined.append(value)
        best[key] = combined
    classification: dict[str, list[str]] = {}
    for _ident, fields in ordered:
        for scheme, values in (fields.get("classification") or {}).items():
            bucket = classification.setdefault(scheme, [])
            bucket.extend(v for v in values if v not in bucket)
    best["classification"] = classification
    return best

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


Rank = list[Any]  # [-completeness, library, local id]: the smaller, the better a face
Tags = dict[str, Any]  # where each combined value comes from; see merge_tagged


def rank(order_key: tuple[str, str], fields: dict[str, Any]) -> Rank:
    """A member's place in the merge: the most complete first, ties to the smallest (library, local id)."""
    return [-completeness(fields), *order_key]


def merge(members: list[tuple[tuple[str, str], dict[str, Any]]]) -> dict[str, Any]:
    """Merged fields of a cluster; ``members`` are ((library, local id), fields) pairs.

    The choice depends only on the members' content and their identity (never on which was ingested
    first): the most complete wins, ties go to the smallest (library, local id).
    """
    return merge_tagged(members)[0]


def merge_tagged(members: list[tuple[tuple[str, str], dict[str, Any]]]) -> tuple[dict[str, Any], Tags]:
    """:func:`merge`, with the tags that let :func:`add_member` take one more member in later.

    A combined value stands where its first holder puts it: members in rank order, each member's
    values in its own order. Its tag is that place, ``rank + [index]``; the combined list is its
    values sorted by tag, so a new member's values find their places without the other members.
    """
    ordered = sorted(members, key=lambda m: rank(m[0], m[1]))
    merged: dict[str, Any] = {}
    tags: Tags = {"face": None, "lists": {}, "classification": {}}
    for order_key, fields in ordered:
        merged, tags = add_member(merged, tags, order_key, fields)
    return merged, tags


def add_member(
    merged: dict[str, Any], tags: Tags, order_key: tuple[str, str], fields: dict[str, Any]
) -> tuple[dict[str, Any], Tags]:
    """The merged fields and tags once the member ``order_key`` with ``fields`` has joined: the same
    as merging all members again, at the cost of this member alone."""
    place = rank(order_key, fields)
    lists = tags["lists"]
    if tags["face"] is None or place < tags["face"]:
        out = dict(fields)  # the new face
        face = place
    else:
        out = dict(merged)
        face = tags["face"]
    new_lists: dict[str, list[Any]] = {}
    for key in COMBINED:
        if not fields.get(key):  # nothing to place: the list and its tags stay as they are
            out[key] = list(merged.get(key) or [])
            new_lists[key] = list(lists.get(key, []))
            continue
        slots = {_key(v): (t, v) for t, v in zip(lists.get(key, []), merged.get(key) or [], strict=True)}
        for index, value in enumerate(fields.get(key) or []):
            marker, tag = _key(value), [*place, index]
            if marker not in slots or tag < slots[marker][0]:
                slots[marker] = (tag, value)
        ordered = sorted(slots.values(), key=lambda s: s[0])
        out[key] = [v for _t, v in ordered]
        new_lists[key] = [t for t, _v in ordered]
    schemes: dict[str, Any] = {
        scheme: [tag, dict(zip(values, value_tags, strict=True))]
        for scheme, (tag, value_tags), values in (
            (s, t, (merged.get("classification") or {}).get(s, [])) for s, t in tags["classification"].items()
        )
    }
    for index, (scheme, values) in enumerate((fields.get("classification") or {}).items()):
        entry = schemes.setdefault(scheme, [[*place, index], {}])
        entry[0] = min(entry[0], [*place, index])
        for position, value in enumerate(values):
            tag = [*place, position]
            if value not in entry[1] or tag < entry[1][value]:
                entry[1][value] = tag
    classification: dict[str, list[str]] = {}
    new_schemes: dict[str, Any] = {}
    for scheme, (tag, held) in sorted(schemes.items(), key=lambda s: s[1][0]):
        values = sorted(held, key=lambda v: held[v])
        classification[scheme] = values
        new_schemes[scheme] = [tag, [held[v] for v in values]]
    out["classification"] = classification
    return out, {"face": face, "lists": new_lists, "classification": new_schemes}

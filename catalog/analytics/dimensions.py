"""What a union record is, for the breakdowns: its subject class, languages, decade and material type.

Language, decade and material type are the search facets of the same name, read through the facet
registry (:mod:`catalog.search.facets`), so that a breakdown counts a title under the values a search
would. The subject class is the one dimension the search does not facet: it is declared here, once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from catalog.search.facets import BY_NAME
from catalog.search.query import decade_of

CLASS = "class"
# The breakdowns, in the order the pages show them: the subject class, then facets of the registry.
FACETS = ("language", "decade", "material_type")
DIMENSIONS: tuple[str, ...] = (CLASS, *FACETS)

_LCC = re.compile(r"\s*([A-Z]{1,3})\s*\d")
_LCC_LETTERS = re.compile(r"\s*([A-Z]{1,3})\b")
_DDC = re.compile(r"\s*(\d)\d\d")


def subject_class(classification: Mapping[str, list[str]] | None) -> str | None:
    """The title's subject class: the main class letter of its first Library of Congress number
    ("QA76.73" -> "LC Q"), else the hundreds of its first Dewey number ("339.5" -> "DDC 300");
    None when it has neither."""
    if not classification:
        return None
    for number in classification.get("lcc") or ():
        found = _LCC.match(number) or _LCC_LETTERS.match(number)
        if found:
            return f"LC {found.group(1)[0]}"
    for number in classification.get("ddc") or ():
        found = _DDC.match(number)
        if found:
            return f"DDC {found.group(1)}00"
    return None


def dimensions_of(fields: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """The values of every breakdown dimension of a union record's merged fields (an empty list:
    none known). A title in two languages counts under both, as in a search's language facet."""
    fields = fields or {}
    doc = {  # the search document's fields these facets read (see catalog.search.rows.document)
        BY_NAME["language"].field: list(fields.get("languages") or []),
        BY_NAME["decade"].field: decade_of(fields.get("year")),
        BY_NAME["material_type"].field: fields.get("material_type"),
    }
    out: dict[str, list[str]] = {}
    found = subject_class(fields.get("classification"))
    out[CLASS] = [found] if found else []
    for name in FACETS:
        out[name] = sorted(set(BY_NAME[name].values_of(doc)))
    return out

"""The catalogue's MARC21 mapping compiled (Rust, through PyO3), for clean UTF-8 ISO 2709 records.

``map_iso2709`` is ``None`` unless the extension has been built (``python -m catalog.native.build``;
``make install`` builds it where cargo and Debian's Rust crates are installed) and
``UNIONCAT_NATIVE`` is not ``0``. Everything works without it: the Python modules
(:mod:`catalog.fast_iso2709`, :mod:`catalog.marc_fields`, :mod:`catalog.text`,
:mod:`catalog.identifiers`) are the reference, and the tests check that both give the same catalogue
fields on every real file and the committed golden outputs. :mod:`catalog.mapping` chooses the path
for each record; nothing else needs to know which one ran.

The compiled mapping holds no table of its own: when it is loaded here it receives
:mod:`catalog.mapping_tables` (``configure``), and the public Python functions it calls for the
text it does not handle itself (:data:`FALLBACKS`). It handles printable ASCII text and Latin text
with diacritics itself (src/text.rs, the same rules as :mod:`catalog.text`): :mod:`catalog.text`
stays the reference for Unicode repairs and Vietnamese folding.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from catalog import identifiers, mapping_tables, marc_fields, text
from catalog.dedup.keys import TITLE_WORDS

# (tag, indicator 1, indicator 2, control field data, subfields as in the record or None)
KeptField = tuple[str, str, str, str, "str | None"]
# (leader, kept fields, JSON of the catalogue fields, CORE_FIELDS of them, match keys, title key)
Mapping = tuple[str, list[KeptField], str, dict[str, Any], list[tuple[str, str]], "str | None"]
MapIso2709 = Callable[[bytes, str], "Mapping | None"]
# (tag, indicator 1, indicator 2, control field data, subfields as (code, value))
GivenField = tuple[str, str, str, str, list[tuple[str, str]]]
MapFields = Callable[[str, list[GivenField]], "Mapping | None"]

# The catalogue fields that catalog.records.prepare reads for a record's title: what the compiled
# mapping hands back as Python objects, with the JSON of all of them and the keys.
CORE_FIELDS = ("title", "subtitle", "sort_title", "year", "material_type")

# What the compiled mapping calls for text it does not handle itself: public functions only.
FALLBACKS: dict[str, Callable[[str], Any]] = {
    "display": text.display,
    "clean": text.clean,
    "fold": text.fold,
    "isbn13": identifiers.isbn13,
    "isbn_candidate": identifiers.isbn_candidate,
    "issn": identifiers.issn,
    "lccn": identifiers.lccn,
    "system_number": identifiers.system_number,
    "pages": marc_fields.pages,
    "year": marc_fields.year,
}


def _module() -> Any:
    """The extension module, configured with the mapping's tables; ``None`` where it is not built
    or ``UNIONCAT_NATIVE=0`` turns it off."""
    if os.environ.get("UNIONCAT_NATIVE", "1") == "0":
        return None
    try:
        from catalog.native import _mapping  # type: ignore[attr-defined]
    except ImportError:
        return None
    if not hasattr(_mapping, "configure"):
        return None  # an extension built from older sources: rebuild it
    configure(_mapping)
    return _mapping


def configure(module: Any) -> None:
    """Hand the mapping's tables (read now from :mod:`catalog.mapping_tables`) to the compiled
    ``module``."""
    module.configure(mapping_tables.compiled_tables(), list(CORE_FIELDS), TITLE_WORDS, FALLBACKS)


_mapping = _module()
# A clean UTF-8 ISO 2709 record, from its bytes.
map_iso2709: MapIso2709 | None = getattr(_mapping, "map_iso2709", None)
# A record read by other means (a MARCXML light record), from its fields; nothing is kept.
map_fields: MapFields | None = getattr(_mapping, "map_fields", None)
# catalog.text's display, clean or fold of a value as the compiled mapping computes it, or None
# where it hands the value to Python; for the tests that compare the two.
TextFunction = Callable[[str, str], "str | None"]
text_function: TextFunction | None = getattr(_mapping, "text_function", None)

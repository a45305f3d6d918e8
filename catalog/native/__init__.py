"""The catalogue's MARC21 mapping compiled (Rust, through PyO3), for clean UTF-8 ISO 2709 records.

``map_iso2709`` is ``None`` unless the extension has been built (``python -m catalog.native.build``;
``make install`` builds it where cargo and Debian's Rust crates are installed) and
``UNIONCAT_NATIVE`` is not ``0``. Everything works without it: the Python modules
(:mod:`harvest.fast_iso2709`, :mod:`catalog.marc_fields`, :mod:`catalog.text`,
:mod:`catalog.identifiers`) are the reference, and the tests check that both give the same catalogue
fields on every real file. The compiled mapping handles printable ASCII text and Latin text with
diacritics itself (src/text.rs, the same rules as :mod:`catalog.text`) and calls the Python
functions for any other text: :mod:`catalog.text` stays the reference for Unicode repairs and
Vietnamese folding.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

# (tag, indicator 1, indicator 2, control field data, subfields as in the record or None)
KeptField = tuple[str, str, str, str, "str | None"]
# (leader, kept fields, JSON of the catalogue fields, catalog.records.CORE_FIELDS of them,
#  match keys, title key)
Mapping = tuple[str, list[KeptField], str, dict[str, Any], list[tuple[str, str]], "str | None"]
MapIso2709 = Callable[[bytes, str], "Mapping | None"]
# (tag, indicator 1, indicator 2, control field data, subfields as (code, value))
GivenField = tuple[str, str, str, str, list[tuple[str, str]]]
MapFields = Callable[[str, list[GivenField]], "Mapping | None"]


def _load(name: str) -> Any:
    if os.environ.get("UNIONCAT_NATIVE", "1") == "0":
        return None
    try:
        from catalog.native import _mapping  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(_mapping, name, None)


# A clean UTF-8 ISO 2709 record, from its bytes.
map_iso2709: MapIso2709 | None = _load("map_iso2709")
# A record read by other means (a MARCXML light record), from its fields; nothing is kept.
map_fields: MapFields | None = _load("map_fields")
# catalog.text's display, clean or fold of a value as the compiled mapping computes it, or None
# where it hands the value to Python; for the tests that compare the two.
TextFunction = Callable[[str, str], "str | None"]
text_function: TextFunction | None = _load("text_function")

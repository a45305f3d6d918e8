"""The MARC21 mapping's tables: plain data, declared once.

The Python mapping (:mod:`catalog.marc_fields`, :mod:`catalog.text`) builds its lookups and patterns
from these values when it is imported, and :mod:`catalog.native` hands the same values to the
compiled mapping when it loads it (:func:`compiled_tables`): neither copies them. A rule change
made here changes both paths, and the golden outputs of the real fixtures (``python -m tests.golden``)
show what it changed.
"""

from __future__ import annotations

from typing import Any

# An electronic resource: a 338 carrier type (folded $a, or the $b code), a 007 starting with the
# carrier code, or a 245 $h medium (folded) that holds ELECTRONIC_MEDIUM.
ONLINE_CARRIER = "online resource"
ONLINE_CARRIER_CODE = "cr"
ELECTRONIC_MEDIUM = "electronic resource"

# Leader/06 (type of record) -> material type. "a" and "t" with a serial bibliographic level
# (leader/07 in SERIAL_LEVELS) are "serial"; an unknown type is a book.
MATERIAL: dict[str, str] = {
    "a": "book",
    "t": "manuscript",
    "c": "score",
    "d": "manuscript score",
    "e": "map",
    "f": "manuscript map",
    "g": "video",
    "i": "audio",
    "j": "music recording",
    "k": "image",
    "m": "computer file",
    "o": "kit",
    "p": "mixed materials",
    "r": "object",
}
DEFAULT_MATERIAL = "book"
SERIAL = "serial"
SERIAL_LEVELS = "bis"  # leader/07: monographic component part, integrating resource, serial
SERIAL_KINDS = ("book", "manuscript")  # the material types a serial level turns into "serial"

# 245 subfields of the title proper.
TITLE_PARTS = "anp"

# Name fields in the order they are listed: (tag, subfields of the name, kind, subfields of roles
# besides $4 relator codes).
NAME_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("100", "abcdq", "person", "e"),
    ("110", "abcdn", "corporate", "e"),
    ("111", "acdenq", "meeting", "j"),
    ("700", "abcdq", "person", "e"),
    ("710", "abcdn", "corporate", "e"),
    ("711", "acdenq", "meeting", "j"),
)

# 008/35-37 codes that name no language.
NO_LANGUAGE = ("zxx", "und", "mul")

# Subject fields in the order they are listed, the subfields left out, and those that are
# subdivisions (joined with " -- ").
SUBJECT_TAGS = ("600", "610", "611", "630", "647", "648", "650", "651", "653", "654", "655", "656", "657")
SUBJECT_SKIP = "0123456789e"
SUBJECT_SUBDIVISIONS = "vxyz"

# Series fields in the order they are listed, with the subfields of their title.
SERIES_FIELDS: tuple[tuple[str, str], ...] = (
    ("830", "anp"),
    ("490", "anp"),
    ("440", "anp"),
    ("800", "atp"),
    ("810", "atp"),
    ("811", "atp"),
)

# 856 second indicator -> kind of link; any other indicator is DEFAULT_LINK_KIND.
LINK_KINDS: dict[str, str] = {"0": "resource", "1": "version", "2": "related"}
DEFAULT_LINK_KIND = "resource"

# The words after a number in 300 $a that make it a page count (any case, a whole word):
# "245 p.", "xii, 300 pages", "15 tr." (Vietnamese trang), "12 S." (German Seiten), "40 leaves".
PAGE_WORDS = ("p", "pages", "page", "pp", "tr", "trang", "s", "str", "leaves", "l")

# ISBD punctuation that closes a subfield and is removed from its value.
ISBD_CLOSERS = "/:;=,"
# Words whose final period belongs to the word (an abbreviation), so it stays; an initial ("J.")
# and an ellipsis keep theirs too. Case sensitive.
KEEP_PERIOD_WORDS = (
    "ed", "eds", "etc", "Co", "Inc", "Ltd", "Jr", "Sr", "St", "vol", "no", "tr", "tp", "nxb", "NXB", "Nxb",
    "TP", "b", "d", "ca", "cm", "p", "pp", "v", "ill",
)  # fmt: skip

# Vietnamese writes the vowel-quality mark (circumflex, breve) before the tone mark: after these
# bases, a quality mark is put first among the marks of its combining class.
QUALITY_BASES = "aeoAEO"
QUALITY_MARKS = "\u0302\u0306"

# Letters that a search key writes otherwise (after case folding), and characters it drops.
FOLD_LETTERS: dict[str, str] = {
    "đ": "d",
    "ð": "d",
    "ø": "o",
    "ł": "l",
    "ı": "i",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ß": "ss",
}
# Dropped inside a word: romanisation's ayn and alif ("Qurʼān" -> "quran") and direction marks.
# Apostrophes are not: they part words as any punctuation does ("d'activité" -> "d activite"),
# the same with or without other diacritics in the text, as Meilisearch's tokenizer parts them.
FOLD_DROPPED = "ʻʼʹʺ\u200e\u200f"


def compiled_tables() -> dict[str, Any]:
    """The tables as the compiled mapping's ``configure`` takes them."""
    return {
        "material": sorted(MATERIAL.items()),
        "default_material": DEFAULT_MATERIAL,
        "serial": SERIAL,
        "serial_levels": SERIAL_LEVELS,
        "serial_kinds": list(SERIAL_KINDS),
        "online_carrier": ONLINE_CARRIER,
        "online_carrier_code": ONLINE_CARRIER_CODE,
        "electronic_medium": ELECTRONIC_MEDIUM,
        "title_parts": TITLE_PARTS,
        "name_fields": list(NAME_FIELDS),
        "no_language": list(NO_LANGUAGE),
        "subject_tags": list(SUBJECT_TAGS),
        "subject_skip": SUBJECT_SKIP,
        "subject_subdivisions": SUBJECT_SUBDIVISIONS,
        "series_fields": list(SERIES_FIELDS),
        "link_kinds": sorted(LINK_KINDS.items()),
        "default_link_kind": DEFAULT_LINK_KIND,
        "page_words": list(PAGE_WORDS),
        "isbd_closers": ISBD_CLOSERS,
        "keep_period_words": list(KEEP_PERIOD_WORDS),
        "quality_bases": QUALITY_BASES,
        "quality_marks": QUALITY_MARKS,
        "fold_letters": sorted(FOLD_LETTERS.items()),
        "fold_dropped": FOLD_DROPPED,
    }

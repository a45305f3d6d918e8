"""Text normalisation, Vietnamese first: one place for display text and for search/match keys.

Two outputs are used everywhere else:

* :func:`display` -- the text as it should be stored and shown: Unicode NFC, combining marks that
  exports detach (``"Nha ̀xuất"``) or put in the wrong order (``"Ché̂"``) repaired, white space tidied.
* :func:`fold` -- the key used to search and match: case-folded, diacritics removed, ``đ`` -> ``d``,
  punctuation (ISBD marks included) turned into single spaces.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

from catalog import mapping_tables as tables

_MARK_CLASS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_HAS_MARK = re.compile(f"[{_MARK_CLASS}]")
# A mark separated from the letter it belongs to by white space: "Nha ̀xuất" -> "Nhà xuất".
_DETACHED_MARKS = re.compile(f"(\\S)([ \\t\\u00a0]+)([{_MARK_CLASS}]+)")
# Marks with nothing before them to sit on.
_ORPHAN_MARKS = re.compile(f"(^|[\\s])[{_MARK_CLASS}]+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Vietnamese writes the vowel-quality mark (circumflex, breve) before the tone mark; both have
# canonical combining class 230, so NFC keeps whatever order the export used and "e + ́ + ̂" stays
# "é̂" instead of "ế". These bases can carry a quality mark in Vietnamese.
_QUALITY_MARKS = frozenset(tables.QUALITY_MARKS)
_QUALITY_BASES = tables.QUALITY_BASES

_FOLD_TABLE = str.maketrans({**tables.FOLD_LETTERS, **dict.fromkeys(tables.FOLD_DROPPED)})
_NON_WORD = re.compile(r"[\W_]+")


# Where a mark order can need repair: a base that takes a quality mark, followed by two or more
# characters that are not ASCII (every combining mark is not ASCII, and no base of that kind is).
_QUALITY_RUN = re.compile(f"[{_QUALITY_BASES}][^\x00-\x7f]{{2,}}")


def _mark_order(marks: str) -> tuple[int, bool]:
    # Stable: canonical class first, then quality marks before the other class-230 marks.
    return unicodedata.combining(marks), marks not in _QUALITY_MARKS


def _reorder_run(found: re.Match[str]) -> str:
    run = found.group()
    end = 1
    while end < len(run) and unicodedata.combining(run[end]):
        end += 1
    if end <= 2:  # fewer than two marks: nothing to order
        return run
    return run[0] + "".join(sorted(run[1:end], key=_mark_order)) + run[end:]


def _reorder_vietnamese_marks(nfd: str) -> str:
    """The marks after each of ``_QUALITY_BASES`` in ``nfd``, the quality mark first. Only the runs
    the pattern finds are looked at: a loop over every character cost most of repair()'s time on
    old records, whose text is full of decomposed marks."""
    return _QUALITY_RUN.sub(_reorder_run, nfd)


def repair(text: str) -> str:
    """Unicode NFC with detached and mis-ordered combining marks repaired. Idempotent."""
    if text.isascii():
        return text
    nfc = unicodedata.normalize("NFC", text)
    if not _HAS_MARK.search(nfc):
        return nfc
    fixed = _DETACHED_MARKS.sub(r"\1\3\2", nfc)
    fixed = _ORPHAN_MARKS.sub(r"\1", fixed)
    fixed = _reorder_vietnamese_marks(unicodedata.normalize("NFD", fixed))
    return unicodedata.normalize("NFC", fixed)


def display(text: str | None) -> str:
    """Text for storage and display: repaired NFC, no control characters, single spaces, trimmed."""
    if not text:
        return ""
    if not text.isprintable():
        text = _CONTROL.sub("", text)
    return " ".join(repair(text).split())


# A final period that belongs to the word: an initial ("J."), a common abbreviation, an ellipsis.
_KEEP_PERIOD = re.compile(
    r"(?:\b[^\W\d_]|\.\.|\b(?:" + "|".join(map(re.escape, tables.KEEP_PERIOD_WORDS)) + r"))\.$"
)
_ISBD_CLOSERS = frozenset(tables.ISBD_CLOSERS)


def strip_isbd(text: str) -> str:
    """Remove the ISBD punctuation that closes a MARC subfield (" /", " :", " ;", " =", ",", ".")."""
    text = text.strip()
    while text:
        last = text[-1]
        if last in _ISBD_CLOSERS or (last == "." and not _KEEP_PERIOD.search(text)):
            text = text[:-1].rstrip()
        else:
            break
    return text


def clean(text: str | None) -> str:
    """Display text without closing ISBD punctuation: what a subfield value should show."""
    return strip_isbd(display(text))


def fold(text: str | None) -> str:
    """Search and match key: lower case, no diacritics, đ -> d, punctuation as single spaces."""
    if not text:
        return ""
    if text.isascii():
        return _NON_WORD.sub(" ", text.lower()).strip()
    base = unicodedata.normalize("NFD", repair(text).casefold()).translate(_fold_table())
    return _NON_WORD.sub(" ", base).strip()


@functools.cache
def _fold_table() -> dict[int, str | None]:
    """_FOLD_TABLE, and every combining character (dropped): one str.translate in C instead of a test
    of each character in Python. Built on first use (60 ms), not when the module is imported."""
    marks = {code: None for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code))}
    return {**marks, **_FOLD_TABLE}


_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VOWELS = frozenset("aeiouy")
_OLD_STYLE = re.compile(r"^([^aeiouy]*)(o[ae]|uy)$")


def _canonical_word(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    tones = [ch for ch in decomposed if ch in _TONES]
    if len(tones) != 1:
        return word
    base = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    match = _OLD_STYLE.match(base.lower())
    if not match:
        return word
    # "hòa" / "hoà", "thúy" / "thuý": the tone goes on the last vowel, as the newer style writes it.
    out = []
    for ch in decomposed:
        if ch in _TONES:
            continue
        out.append(ch)
    rebuilt = "".join(out)
    return unicodedata.normalize("NFC", rebuilt + tones[0])


def exact_key(text: str | None) -> str:
    """Lower-case text that keeps its diacritics, with one tone placement for "hòa"/"hoà" alike:
    what a query with diacritics is matched against to rank exact spellings first."""
    if not text:
        return ""
    if text.isascii():  # most text: nothing to repair and no tone to place
        if not text.isprintable():
            text = _CONTROL.sub("", text)
        return " ".join(_NON_WORD.sub(" ", text.lower()).split())
    return _exact_key_of_any(text)


def _exact_key_of_any(text: str) -> str:
    """exact_key for any text: display text, lower case, words with one tone placement."""
    words = _NON_WORD.sub(" ", display(text).lower()).split()
    return " ".join(_canonical_word(w) for w in words)

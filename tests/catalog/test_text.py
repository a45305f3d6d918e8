"""Normalisation: display text (NFC, repaired marks) and search/match keys, Vietnamese first."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymarc import MARCReader

from catalog import text as text_module
from catalog.text import _exact_key_of_any, clean, display, exact_key, fold, repair, strip_isbd
from tests.conftest import VIETNAMESE, fixture


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("Nha ̀xuất bản", "Nhà xuất bản"),  # mark detached after a space
        ("Nha ̀xuá̂t bản", "Nhà xuất bản"),  # detached and mis-ordered
        ("Ché̂", "Chế"),  # tone before vowel quality
        ("Đò̂ng", "Đồng"),
        ("Malmo ̈:", "Malmö :"),
        ("Vie\u0302\u0323t Nam", "Việt Nam"),  # decomposed, canonical order
        ("Vie\u0323\u0302t Nam", "Việt Nam"),
    ],
)
def test_repair_real_export_damage(broken: str, fixed: str) -> None:
    assert display(broken) == fixed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Giáo trình kinh tế chính trị /", "Giáo trình kinh tế chính trị"),
        ("Hà Nội :", "Hà Nội"),
        ("Hoodlum II :", "Hoodlum II"),
        ("Lovano, Joe,", "Lovano, Joe"),
        ("history.", "history"),
        ("Smith, J.", "Smith, J."),  # an initial keeps its period
        ("1st ed.", "1st ed."),
        ("23 cm.", "23 cm."),
        ("Title ; .", "Title"),
        ("Voices from Vietnam ; 3.", "Voices from Vietnam ; 3"),
    ],
)
def test_strip_isbd(value: str, expected: str) -> None:
    assert clean(value) == expected


@pytest.mark.parametrize(
    "variants",
    [
        (
            "dai hoc quoc gia ha noi",
            "Đại học Quốc gia Hà Nội",
            "ĐẠI HỌC QUỐC GIA HÀ NỘI",
            "Đại học Quốc gia Hà Nội.",
        ),
        ("hoà", "hòa", "HOÀ", "ho\u0300a", "hoa\u0300"),
        ("thuý", "thúy", "THUÝ"),
        ("Nha ̀xuất bản", "Nhà xuất bản", "nha xuat ban"),
        ("Chế", "Ché̂", "che"),
        # apostrophes part words with or without diacritics elsewhere in the text
        ("d activite", "d'activité", "d’activité", "d'activite", "D’ACTIVITÉ"),
        ("quran", "Qurʼān", "Qurʼan"),
    ],
)
def test_fold_agrees_for_all_spellings(variants: tuple[str, ...]) -> None:
    keys = {fold(v) for v in variants}
    assert len(keys) == 1, keys


def test_fold_drops_punctuation_and_maps_d() -> None:
    assert fold("Đà Nẵng : Nxb. Đà Nẵng, 2015.") == "da nang nxb da nang 2015"
    assert fold("Łódź / Ørsted") == "lodz orsted"
    assert fold(None) == "" and fold("") == ""


def test_real_loc_records_come_out_nfc_and_repaired() -> None:
    """Every subfield of the LoC Vietnamese records is NFC after display(), with no stray marks."""
    repaired_any = 0
    with open(VIETNAMESE, "rb") as fh:
        for record in MARCReader(fh, to_unicode=True, force_utf8=True):
            for field in record.get_fields():
                if field.is_control_field():
                    continue
                for sf in field.subfields:
                    out = display(sf.value)
                    assert unicodedata.is_normalized("NFC", out)
                    assert " \u0300" not in out and " \u0301" not in out
                    repaired_any += out != " ".join(unicodedata.normalize("NFC", sf.value).split())
    assert repaired_any >= 13  # the file has 13 records with mis-ordered and 5 with detached marks


def test_stray_marks_file_has_none_left() -> None:
    with open(fixture("stray-combining-marks-182.mrc"), "rb") as fh:
        for record in MARCReader(fh, to_unicode=True, force_utf8=True):
            for field in record.get_fields("245", "260", "264"):
                for sf in field.subfields:
                    out = display(sf.value)
                    assert not any(
                        unicodedata.combining(ch) and (i == 0 or out[i - 1].isspace())
                        for i, ch in enumerate(out)
                    ), out


vietnamese_letters = st.sampled_from(list("aăâeêioôơuưyAĂÂEÊIOÔƠUƯYđĐbcdghklmnpqrstvx "))
tone_marks = st.sampled_from(["\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0306", "\u031b"])
vietnamese_text = st.lists(st.one_of(vietnamese_letters, tone_marks), max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=60), vietnamese_text)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_display_is_idempotent(value: str) -> None:
    once = display(value)
    assert display(once) == once


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_display_is_nfc(value: str) -> None:
    assert unicodedata.is_normalized("NFC", display(value))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60).map(lambda s: unicodedata.normalize("NFC", s)))
def test_nfc_in_nfc_out(value: str) -> None:
    assert unicodedata.is_normalized("NFC", repair(value))


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_fold_is_idempotent_and_plain(value: str) -> None:
    key = fold(value)
    assert fold(key) == key
    assert key == key.casefold()
    assert not any(unicodedata.combining(ch) for ch in key)
    assert "đ" not in key


@st.composite
def syllable_with_tone_variants(draw: st.DrawFn) -> tuple[str, str]:
    """The same Vietnamese syllable with the tone mark on either vowel: old and new placement."""
    first = draw(st.sampled_from(["o", "u", "O", "U"]))
    second = draw(st.sampled_from(["a", "e", "y", "A", "E", "Y"]))
    tone = draw(st.sampled_from(["\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]))
    prefix = draw(st.sampled_from(["", "h", "th", "x", "kh", "T"]))
    old = unicodedata.normalize("NFC", prefix + first + tone + second)
    new = unicodedata.normalize("NFC", prefix + first + second + tone)
    return old, new


@settings(max_examples=200, deadline=None)
@given(syllable_with_tone_variants())
def test_tone_placement_variants_share_a_key(pair: tuple[str, str]) -> None:
    old, new = pair
    assert fold(old) == fold(new)


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_strip_isbd_idempotent(value: str) -> None:
    once = strip_isbd(value)
    assert strip_isbd(once) == once


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet=st.characters(max_codepoint=127), max_size=60), any_text))
def test_exact_key_of_ascii_text_takes_no_shortcut_in_meaning(value: str) -> None:
    """exact_key has a fast path for ASCII text; it gives what the general path gives."""
    assert exact_key(value) == _exact_key_of_any(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Hòa bình", "hoà bình"),  # one tone placement for both spellings
        ("Hoà bình", "hoà bình"),
        ("Lịch sử Việt Nam /", "lịch sử việt nam"),
        ("History of\x1b the  WORLD.", "history of the world"),  # a control byte dropped, not a space
    ],
)
def test_exact_key(value: str, expected: str) -> None:
    assert exact_key(value) == expected


def _reorder_char_by_char(nfd: str) -> str:
    """_reorder_vietnamese_marks as first written, a loop over every character: the reference."""
    out: list[str] = []
    i, n = 0, len(nfd)
    while i < n:
        ch = nfd[i]
        out.append(ch)
        i += 1
        if ch not in "aeoAEO":
            continue
        j = i
        while j < n and unicodedata.combining(nfd[j]):
            j += 1
        if j - i > 1:
            marks = sorted(nfd[i:j], key=lambda m: (unicodedata.combining(m), m not in "\u0302\u0306"))
            out.extend(marks)
            i = j
    return "".join(out)


def _fold_char_by_char(value: str) -> str:
    """fold as first written, dropping combining characters one at a time: the reference."""
    if not value:
        return ""
    if value.isascii():
        return text_module._NON_WORD.sub(" ", value.lower()).strip()
    base = unicodedata.normalize("NFD", repair(value).casefold())
    base = "".join(ch for ch in base if not unicodedata.combining(ch)).translate(text_module._FOLD_TABLE)
    return text_module._NON_WORD.sub(" ", base).strip()


@settings(max_examples=500, deadline=None)
@given(st.one_of(any_text, st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)))
def test_faster_reorder_and_fold_give_what_the_character_loops_gave(value: str) -> None:
    nfd = unicodedata.normalize("NFD", value)
    assert text_module._reorder_vietnamese_marks(nfd) == _reorder_char_by_char(nfd)
    assert fold(value) == _fold_char_by_char(value)

"""The query normaliser: the syllable model, Telex/VNI repair, i/y spellings and joined syllables.

Syllables are generated from the model (every initial, rhyme and tone it allows): a syllable typed
right, with or without its marks, is never changed, and the same syllable typed with Telex or VNI
keys comes back to itself."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from catalog.search import vietnamese as vn
from catalog.text import exact_key, fold

TONES = st.sampled_from([None, *vn.TONES])


@st.composite
def syllables(draw: st.DrawFn) -> str:
    bare = draw(st.sampled_from(sorted(vn.toneless_syllables())))
    syllable = vn.place_tone(bare, draw(TONES))
    assume(vn.is_syllable(syllable))
    if draw(st.booleans()):
        syllable = syllable[0].upper() + syllable[1:]
    return syllable


@given(syllables())
def test_a_syllable_typed_right_is_never_changed(syllable: str) -> None:
    for typed in (syllable, fold(syllable)):
        for prefix in (False, True):
            forms = vn.word_forms(fold(typed), prefix=prefix)
            assert not forms.repaired and not forms.joined and forms.marked is None
    assert vn.repaired_query(syllable) == syllable
    assert vn.repaired_query(syllable + " ") == syllable + " "


@given(syllables(), st.sampled_from(["telex", "vni"]))
def test_a_syllable_typed_with_keys_comes_back(syllable: str, scheme: str) -> None:
    # Telex cannot type "oo" (xoong) without a third o: a keyboard turns "oo" into ô.
    assume(not (scheme == "telex" and "oo" in fold(syllable)))
    typed = vn.with_keys(syllable, scheme).lower()
    if typed == syllable.lower():  # no mark, nothing to key
        return
    # A few loanwords spell "oo" ("xoong", "boong"): "boong" typed is taken as typed, not as bông.
    assume(not vn.is_folded_syllable(typed))
    forms = vn.word_forms(typed)
    assert forms.repaired and forms.repaired[0] == fold(syllable)
    assert forms.marked is not None and exact_key(forms.marked) == exact_key(syllable)


@pytest.mark.parametrize(
    ("typed", "marked"),
    [
        ("nguyeenx", "nguyễn"),
        ("hocj", "học"),
        ("truwowngf", "trường"),
        ("vie65t", "việt"),
        ("ddinh", "đinh"),
        ("d9u7o7ng2", "đường"),
        ("tieengs", "tiếng"),
        ("thuowr", "thuở"),
    ],
)
def test_keys_left_in_a_word(typed: str, marked: str) -> None:
    forms = vn.word_forms(typed)
    assert forms.marked == unicodedata.normalize("NFC", marked)
    assert forms.repaired[0] == fold(marked)


def test_dd_is_d_and_a_word_being_typed_may_be_repaired_to_a_prefix() -> None:
    assert vn.word_forms("ddai").repaired == ("dai",)
    assert vn.word_forms("vaw", prefix=True).repaired == ("va",)  # "vă": the beginning of "văn"


@pytest.mark.parametrize("word", ["offer", "ass", "mother", "history", "the", "1998", "b52", "isbn"])
def test_english_words_and_numbers_keep_no_false_reading(word: str) -> None:
    forms = vn.word_forms(word)
    assert forms.marked is None
    assert vn.repaired_query(word) == word


def test_i_and_y_are_one_spelling() -> None:
    assert vn.word_forms("li").spellings == ("ly",)
    assert vn.word_forms("ky").spellings == ("ki",)
    assert vn.word_forms("quy").spellings == ("qui",)
    assert vn.word_forms("thi").spellings == ()  # "thi" and "thy" are not one word
    assert vn.i_y_synonyms()["ly"] == ["li"]


def test_syllables_run_together_are_split() -> None:
    assert "ha noi" in vn.splits("hanoi")
    assert "ho chi minh" in vn.splits("hochiminh")
    assert vn.word_forms("hanoi").joined[0] == "ha noi"
    assert vn.splits("xyzzy") == []


def test_the_repaired_query_keeps_what_needs_no_repair() -> None:
    assert vn.repaired_query("Vie65t Nam") == "việt Nam"
    assert vn.repaired_query("nguyeenx hocj ") == "nguyễn học "
    assert vn.repaired_query("Đại học ISBN 978") == "Đại học ISBN 978"

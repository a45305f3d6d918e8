"""The compiled mapping's own display, clean and fold (catalog/native/src/text.rs) give exactly what
catalog.text gives: for every character they take, in the places the rules turn on (before a final
period, after a space, among marks), on generated text, and on the text of real records."""

from __future__ import annotations

import os
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymarc import MARCReader

from catalog import native, text
from tests.conftest import VIETNAMESE, fixture

if native.text_function is None:
    if os.environ.get("UNIONCAT_REQUIRE_NATIVE") == "1":
        pytest.fail("UNIONCAT_REQUIRE_NATIVE=1 but the compiled mapping is not built", pytrace=False)
    pytest.skip("the compiled mapping is not built", allow_module_level=True)

compiled = native.text_function
FUNCTIONS = ("display", "clean", "fold")
# Every character of the Basic Multilingual Plane the compiled functions take.
TAKEN = [
    chr(c)
    for c in range(0x20, 0x10000)
    if not 0xD800 <= c < 0xE000 and compiled("display", chr(c)) is not None  # type: ignore[misc]
]
CONTEXTS = (
    "{}",
    "a{}.",
    "x {}.",
    "e{}\u0302\u0301.",
    " {} a\u0300",
    "ed{}.",
    "{}ed.",
    "Co {}.",
    "{}_{}'",
    "t {}\ufe20s",
)


def _same(value: str) -> None:
    for function in FUNCTIONS:
        got = compiled(function, value)  # type: ignore[misc]
        if got is not None:
            assert got == getattr(text, function)(value), (function, value)


def test_the_compiled_functions_take_latin_text_and_leave_the_rest_to_python() -> None:
    taken = set(TAKEN)
    assert {"é", "ư", "ệ", "Đ", "ß", "\u0300", "\u0323", "\ufe21", "ʹ", "中"} <= taken
    # no-break space, soft hyphen, a number that is not a digit, case folds that differ from the lower
    # case, Greek, Cyrillic, a tab, a quotation mark outside Latin-1
    assert not {"\u00a0", "\u00ad", "²", "µ", "ſ", "ẞ", "\u0345", "α", "ж", "\t", "\u2019"} & taken
    assert compiled("fold", "Đại học \u2019Hà Nội") is None  # type: ignore[misc]


@pytest.mark.parametrize("context", CONTEXTS)
def test_every_character_taken_gives_what_python_gives(context: str) -> None:
    for char in TAKEN:
        _same(context.format(char, char))


latin = st.sampled_from(
    list("aăâeêioôơuưyAĂÂEÊIOÔƠUƯYđĐbcdghklmnpqrstvxßæøłıþðœçñüöëïÿ0123456789")
    + list(" .,;:/=-_'()[]?!\"")
    + [
        "\u0300",
        "\u0301",
        "\u0302",
        "\u0303",
        "\u0306",
        "\u0309",
        "\u031b",
        "\u0323",
        "\u0308",
        "\u0327",
        "\ufe20",
        "\ufe21",
        "ʹ",
        "ʻ",
        "中",
        "文",
    ]
)
taken_text = st.lists(st.one_of(latin, st.sampled_from(TAKEN)), max_size=40).map("".join)


@settings(max_examples=1500, deadline=None)
@given(taken_text)
def test_generated_text_gives_what_python_gives(value: str) -> None:
    _same(value)
    _same(unicodedata.normalize("NFD", value))


def test_the_text_of_real_records_gives_what_python_gives() -> None:
    values = 0
    for name in (VIETNAMESE.name, "stray-combining-marks-182.mrc"):
        with open(fixture(name), "rb") as fh:
            for record in MARCReader(fh, to_unicode=True, force_utf8=True):
                for field in record.get_fields():
                    for value in (
                        [field.data] if field.is_control_field() else field.subfields_as_dict().values()
                    ):
                        for each in value if isinstance(value, list) else [value]:
                            if each and not each.isascii() and compiled("display", each) is not None:  # type: ignore[misc]
                                _same(each)
                                values += 1
    assert values > 1000

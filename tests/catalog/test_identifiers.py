from __future__ import annotations

import pytest

from catalog.identifiers import isbn10, isbn13, issn, lccn, system_number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0998106119", "9780998106113"),
        ("9780998106113", "9780998106113"),
        ("978-0-670-02662-3 (alk. paper)", "9780670026623"),
        ("0-8044-2957-X", "9780804429573"),
        ("0998106118", None),  # bad check digit
        ("9780998106114", None),
        ("(pbk.)", None),
        ("", None),
        (None, None),
    ],
)
def test_isbn13(value: str | None, expected: str | None) -> None:
    assert isbn13(value) == expected


def test_isbn10_round_trip() -> None:
    assert isbn10("9780998106113") == "0998106119"
    assert isbn10("9791234567896") is None


def test_issn_lccn_and_system_numbers() -> None:
    assert issn("0378-5955") == "0378-5955"
    assert issn("03785955") == "0378-5955"
    assert issn("0378-5954") is None
    assert lccn("  2012035454") == "2012035454"
    assert lccn("n 79-21164 ") == "n79021164"
    assert system_number("(OCoLC)ocm00012345") == ("OCoLC", "12345")
    assert system_number("(OCoLC)on1234567") == ("OCoLC", "1234567")
    assert system_number("(Sirsi) a353305") == ("Sirsi", "a353305")
    assert system_number("12345") is None

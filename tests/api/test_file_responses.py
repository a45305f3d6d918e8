"""The reading of Range headers (RFC 9110): what a header asks of a file, for any header at all."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.file_responses import MAX_RANGES, Unsatisfiable, content_disposition, parse_ranges


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, [(0, 10)]),
        ("bytes=90-", 100, [(90, 100)]),
        ("bytes=-10", 100, [(90, 100)]),
        ("bytes=-1000", 100, [(0, 100)]),
        ("bytes=95-200", 100, [(95, 100)]),
        ("bytes=0-4, 3-9, 20-29", 100, [(0, 10), (20, 30)]),
        ("bytes=0-4,5-9", 100, [(0, 10)]),  # adjacent ranges are one
        ("bytes=500-, 0-0", 100, [(0, 1)]),  # the range past the end is left out
        ("bytes=9-3", 100, None),  # last before first: the header is ignored
        ("items=0-9", 100, None),
        ("bytes=", 100, None),
        ("bytes=a-b", 100, None),
        ("bytes=" + ",".join(["0-1"] * (MAX_RANGES + 1)), 100, None),
    ],
)
def test_ranges_are_read_as_the_rfc_says(header: str | None, size: int, expected: object) -> None:
    assert parse_ranges(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200, 300-", "bytes=-0"])
def test_ranges_outside_the_file_cannot_be_satisfied(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_ranges(header, 100)


@given(st.text(max_size=80), st.integers(min_value=1, max_value=10**9))
def test_any_header_gives_ranges_inside_the_file_or_none(header: str, size: int) -> None:
    try:
        ranges = parse_ranges(header, size)
    except Unsatisfiable:
        return
    if ranges is not None:
        assert ranges == sorted(ranges)
        assert all(0 <= start < end <= size for start, end in ranges)
        assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))


def test_the_file_name_is_given_in_ascii_and_exactly() -> None:
    assert content_disposition('Báo cáo "2026".pdf', inline=False) == (
        "attachment; filename=\"Bao cao _2026_.pdf\"; filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20%222026%22.pdf"
    )
    assert content_disposition("ảnh.png", inline=True).startswith('inline; filename="anh.png"')

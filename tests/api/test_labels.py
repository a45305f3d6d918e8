"""What the web pages show for coded values: language names, material types, decades."""

from __future__ import annotations

import pytest

from api.labels import (
    JOB_STATUS_NAMES,
    MATERIAL_TYPE_NAMES,
    OBSOLETE_MARC_CODES,
    STATUS_NAMES,
    decade_label,
    facet_value_label,
    job_status_name,
    language_name,
    material_type_name,
    number,
    status_name,
)
from catalog.holdings import PROFILES, STATUS_WORDS
from catalog.marc_fields import MATERIAL_TYPES
from catalog.models import JobStatus


@pytest.mark.parametrize(
    ("code", "en", "vi"),
    [
        ("vie", "Vietnamese", "Tiếng Việt"),
        ("eng", "English", "Tiếng Anh"),
        ("fre", "French", "Tiếng Pháp"),  # ISO 639-2/B, as MARC has it (639-2/T: fra)
        ("ger", "German", "Tiếng Đức"),
        ("chi", "Chinese", "Tiếng Trung Hoa"),
        ("rus", "Russian", "Tiếng Nga"),
        ("fra", "French", "Tiếng Pháp"),  # a 639-2/T code in a record that should not have it
        ("ENG", "English", "Tiếng Anh"),
        ("und", "Undetermined", "Không xác định"),
        ("mul", "Multiple languages", "Nhiều ngôn ngữ"),
    ],
)
def test_language_names_in_both_languages(code: str, en: str, vi: str) -> None:
    assert language_name(code, "en") == en
    assert language_name(code, "vi") == vi


def test_obsolete_marc_codes_are_not_read_as_other_languages() -> None:
    # In ISO 639-3 these codes name other languages: Gagauz, Cemuhî, Laka (Chad).
    assert language_name("gag", "en") == "Galician"
    assert language_name("cam", "en") == "Khmer"
    assert language_name("lap", "en") == "Sami languages"
    assert language_name("scc", "en") == "Serbian"
    assert language_name("scr", "en") == "Croatian"
    assert all(language_name(code, "en") != code for code in OBSOLETE_MARC_CODES)


def test_collective_and_unknown_codes() -> None:
    assert language_name("sla", "en") == "Slavic languages"
    assert language_name("may", "en") == "Malay"  # not "Malay (macrolanguage)"
    for odd in ("xqz", "   ", "e1g", "english"):
        assert language_name(odd, "vi") == odd


def test_every_material_type_has_a_name_in_both_languages() -> None:
    assert set(MATERIAL_TYPE_NAMES) == MATERIAL_TYPES
    for kind in MATERIAL_TYPES:
        assert material_type_name(kind, "vi") and material_type_name(kind, "en")
        assert material_type_name(kind, "vi") != material_type_name(kind, "en")
    assert material_type_name("book", "vi") == "Sách"
    assert material_type_name("something new", "en") == "something new"


def test_facet_value_labels() -> None:
    names = {"VNU-LIC": "Trung tâm Thư viện ĐHQGHN"}
    assert facet_value_label("library", "VNU-LIC", "en", names) == "Trung tâm Thư viện ĐHQGHN"
    assert facet_value_label("library", "OTHER", "en", names) == "OTHER"
    assert facet_value_label("language", "vie", "vi", names) == "Tiếng Việt"
    assert facet_value_label("material_type", "serial", "en", names) == "Journal, serial"
    assert facet_value_label("decade", 1980, "en", names) == "1980s"
    assert decade_label(1990, "vi") == "1990–1999"
    assert facet_value_label("subject", "Vietnam -- History", "vi", names) == "Vietnam -- History"


def test_every_status_of_the_ready_profiles_has_a_name() -> None:
    given = (
        {s for p in PROFILES.values() for _code, s in (*p.status, *p.status_codes)}
        | {p.available_status for p in PROFILES.values() if p.available_status}
        | set(STATUS_WORDS.values())
    )
    assert given and given <= set(STATUS_NAMES)
    assert status_name("available", "vi") == "Có sẵn"
    assert status_name("not for loan", "en") == "Not for loan"
    assert status_name("in repair", "vi") == "in repair"  # a library's own status, as it is
    assert status_name(None, "en") == ""


def test_every_job_status_has_a_name() -> None:
    assert set(JOB_STATUS_NAMES) == {s.value for s in JobStatus}
    assert job_status_name("succeeded", "vi") == "Hoàn tất"
    assert job_status_name("failed", "en") == "Failed"


def test_counts_are_grouped_as_each_language_writes_them() -> None:
    assert number(1963, "vi") == "1.963" and number(1963, "en") == "1,963"
    assert number(250000, "vi") == "250.000" and number(7, "vi") == "7"

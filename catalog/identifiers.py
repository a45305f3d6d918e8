"""Standard identifiers: ISBN (normalised to ISBN-13, check digit validated), ISSN, LCCN, system numbers."""

from __future__ import annotations

import re

_ISBN_CANDIDATE = re.compile(r"(?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dXx]")
_ISSN = re.compile(r"\b(\d{4})[\s-]?(\d{3}[\dXx])\b")


def _isbn10_check(digits9: str) -> str:
    total = sum((10 - i) * int(d) for i, d in enumerate(digits9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _isbn13_check(digits12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits12))
    return str((10 - total % 10) % 10)


def isbn_candidate(text: str | None) -> str | None:
    """The ISBN-looking digits of a 020 subfield, with hyphens, spaces and qualifiers removed."""
    if not text:
        return None
    match = _ISBN_CANDIDATE.search(text)
    if not match:
        return None
    return re.sub(r"[\s-]", "", match.group()).upper()


def isbn13(text: str | None) -> str | None:
    """The valid ISBN-13 that ``text`` holds (an ISBN-10 is converted), or ``None`` if it holds none."""
    raw = isbn_candidate(text)
    if raw is None:
        return None
    if len(raw) == 10:
        if not raw[:9].isdigit() or _isbn10_check(raw[:9]) != raw[9]:
            return None
        body = "978" + raw[:9]
        return body + _isbn13_check(body)
    if len(raw) == 13 and raw.isdigit() and raw[:3] in ("978", "979"):
        return raw if _isbn13_check(raw[:12]) == raw[12] else None
    return None


def isbn10(isbn_13: str) -> str | None:
    """The ISBN-10 form of a 978 ISBN-13 (979 ISBNs have none)."""
    if len(isbn_13) != 13 or not isbn_13.startswith("978"):
        return None
    return isbn_13[3:12] + _isbn10_check(isbn_13[3:12])


def issn(text: str | None) -> str | None:
    """A valid ISSN as ``NNNN-NNNC``, or ``None``."""
    if not text:
        return None
    match = _ISSN.search(text)
    if not match:
        return None
    digits = (match.group(1) + match.group(2)).upper()
    total = sum((8 - i) * int(d) for i, d in enumerate(digits[:7]))
    check = (11 - total % 11) % 11
    if ("X" if check == 10 else str(check)) != digits[7]:
        return None
    return f"{digits[:4]}-{digits[4:]}"


def lccn(text: str | None) -> str | None:
    """LCCN normalised by the Library of Congress rules (``"  2012035454"`` -> ``"2012035454"``)."""
    if not text:
        return None
    value = text.strip().split("/")[0].replace(" ", "").lower()
    if "-" in value:
        prefix, _, serial = value.partition("-")
        value = prefix + serial.zfill(6)
    value = re.sub(r"[^a-z0-9]", "", value)
    return value or None


_SYSNO = re.compile(r"^\((?P<org>[^)]+)\)\s*(?P<num>.+)$")
_OCLC_PREFIX = re.compile(r"^(?:ocm|ocn|on|oc)", re.IGNORECASE)


def system_number(text: str | None) -> tuple[str, str] | None:
    """A 035 system number as ``(organisation, number)``; OCLC numbers lose ocm/ocn and leading zeros."""
    if not text:
        return None
    match = _SYSNO.match(text.strip())
    if not match:
        return None
    org = match.group("org").strip()
    num = match.group("num").strip()
    if org.upper() in ("OCOLC", "OCLC"):
        num = _OCLC_PREFIX.sub("", num).lstrip("0")
        if not num.isdigit():
            return None
        return "OCoLC", num
    return (org, num) if num else None

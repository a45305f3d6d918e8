"""Holdings profiles: where each library's MARC export carries its items (Koha 952, MARC 852, 949).

A profile names the item field and which subfields hold branch, shelving location, call number,
barcode, item type, copies and status, and where the record's local identifier is. A library
picks a named profile and may override any part of it (``Library.holdings_config``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from pymarc import Field

from catalog.text import clean, display

UNKNOWN_PROFILE = "unknown holdings profile"
# The values of a holding, in the order the catalogue stores them.
HOLDING_FIELDS = ("call_number", "location", "sublocation", "barcode", "copies", "item_type", "status")


@dataclass(frozen=True)
class HoldingsProfile:
    name: str
    tag: str | None
    location: str = ""  # subfield codes, first present wins
    sublocation: str = ""
    call_number: str = ""  # subfield codes joined with spaces, in this order
    barcode: str = ""
    item_type: str = ""
    copies: str = ""
    # (subfield code, status): the first subfield present with a value other than "0" sets the status
    status: tuple[tuple[str, str], ...] = ()
    # Subfield codes whose value names the status, a word ("Checked out") or a code of the system
    # (``status_codes``); the first one whose value is known sets it, other values are passed over
    status_values: str = ""
    status_codes: tuple[tuple[str, str], ...] = ()  # (a system's code, status): III's "-" is available
    available_status: str | None = None
    # Where the local id is: (tag, subfield code or "" for a control field), first found wins.
    local_id: tuple[tuple[str, str], ...] = (("001", ""),)
    description: str = field(default="", compare=False)

    def with_overrides(self, overrides: dict[str, Any] | None) -> HoldingsProfile:
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown holdings setting(s): {', '.join(sorted(unknown))}")
        values = {
            k: tuple(tuple(p) for p in v) if k in ("status", "status_codes", "local_id") else v
            for k, v in overrides.items()
        }
        return replace(self, **values)


KOHA = HoldingsProfile(
    name="koha",
    tag="952",
    location="ba",
    sublocation="c",
    call_number="o",
    barcode="p",
    item_type="y",
    status=(("1", "lost"), ("0", "withdrawn"), ("4", "damaged"), ("7", "not for loan"), ("q", "checked out")),
    available_status="available",
    local_id=(("999", "c"), ("001", "")),
    description="Koha 952: $a home branch, $b holding branch, $c shelving location, $o call number, "
    "$p barcode, $y item type, $1 lost, $0 withdrawn, $4 damaged, $7 not for loan, $q due date",
)
MARC852 = HoldingsProfile(
    name="marc852",
    tag="852",
    location="ba",
    sublocation="c",
    call_number="khijm",
    barcode="p",
    status_values="rzx",
    description="MARC 852: $a institution, $b sublocation, $c shelving location, $k$h$i$j$m call number, "
    "$p piece designation (barcode), the status in $r (Polaris) or as a note in $z (public) or $x",
)
ITEM949 = HoldingsProfile(
    name="949",
    tag="949",
    location="m",
    sublocation="l",
    call_number="a",
    barcode="i",
    item_type="t",
    copies="c",
    status_values="sk",
    status_codes=(
        ("-", "available"),
        ("o", "not for loan"),
        ("m", "missing"),
        ("z", "missing"),
        ("$", "lost"),
        ("n", "lost"),
        ("t", "in transit"),
        ("w", "withdrawn"),
        ("p", "in processing"),
    ),
    description="949 local items: $m library, $l location, $a call number, $i barcode, $t item type, "
    "$c copies, $s (III Sierra) or $k status, a code (- available, o library use only, m missing, "
    "$ lost, t in transit, w withdrawn) or a word",
)
NONE = HoldingsProfile(name="none", tag=None, description="no item fields: one holding per record")

PROFILES: dict[str, HoldingsProfile] = {p.name: p for p in (KOHA, MARC852, ITEM949, NONE)}
AUTO = "auto"


def profile_names() -> list[str]:
    return [AUTO, *PROFILES]


def resolve(name: str, overrides: dict[str, Any] | None = None) -> HoldingsProfile | None:
    """The named profile with a library's overrides; ``None`` for ``auto`` (chosen per record)."""
    if name == AUTO:
        if overrides:
            raise ValueError("the auto holdings profile takes no overrides: name a profile")
        return None
    try:
        return PROFILES[name].with_overrides(overrides)
    except KeyError:
        raise ValueError(f"{UNKNOWN_PROFILE} {name!r}; known: {', '.join(profile_names())}") from None


_DETECTED_BY = ("952", "942", "999", "852", "949")  # the tags detect() reads
# DDC's 082 keeps its $b, the item number (a Cutter: "339 NG527N"), as the other call numbers do
_BIB_CALL_NUMBERS = (("090", "ab"), ("092", "ab"), ("050", "ab"), ("082", "ab"))
# The words an item's status subfield or note says it with (folded to lower case), in English and
# Vietnamese, and the status each means (the names in api/labels.py STATUS_NAMES)
STATUS_WORDS: dict[str, str] = {
    "available": "available",
    "in": "available",
    "on shelf": "available",
    "có sẵn": "available",
    "sẵn sàng": "available",
    "out": "checked out",
    "checked out": "checked out",
    "on loan": "checked out",
    "due": "checked out",
    "đang cho mượn": "checked out",
    "đang mượn": "checked out",
    "not for loan": "not for loan",
    "library use only": "not for loan",
    "reference": "not for loan",
    "đọc tại chỗ": "not for loan",
    "không cho mượn": "not for loan",
    "lost": "lost",
    "mất": "lost",
    "missing": "missing",
    "withdrawn": "withdrawn",
    "thanh lý": "withdrawn",
    "damaged": "damaged",
    "hư hỏng": "damaged",
    "in transit": "in transit",
    "in processing": "in processing",
    "in process": "in processing",
}


def tags_read(profile: HoldingsProfile | None) -> tuple[str, ...]:
    """Every tag that local_id(), extract() and (for ``None``, the auto profile) detect() read."""
    profiles = [profile] if profile is not None else list(PROFILES.values())
    tags = {tag for tag, _ in _BIB_CALL_NUMBERS} | ({*_DETECTED_BY} if profile is None else set())
    for each in profiles:
        tags |= {tag for tag, _ in each.local_id} | ({each.tag} if each.tag else set())
    return tuple(sorted(tags))


def detect(grouped: dict[str, list[Field]]) -> HoldingsProfile:
    """The profile a record's own fields suggest (Koha's 952/999/942, then 852, then 949)."""
    if "952" in grouped or "942" in grouped or any(f.get("c") for f in grouped.get("999", [])):
        return KOHA
    if "852" in grouped:
        return MARC852
    if any(f.get("i") or f.get("l") for f in grouped.get("949", [])):
        return ITEM949
    return NONE


def local_id(profile: HoldingsProfile, grouped: dict[str, list[Field]]) -> str | None:
    for tag, code in profile.local_id:
        for fld in grouped.get(tag, []):
            value = fld.data if code == "" and fld.is_control_field() else fld.get(code) if code else None
            if value and value.strip():
                return value.strip()
    return None


def _first(fld: Field, codes: str) -> str | None:
    for code in codes:
        value = fld.get(code)
        if value and value.strip():
            return clean(value)
    return None


def _call_number(fld: Field, codes: str) -> str | None:
    parts = [display(v) for code in codes for v in fld.get_subfields(code) if v.strip()]
    return " ".join(parts) or None


def _status(profile: HoldingsProfile, fld: Field) -> str | None:
    for code, status in profile.status:
        value = fld.get(code)
        if value and value.strip() and value.strip() != "0":
            return status
    codes = dict(profile.status_codes)
    for code in profile.status_values:
        for value in fld.get_subfields(code):
            said = value.strip().rstrip(".").strip().lower()
            known = codes.get(said) or STATUS_WORDS.get(said)
            if known:
                return known
    return profile.available_status


def _copies(profile: HoldingsProfile, fld: Field, has_barcode: bool) -> int | None:
    if profile.copies:
        value = fld.get(profile.copies)
        if value and value.strip().isdigit():
            return int(value.strip())
    return 1 if has_barcode or profile.name in ("koha", "949") else None


def bib_call_number(grouped: dict[str, list[Field]]) -> str | None:
    """A call number from the bibliographic record (local 090/092, then LCC 050, then DDC 082)."""
    for tag, codes in _BIB_CALL_NUMBERS:
        for fld in grouped.get(tag, []):
            value = " ".join(display(v) for v in fld.get_subfields(*codes) if v.strip())
            if value:
                return value.replace("/", "") if tag == "082" else value
    return None


def extract(profile: HoldingsProfile, grouped: dict[str, list[Field]]) -> list[dict[str, Any]]:
    """The holdings of one record; a record without item fields still yields one holding."""
    items = []
    for fld in grouped.get(profile.tag or "", []) if profile.tag else []:
        barcode = _first(fld, profile.barcode) if profile.barcode else None
        holding = {
            "location": _first(fld, profile.location) if profile.location else None,
            "sublocation": _first(fld, profile.sublocation) if profile.sublocation else None,
            "call_number": _call_number(fld, profile.call_number) if profile.call_number else None,
            "barcode": barcode,
            "item_type": _first(fld, profile.item_type) if profile.item_type else None,
        }
        if not (holding["barcode"] or holding["location"] or holding["sublocation"]):
            continue  # not an item: e.g. a 949 that carries a load command ("*b2=a;")
        holding["copies"] = _copies(profile, fld, barcode is not None)
        holding["status"] = _status(profile, fld)
        items.append(holding)
    if items:
        fallback = bib_call_number(grouped)
        for item in items:
            item["call_number"] = item["call_number"] or fallback
        return items
    return [
        {
            "location": None,
            "sublocation": None,
            "call_number": bib_call_number(grouped),
            "barcode": None,
            "item_type": None,
            "copies": None,
            "status": None,
        }
    ]

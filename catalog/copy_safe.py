"""Copy-safe records: a union record's MARC as handed out for cataloguing (SRU, the export, the
record page's download), without the member libraries' local data.

A record copied into another library's system must not bring the first library's items (Koha's 952,
949 of other systems), its local system fields (942, 999 ...), its holdings (852, 876-878) or the
links to its own authority records (``$9`` in Koha) and its institution-specific notes (``$5``).
Its control number becomes the union record's, with the consortium's MARC organisation code in 003
and in 040 ``$d`` (modifying agency). What is dropped is configured (catalog.settings:
``copy_safe_drop_tags``, ``copy_safe_drop_subfields``, ``marc_org_code``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pymarc import Field, Indicators, Record, Subfield

DEFAULT_DROP_TAGS = ("9XX", "852", "876", "877", "878")
DEFAULT_DROP_SUBFIELDS = ("9", "5")
DEFAULT_ORG_CODE = "UNIONCAT"
_TAG_PATTERN = re.compile(r"^[0-9X]{3}$")


class CopySafeError(ValueError):
    """A rule of the configuration cannot be read."""


@dataclass(frozen=True)
class CopySafeRules:
    """What copy-safe removes and the code it puts in: tags as ``952`` or with ``X`` for any digit
    (``9XX``), subfield codes as single characters."""

    org_code: str = DEFAULT_ORG_CODE
    drop_tags: tuple[str, ...] = DEFAULT_DROP_TAGS
    drop_subfields: tuple[str, ...] = DEFAULT_DROP_SUBFIELDS

    @classmethod
    def of(cls, org_code: str, tags: Iterable[str], subfields: Iterable[str]) -> CopySafeRules:
        patterns = tuple(t.strip().upper() for t in tags if t.strip())
        for tag in patterns:
            if not _TAG_PATTERN.match(tag):
                raise CopySafeError(f"{tag!r} is not a MARC tag (three digits, X for any digit: 9XX)")
        codes = tuple(c.strip() for c in subfields if c.strip())
        for code in codes:
            if len(code) != 1:
                raise CopySafeError(f"{code!r} is not a subfield code (one character)")
        if not org_code.strip():
            raise CopySafeError("the MARC organisation code is empty")
        return cls(org_code.strip(), patterns, codes)

    def drops_tag(self, tag: str) -> bool:
        return _tag_matcher(self.drop_tags)(tag) is not None


@functools.lru_cache(maxsize=32)
def _tag_matcher(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    """One regular expression of the tag patterns ("9XX" -> "9[0-9][0-9]")."""
    if not patterns:
        return lambda _tag: None
    alternatives = "|".join(p.replace("X", "[0-9]") for p in patterns)
    return re.compile(f"(?:{alternatives})").fullmatch


def rules_from(settings: object) -> CopySafeRules:
    """The rules of a :class:`catalog.settings.Settings` (duck-typed: catalog.settings imports
    nothing from here)."""
    return CopySafeRules.of(
        getattr(settings, "marc_org_code", DEFAULT_ORG_CODE),
        getattr(settings, "copy_safe_drop_tags", DEFAULT_DROP_TAGS),
        getattr(settings, "copy_safe_drop_subfields", DEFAULT_DROP_SUBFIELDS),
    )


def copy_safe(record: Record, union_id: int, rules: CopySafeRules | None = None) -> Record:
    """``record`` (changed in place, and returned) fit to be copied: local fields and subfields
    dropped, 001/003 the union record's number and the consortium's code, 040 ``$d`` that code."""
    rules = rules or CopySafeRules()
    dropped = set(rules.drop_subfields)
    for field in list(record.fields):
        if field.tag in ("001", "003") or rules.drops_tag(field.tag):
            record.remove_field(field)
            continue
        if field.is_control_field() or not dropped:
            continue
        kept = [sub for sub in field.subfields if sub.code not in dropped]
        if not kept:
            record.remove_field(field)
        elif len(kept) != len(field.subfields):
            field.subfields = kept
    record.add_ordered_field(Field(tag="001", data=f"union-{union_id}"))
    record.add_ordered_field(Field(tag="003", data=rules.org_code))
    _modified_by(record, rules.org_code)
    return record


def _modified_by(record: Record, org_code: str) -> None:
    """040 ``$d`` with the consortium's code, after the agencies already named (once)."""
    field = record.get("040")
    if field is None:
        record.add_ordered_field(
            Field(tag="040", indicators=Indicators(" ", " "), subfields=[Subfield("d", org_code)])
        )
        return
    modifiers = field.get_subfields("d")
    if not modifiers or modifiers[-1] != org_code:
        field.add_subfield("d", org_code)

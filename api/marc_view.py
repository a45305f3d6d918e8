"""A cataloguer's view of MARC records: each field as tag, indicators and subfields, and where the
member records of one union record differ, field by field and subfield by subfield."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pymarc import Record

SKIPPED_IN_DIFF = frozenset({"005"})  # the time of the last change: differs between any two systems


@dataclass(frozen=True, slots=True)
class MarcField:
    tag: str
    ind1: str = ""
    ind2: str = ""
    data: str | None = None  # a control field's value
    subfields: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        """The field on one line, as cataloguers write it: ``245 10 $a Title : $b subtitle``."""
        if self.data is not None:
            return f"{self.tag} {self.data}"
        body = " ".join(f"${code} {value}" for code, value in self.subfields)
        return f"{self.tag} {self.ind1 or ' '}{self.ind2 or ' '} {body}"


def fields_of(record: Record) -> list[MarcField]:
    """The record's leader (as tag ``LDR``) and fields, in order."""
    out = [MarcField("LDR", data=str(record.leader))]
    for f in record.fields:
        if f.is_control_field():
            out.append(MarcField(f.tag, data=f.data))
        else:
            ind1, ind2 = (f.indicators[0], f.indicators[1]) if f.indicators else (" ", " ")
            out.append(MarcField(f.tag, ind1, ind2, subfields=tuple((s.code, s.value) for s in f.subfields)))
    return out


@dataclass
class TagDiff:
    """One tag on which the members differ: each member's fields of that tag, which of them all
    members share, and the subfield codes whose values differ."""

    tag: str
    cells: list[list[tuple[str, bool]]] = field(default_factory=list)  # per member: (field text, shared)
    subfields: list[str] = field(default_factory=list)


def member_diff(members: list[list[MarcField]]) -> list[TagDiff]:
    """Where the member records differ, tag by tag (the leader and 005 left out): tags every member
    carries alike are not listed."""
    if len(members) < 2:
        return []
    tags = sorted({f.tag for fields in members for f in fields if f.tag not in SKIPPED_IN_DIFF | {"LDR"}})
    out = []
    for tag in tags:
        per_member = [[f for f in fields if f.tag == tag] for fields in members]
        texts = [Counter(f.text for f in fs) for fs in per_member]
        if all(t == texts[0] for t in texts[1:]):
            continue
        shared = set(texts[0])
        for t in texts[1:]:
            shared &= set(t)
        diff = TagDiff(tag)
        diff.cells = [[(f.text, f.text in shared) for f in fs] for fs in per_member]
        codes: dict[str, list[Counter[str]]] = {}
        for n, fs in enumerate(per_member):
            for f in fs:
                if f.data is not None:
                    codes.setdefault("", [Counter() for _ in per_member])[n][f.data] += 1
                for code, value in f.subfields:
                    codes.setdefault(code, [Counter() for _ in per_member])[n][value.strip()] += 1
        diff.subfields = sorted(
            c for c, values in codes.items() if c and any(v != values[0] for v in values[1:])
        )
        out.append(diff)
    return out

"""A record read without pymarc's object per field and subfield: the part of pymarc's Field and
Record interface the catalogue's mapping and holdings use, with a field's subfields split only when
first read. Built by harvest's fast ISO 2709 path, its MARCXML reader and the compiled mapping."""

from __future__ import annotations

from pymarc import Subfield

_new = tuple.__new__  # Subfield(code, value) without the namedtuple's Python-level __new__


class LightField:
    __slots__ = ("_body", "_subfields", "data", "indicator1", "indicator2", "tag")

    def __init__(
        self,
        tag: str,
        data: str = "",
        indicators: tuple[str, str] = (" ", " "),
        subfields: list[Subfield] | None = None,
        body: str | None = None,
    ) -> None:
        self.tag = tag
        self.data = data
        self.indicator1, self.indicator2 = indicators
        self._body = body  # the subfields as in the record ("\x1fa...\x1fb..."), split on first use
        self._subfields = subfields if subfields is not None else ([] if body is None else None)

    @property
    def subfields(self) -> list[Subfield]:
        subs = self._subfields
        if subs is None:
            subs = [_new(Subfield, (p[0], p[1:])) for p in self._body.split("\x1f") if p]  # type: ignore[union-attr]
            self._subfields = subs
        return subs

    def is_control_field(self) -> bool:
        return self.tag < "010" and self.tag.isdigit()

    def get(self, code: str, default: str | None = None) -> str | None:
        for sf in self.subfields:
            if sf.code == code:
                return sf.value
        return default

    def get_subfields(self, *codes: str) -> list[str]:
        return [sf.value for sf in self.subfields if sf.code in codes]


class LightRecord:
    __slots__ = ("fields", "leader")

    def __init__(self, leader: str, fields: list[LightField]) -> None:
        self.leader = leader
        self.fields = fields

"""Who a request reads the digital library as (catalog.digital.access.Reader): anonymous without a
token, its library with a member library's token, everyone's reader with the admin token."""

from __future__ import annotations

from sqlmodel import Session, select

from catalog.digital.access import ANONYMOUS, Reader
from catalog.models import Library
from catalog.tokens import Principal


def reader_of(db: Session, who: Principal | None) -> Reader:
    if who is None:
        return ANONYMOUS
    if who.admin:
        return Reader(admin=True)
    library_id = db.exec(select(Library.id).where(Library.code == who.library_code)).first()
    return Reader(library_id=library_id) if library_id is not None else ANONYMOUS

"""The catalogue a process works on: settings, engine, and the schema check done once at start."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.engine import Engine

from catalog import db
from catalog.settings import Settings, get_settings


class CatalogueUnavailable(RuntimeError):
    """The configured catalogue cannot be used (schema out of date, database unreachable ...)."""


def open_engine(settings: Settings, migrate: str = "empty") -> Engine:
    """An engine on the configured database with the schema ready.

    ``migrate``: ``"always"`` applies every pending migration (the service and ``db upgrade`` do),
    ``"empty"`` creates the schema only in a database that has none yet, ``"never"`` only checks.
    """
    engine = db.make_engine(settings.resolved_database_url)
    try:
        current = db.current_revision(engine)
        if migrate == "always" or (migrate == "empty" and current is None):
            db.upgrade(engine)
        else:
            db.require_current_schema(engine)
    except db.SchemaOutOfDate as exc:
        raise CatalogueUnavailable(str(exc)) from None
    except Exception as exc:
        if isinstance(exc, CatalogueUnavailable):
            raise
        raise CatalogueUnavailable(f"cannot open the catalogue database: {_first_line(exc)}") from None
    return engine


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@lru_cache(maxsize=1)
def default_engine() -> Engine:
    return open_engine(get_settings(), migrate="always")

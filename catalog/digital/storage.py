"""Where digital objects' bytes are kept: one small interface, with a directory under the data
directory on the embedded default. Keys are content addresses (``sha256/ab/abcdef…``), so a file
deposited twice, or for two records, is stored once, and a key never names two different files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from catalog.settings import Settings

CHUNK = 1 << 16


class StorageError(RuntimeError):
    pass


def content_key(sha256: str) -> str:
    """The storage key of the file whose SHA-256 (hex) is ``sha256``."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise StorageError(f"not a SHA-256 in hex: {sha256!r}")
    return f"sha256/{sha256[:2]}/{sha256}"


def check_key(key: str) -> list[str]:
    """The parts of a valid storage key: relative, no empty, ``.`` or ``..`` part, no backslash."""
    parts = key.split("/")
    if not key or any(part in {"", ".", ".."} or "\\" in part for part in parts):
        raise StorageError(f"invalid storage key {key!r}")
    return parts


class ObjectStorage(Protocol):
    """What the catalogue needs of an object storage."""

    def put(self, key: str, source: Path) -> None:
        """Store the file at ``source`` under ``key`` (atomically: readers never see a partial object)."""

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``start`` to ``end`` (exclusive; None: to the end) of the object, in chunks."""

    def open(self, key: str) -> BinaryIO:
        """A seekable binary file of the object (a local copy where the storage is remote)."""

    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Objects as files under one directory (the embedded default: ``data_dir/digital``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    def put(self, key: str, source: Path) -> None:
        target = self._path(key)
        if target.is_file():
            return  # content-addressed: the same key holds the same bytes
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.part")
        try:
            shutil.copyfile(source, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as exc:
            raise StorageError(f"no object {key!r}") from exc

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageError(f"no object {key!r}") from exc
        with handle:
            handle.seek(start)
            left = None if end is None else max(0, end - start)
            while left is None or left > 0:
                chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageError(f"no object {key!r}") from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def open_storage(settings: Settings) -> ObjectStorage:
    """The configured storage: an S3-compatible one when ``digital_s3_url`` is set, else the
    directory ``data_dir/digital``."""
    if settings.digital_s3_url:
        from catalog.digital.s3 import S3Storage

        return S3Storage.from_settings(settings)
    return LocalStorage(settings.digital_dir)

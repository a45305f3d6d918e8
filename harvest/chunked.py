"""Reading a stream in chunks for the record splitters (ISO 2709, MARCXML, MARC-in-JSON): a window on
the part not yet consumed, so memory stays flat whatever the file's size and a record cut by a
chunk's end is found whole once the next chunk is read.

    window = ByteWindow(stream)
    while window.fill():          # one more chunk onto window.data (none once window.eof)
        ...                       # records found in window.data, at window.offset + their index
        window.consume(done)      # what was used; the rest waits for the next chunk
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import BinaryIO, Generic, TypeVar

CHUNK = 1 << 20
_Data = TypeVar("_Data", bytes, str)


class _Window(ABC, Generic[_Data]):
    data: _Data

    def __init__(self, stream: BinaryIO, size: int | None = None) -> None:
        self.stream = stream
        self.size = size or CHUNK
        self.offset = 0  # the stream's byte offset of data[0]
        self.eof = False  # the stream has no more: data is all that is left

    def fill(self) -> bool:
        """Read the next chunk onto ``data``, unless the stream ended; False once the stream ended and
        ``data`` was consumed."""
        if self.eof:
            return bool(self.data)
        chunk = self.stream.read(self.size)
        self.eof = not chunk
        self._append(chunk)
        return True

    @abstractmethod
    def _append(self, chunk: bytes) -> None:
        """Put a chunk read (empty at the end of the stream) onto ``data``."""

    @abstractmethod
    def consume(self, used: int) -> None:
        """The first ``used`` items of ``data`` were taken: the window moves past them."""


class ByteWindow(_Window[bytes]):
    """The window on a stream's bytes."""

    def __init__(self, stream: BinaryIO, size: int | None = None) -> None:
        super().__init__(stream, size)
        self.data = b""

    def _append(self, chunk: bytes) -> None:
        self.data += chunk

    def consume(self, used: int) -> None:
        self.data = self.data[used:]
        self.offset += used


class TextWindow(_Window[str]):
    """The window on a UTF-8 stream's text: only whole UTF-8 sequences are decoded (one cut by a
    chunk's end waits for the next chunk; bytes that are not UTF-8 become U+FFFD); ``offset`` still
    counts bytes."""

    def __init__(self, stream: BinaryIO, size: int | None = None) -> None:
        super().__init__(stream, size)
        self.data = ""
        self._pending = b""

    def _append(self, chunk: bytes) -> None:
        data = self._pending + chunk
        cut = len(data)
        if not self.eof:
            while cut > 0 and cut > len(data) - 4 and (data[cut - 1] & 0xC0) == 0x80:
                cut -= 1
            if cut > 0 and data[cut - 1] >= 0xC0:
                cut -= 1
        self.data += data[:cut].decode("utf-8", errors="replace")
        self._pending = data[cut:]

    def consume(self, used: int) -> None:
        self.offset += len(self.data[:used].encode("utf-8"))
        self.data = self.data[used:]

    def offset_of(self, index: int) -> int:
        """The stream's byte offset of ``data[index]``."""
        return self.offset + len(self.data[:index].encode("utf-8"))

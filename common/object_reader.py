"""A read-only, seekable file over an object in storage, read by ranged GETs.

Readers such as FFmpeg read a container in small pieces and seek back and forth
(an MP4's index often sits at its end). Each miss fetches one window of bytes, so
memory stays at one window whatever the object's size.
"""

import io
from collections.abc import Callable

DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024

# Fetches ``length`` bytes from ``offset``; the last range of the object may be short.
RangeFetcher = Callable[[int, int], bytes]


class RangedObjectReader:
    """A file-like object: read, seek and tell over ``size`` bytes of an object."""

    def __init__(
        self, fetch: RangeFetcher, size: int, window: int = DEFAULT_WINDOW_BYTES
    ) -> None:
        self._fetch = fetch
        self._size = size
        self._window = window
        self._position = 0
        self._buffer = b""
        self._buffer_start = 0
        self.fetches = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = self._size - self._position
        size = min(size, self._size - self._position)
        if size <= 0:
            return b""
        offset = self._position - self._buffer_start
        if not 0 <= offset < len(self._buffer):
            self._fill(self._position, size)
            offset = 0
        data = self._buffer[offset : offset + size]
        self._position += len(data)
        return data

    def _fill(self, start: int, at_least: int) -> None:
        length = min(max(self._window, at_least), self._size - start)
        self._buffer = self._fetch(start, length)
        self._buffer_start = start
        self.fetches += 1

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._position + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise OSError(22, f"invalid whence {whence}")
        if target < 0:
            raise OSError(22, f"seek to {target}, before the start of the object")
        self._position = target
        return target

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self._buffer = b""

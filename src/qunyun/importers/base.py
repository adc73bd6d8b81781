"""The importer contract and the helpers every importer shares (gzip sniffing, line reading)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

from qunyun.events import Event

GZIP_MAGIC = b"\x1f\x8b"
#: (platform, group_id) -> user ids already known for that group (e.g. from the store)
KnownMembers = Callable[[str, str], Iterable[str]]


class ImporterError(ValueError):
    """The whole input cannot be imported as asked (bad option, no date for a log ...); names what."""


@dataclass(slots=True)
class Rejected:
    """A line or record that could not be imported, with why (goes to the dead-letter table)."""

    line: int | None
    reason: str
    raw: str | None = None


Record = Event | Rejected


@runtime_checkable
class Importer(Protocol):
    """Turns one export format into Events. ``name`` is what ``--format`` accepts."""

    name: str
    description: str

    def sniff(self, path: Path, head: bytes) -> bool:
        """True if the first bytes (decompressed) of ``path`` look like this format."""
        ...

    def read(self, stream: BinaryIO, *, source: str, known: KnownMembers | None = None) -> Iterator[Record]:
        """Yield events and rejections, streaming (constant memory)."""
        ...


def configure(importer: Any, options: Mapping[str, str] | None) -> Any:
    """Apply ``--option key=value`` pairs: importers that take options have ``with_options(**kw)``.

    Returns a configured copy (registered importers are shared and stay untouched).
    """
    if not options:
        return importer
    with_options = getattr(importer, "with_options", None)
    if with_options is None:
        raise ImporterError(f"format {importer.name} takes no options (got {', '.join(sorted(options))})")
    return with_options(**options)


class CountingReader(io.RawIOBase):
    """Wraps the raw file to report how many (compressed) bytes were read, for progress bars."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self.raw.readinto(b)  # type: ignore[attr-defined]
        self.bytes_read += n or 0
        return n or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


def open_input(path: Path) -> tuple[BinaryIO, CountingReader]:
    """Open ``path`` for reading, transparently gunzipping; returns (stream, byte counter)."""
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    counter = CountingReader(raw)
    buffered = io.BufferedReader(counter, buffer_size=1 << 20)
    if magic == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered, mode="rb"), counter  # type: ignore[return-value]
    return buffered, counter  # type: ignore[return-value]


def read_head(path: Path, size: int = 65536) -> bytes:
    stream, _ = open_input(path)
    try:
        return stream.read(size)
    finally:
        stream.close()

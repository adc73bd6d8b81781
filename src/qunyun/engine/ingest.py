"""Bulk import: any importer's stream of records → the store, in batches, idempotently.

Imported history is stored and projected (rollups, counters) but never acted on: nobody should be
muted today for spam they posted in 2007. Bad records go to the dead-letter table with their line
number and the rest is imported.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from qunyun.engine.pipeline import Engine
from qunyun.events import Event, utcnow
from qunyun.importers.base import Importer, ImporterError, Rejected, configure, open_input, read_head
from qunyun.importers.native import NativeImporter
from qunyun.store.tables import MemberRow, tbl
from qunyun.store.writer import write_dead_letters

#: errors listed in the summary; the count stays exact beyond it
MAX_ERRORS = 100
BATCH = 20000
Progress = Callable[[int, int], None]


class ImportFormatError(ValueError):
    """The file's format could not be detected or is not supported."""


@dataclass
class ImportSummary:
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": self.errors,
        }


def available_importers(extra: Iterable[Any] = ()) -> dict[str, Importer]:
    found: dict[str, Importer] = {"events": NativeImporter()}
    for imp in extra:
        found[imp.name] = imp
    return found


def pick_importer(path: Path, fmt: str, importers: dict[str, Importer]) -> Importer:
    if fmt != "auto":
        if fmt not in importers:
            raise ImportFormatError(f"unknown format {fmt!r}; available: {', '.join(sorted(importers))}")
        return importers[fmt]
    head = read_head(path)
    for imp in importers.values():
        if imp.sniff(path, head):
            return imp
    raise ImportFormatError(
        f"cannot detect the format of {path}; use --format with one of: auto, {', '.join(sorted(importers))}"
    )


def _known_members(engine: Engine) -> Callable[[str, str], list[str]]:
    def known(platform: str, group_id: str) -> list[str]:
        m = tbl(MemberRow)
        with engine.db.engine.connect() as conn:
            return list(
                conn.execute(select(m.c.user_id).where(m.c.platform == platform, m.c.group_id == group_id)).scalars()
            )

    return known


def import_file(
    engine: Engine,
    path: Path,
    *,
    fmt: str = "auto",
    progress: Progress | None = None,
    batch_size: int = BATCH,
    options: Mapping[str, str] | None = None,
) -> ImportSummary:
    """Stream ``path`` into the store. Returns counts; rejected records are dead-lettered.

    ``options`` (``--option key=value``) configure the importer (date of an IRC log, group id of
    an export without one, time zone ...); an importer that takes none rejects them by name.
    """
    if not path.exists():
        raise FileNotFoundError(f"file not found: {path}")
    importer = pick_importer(path, fmt, available_importers(engine.registry.importers))
    try:
        importer = configure(importer, options)
    except ImporterError as exc:
        raise ImportFormatError(str(exc)) from exc
    total = path.stat().st_size
    summary = ImportSummary()
    stream, counter = open_input(path)
    batch: list[Event] = []
    dead: list[dict[str, Any]] = []
    source = str(path)

    def flush() -> None:
        if batch:
            result = engine.store(batch)
            summary.imported += len(result.inserted)
            summary.duplicates += result.duplicates
            batch.clear()
        if dead:
            with engine.db.engine.begin() as conn:
                write_dead_letters(conn, dead)
            dead.clear()
        if progress is not None:
            progress(counter.bytes_read, total)

    # Bulk loads allocate millions of short-lived objects: the cyclic GC would rescan every live
    # batch over and over (measured: ~2x slower), and nothing here creates reference cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for record in importer.read(stream, source=source, known=_known_members(engine)):
            if isinstance(record, Rejected):
                summary.rejected += 1
                if len(summary.errors) < MAX_ERRORS:
                    summary.errors.append({"line": record.line, "reason": record.reason})
                dead.append(
                    {
                        "source": source,
                        "line": record.line,
                        "reason": record.reason,
                        "raw": (record.raw or "")[:10000],
                        "created_at": utcnow(),
                    }
                )
                continue
            batch.append(record)
            if len(batch) >= batch_size:
                flush()
        flush()
    except ImporterError as exc:  # the input as a whole is unusable (no date for an IRC log ...)
        flush()
        raise ImportFormatError(str(exc)) from exc
    finally:
        stream.close()
        if gc_was_enabled:
            gc.enable()
    if progress is not None:
        progress(total, total)
    return summary


def import_events(engine: Engine, events: Sequence[Event]) -> ImportSummary:
    """Store already-built events (no file), e.g. from the demo generator."""
    summary = ImportSummary()
    for start in range(0, len(events), BATCH):
        result = engine.store(events[start : start + BATCH])
        summary.imported += len(result.inserted)
        summary.duplicates += result.duplicates
    return summary

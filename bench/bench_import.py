"""Bulk import speed: ``qunyun import`` path vs a raw ``sqlite3.executemany`` of the same rows.

Both sides read the same gzip JSON Lines file (the shared Ubuntu IRC log, 220k events) into a
fresh SQLite file with the same events table and indexes. The raw side does nothing else
(orjson + executemany, one transaction); qunyun also validates every line, keeps groups, members
and identities up to date, runs the installed projections and dead-letters bad lines.
Prints one JSON object. Goal: ratio (qunyun events/s ÷ raw events/s) >= 0.5.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "data" / "chat" / "ubuntu_irc_train.jsonl.gz"


def raw_import(path: Path, db_path: Path) -> float:
    from qunyun.store.db import Database

    Database(f"sqlite:///{db_path}").migrate()  # same schema and indexes as qunyun
    t0 = time.perf_counter()
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    rows = []
    with gzip.open(path, "rb") as fh:
        for line in fh:
            o = orjson.loads(line)
            rows.append(
                (o["platform"], o["group_id"], o["message_id"], o["user_id"], o.get("user_name"), o["type"],
                 o.get("subtype"), o.get("text"), o.get("reply_to"), None, o["time"], None)
            )
    con.executemany(
        "INSERT OR IGNORE INTO events (platform, group_id, message_id, user_id, user_name, type, subtype, text,"
        " reply_to, mentions, time, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    con.commit()
    con.close()
    return time.perf_counter() - t0


def qunyun_import(path: Path, db_path: Path) -> tuple[float, dict[str, object], list[str]]:
    from qunyun.app import open_app
    from qunyun.engine.ingest import import_file

    app = open_app(db_url=f"sqlite:///{db_path}")
    t0 = time.perf_counter()
    summary = import_file(app.engine, path)
    elapsed = time.perf_counter() - t0
    app.close()
    return elapsed, summary.as_dict(), [name for name, _ in app.registry.projections]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--side=")]
    side = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--side=")), "both")
    path = Path(args[0]) if args else Path(os.environ.get("QUNYUN_BENCH_FILE", DEFAULT))
    if side in ("raw", "qunyun"):  # one side per process, for external paired timing
        with tempfile.TemporaryDirectory() as tmp:
            if side == "raw":
                print(json.dumps({"bench": "import-raw", "seconds": round(raw_import(path, Path(tmp) / "r.db"), 3)}))
            else:
                q, summary, _ = qunyun_import(path, Path(tmp) / "q.db")
                print(json.dumps({"bench": "import-qunyun", "seconds": round(q, 3), **summary}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        raw_s = raw_import(path, Path(tmp) / "raw.db")
        q_s, summary, projections = qunyun_import(path, Path(tmp) / "q.db")
        again_s, again, _ = qunyun_import(path, Path(tmp) / "q.db")
    n = int(summary["imported"])  # type: ignore[call-overload]
    print(json.dumps({
        "bench": "import",
        "file": path.name,
        "events": n,
        "raw_executemany_s": round(raw_s, 3),
        "raw_events_per_s": round(n / raw_s),
        "qunyun_s": round(q_s, 3),
        "qunyun_events_per_s": round(n / q_s),
        "ratio": round(raw_s / q_s, 3),
        "goal_ratio": 0.5,
        "reimport_s": round(again_s, 3),
        "reimport_imported": again["imported"],
        "projections": projections,
    }))


if __name__ == "__main__":
    main()

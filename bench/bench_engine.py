"""Engine throughput with the installed (default) plugins: store → policies → handlers → outbox.

Feeds live-style events (the demo community's messages, so Chinese chat with questions, replies,
mentions, joins and an ad wave) through ``Engine.aprocess`` in batches, on a fresh SQLite file.
Prints one JSON object with events/s and what the policies/handlers produced.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    from qunyun.app import open_app
    from qunyun.demo import generate

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    events = list(itertools.islice(generate(seed=11, scale=0.2), n))
    with tempfile.TemporaryDirectory() as tmp:
        app = open_app(db_url=f"sqlite:///{Path(tmp) / 'engine.db'}")
        engine = app.engine

        async def run() -> tuple[float, int, int]:
            actions = stopped = 0
            t0 = time.perf_counter()
            for start in range(0, len(events), batch):
                for outcome in await engine.aprocess(events[start : start + batch]):
                    actions += len(outcome.actions)
                    stopped += outcome.stopped_by is not None
            return time.perf_counter() - t0, actions, stopped

        elapsed, actions, stopped = asyncio.run(run())
        policies = [r.name for r in app.registry.policies]
        handlers = [r.name for r in app.registry.handlers]
        app.close()
    print(json.dumps({
        "bench": "engine",
        "events": len(events),
        "batch": batch,
        "seconds": round(elapsed, 3),
        "events_per_s": round(len(events) / elapsed),
        "actions": actions,
        "stopped": stopped,
        "policies": policies,
        "handlers": handlers,
        "projections": [name for name, _ in app.registry.projections],
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Moderation policy throughput: live-style demo events through the engine with only the moderation
plugin (rules + model + flood + cross-group waves + ladder + review queue), on a fresh SQLite file.

Prints one JSON object: events/s with the policy, the policy's own milliseconds per message, and
what it did (incidents, reviews, actions). The model is loaded (or trained) before timing starts.
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    from sqlalchemy import func, select

    from qunyun.app import open_app
    from qunyun.demo import generate
    from qunyun.features.moderation import classifier
    from qunyun.features.moderation.plugin import ModerationPlugin
    from qunyun.features.moderation.tables import IncidentRow, ReviewRow, tbl

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    events = list(itertools.islice(generate(seed=11, scale=0.2), n))
    classifier.get_model()
    with tempfile.TemporaryDirectory() as tmp:
        plugin = ModerationPlugin()
        app = open_app(db_url=f"sqlite:///{Path(tmp) / 'mod.db'}", plugins=[plugin])
        policy_seconds = 0.0
        original = plugin.policy

        def timed(ctx):  # noqa: ANN001, ANN202
            nonlocal policy_seconds
            t = time.perf_counter()
            try:
                return original(ctx)
            finally:
                policy_seconds += time.perf_counter() - t

        app.registry.policies[0].fn = timed
        actions = stopped = 0
        t0 = time.perf_counter()
        for start in range(0, len(events), batch):
            for outcome in app.engine.process(events[start : start + batch]):
                actions += len(outcome.actions)
                stopped += outcome.stopped_by is not None
        elapsed = time.perf_counter() - t0
        with app.db.engine.connect() as conn:
            incidents = conn.execute(select(func.count()).select_from(tbl(IncidentRow))).scalar_one()
            reviews = conn.execute(select(func.count()).select_from(tbl(ReviewRow))).scalar_one()
        messages = sum(e.type.value == "message" for e in events)
        print(
            json.dumps(
                {
                    "bench": "moderation_policy",
                    "events": len(events),
                    "messages": messages,
                    "seconds": round(elapsed, 3),
                    "events_per_s": round(len(events) / elapsed),
                    "policy_ms_per_message": round(policy_seconds / max(messages, 1) * 1000, 3),
                    "actions": actions,
                    "stopped": stopped,
                    "incidents": incidents,
                    "reviews": reviews,
                }
            )
        )
        app.close()


if __name__ == "__main__":
    main()

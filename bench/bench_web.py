"""Dashboard and REST API latency on a demo community (the pages an operator opens most).

Builds the seeded demo at ``scale`` (default 1.0 ≈ 2,000 members / 200,000 messages) on a fresh
SQLite file with the installed plugins, signs in through the real login form, then times each page
and API call (median and p95 of ``n`` requests, in-process ASGI client, no network). Prints one JSON
object. Usage: ``python bench/bench_web.py [scale] [n]``.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

PAGES = [
    "/",
    "/groups",
    "/members",
    "/members?q=a",
    "/audit",
    "/outbox",
    "/dead-letters",
    "/api/v1/overview",
    "/api/v1/groups",
    "/api/v1/messages-per-day?days=60",
]


def main() -> None:
    from fastapi.testclient import TestClient

    from qunyun.app import open_app
    from qunyun.demo import build_demo
    from qunyun.store import queries
    from qunyun.web.app import create_app

    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with tempfile.TemporaryDirectory() as tmp:
        qapp = open_app(db_url=f"sqlite:///{Path(tmp) / 'web.db'}")
        started = time.perf_counter()
        demo = build_demo(qapp, scale=scale, password="bench-pass-1")
        build_s = time.perf_counter() - started
        with qapp.db.engine.connect() as conn:
            first = queries.list_groups(conn)[0]
        group = f"{first['platform']}/{first['group_id']}"
        pages = [
            *PAGES,
            f"/groups/{group}",
            f"/members?group={first['platform']}:{first['group_id']}",
            f"/api/v1/groups/{group}/members?limit=50",
        ]
        timings: dict[str, dict[str, float]] = {}
        with TestClient(create_app(qapp)) as client:
            form = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert token
            resp = client.post(
                "/login",
                data={"username": demo["admin"], "password": "bench-pass-1", "csrf_token": token.group(1)},
                follow_redirects=False,
            )
            assert resp.status_code == 303, resp.text
            for path in pages:
                samples = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    r = client.get(path)
                    samples.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, f"{path}: {r.status_code}"
                samples.sort()
                timings[path] = {
                    "median_ms": round(statistics.median(samples), 1),
                    "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 1),
                }
        qapp.close()
    print(
        json.dumps(
            {
                "bench": "web",
                "scale": scale,
                "messages": demo["messages"],
                "members": demo["members"],
                "plugins": qapp.registry.plugins,
                "demo_build_s": round(build_s, 1),
                "requests_per_path": n,
                "latency": timings,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()

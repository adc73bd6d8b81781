"""Live ingest speed: the same OneBot v11 event stream over a loopback WebSocket into qunyun and
into NoneBot2 + nonebot-adapter-onebot, both storing every message in SQLite. Prints one JSON object.

How it runs (all on loopback, forward WebSocket: each bot connects to a replay server that plays
the OneBot implementation):

- the stream: ``--events`` spec-shaped group message events (array segments and CQ-code strings,
  50 groups, 2,000 members, Chinese text), preceded by a ``lifecycle/connect`` meta event
  (NoneBot requires it);
- **qunyun**: ``qunyun run --no-dispatch`` as a separate process, configured with one ``ws``
  account, every built-in feature plugin disabled (the like-for-like: a bot that stores
  messages); storage is the real store path (events + groups + members + identities, with
  every event committed before its batch is acknowledged);
- **NoneBot2** 2.5 with nonebot-adapter-onebot in its own virtualenv (``bench/.nbvenv``, created
  by this script on first use), a minimal plugin that inserts each group message into SQLite,
  committing per message and, in a second run, per 100 messages;
- **bare**: websockets + json + sqlite3 with batched commits, no framework (the ceiling).

All SQLite files use WAL with ``synchronous=NORMAL`` (qunyun's setting). Throughput is events
from the first frame sent until the last row is visible to another connection (committed),
divided by the elapsed time; the replay stays at most ``WINDOW`` events ahead of the committed
rows (a slow consumer would otherwise sit on seconds of frames and its keepalive pings time out).
``events_per_cpu_s`` divides by the bot process's own CPU time over the same span, which a
loaded machine distorts much less than wall time. Goal (issue 5): qunyun >= 20x NoneBot2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NB_VENV = Path(os.environ.get("QUNYUN_NB_VENV", ROOT / "bench" / ".nbvenv"))
NB_PACKAGES = ["nonebot2[fastapi,websockets]>=2.5,<2.6", "nonebot-adapter-onebot>=2.4,<2.5"]
SELF_ID = 10000
#: events the replay may be ahead of the bot's committed rows (about 10 s of NoneBot's work)
WINDOW = 4000
WORDS = [
    "大家好",
    "今天",
    "打卡",
    "有人吗",
    "这个问题",
    "怎么解决",
    "谢谢",
    "收到",
    "明天见",
    "哈哈哈",
    "链接在哪",
    "报名",
    "活动",
    "几点开始",
    "已完成",
    "学习",
    "分享",
    "资料",
    "好的",
    "辛苦了",
]


def make_stream(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    t0 = 1_714_564_800
    frames = [
        json.dumps(
            {
                "time": t0,
                "self_id": SELF_ID,
                "post_type": "meta_event",
                "meta_event_type": "lifecycle",
                "sub_type": "connect",
            }
        )
    ]
    for i in range(n):
        group = 700_000 + rng.randrange(50)
        user = 1_000_000 + rng.randrange(2000)
        text = "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        if i % 5 == 0:
            message: Any = f"[CQ:at,qq={1_000_000 + rng.randrange(2000)}] {text}"
            raw = message
        else:
            message = [{"type": "text", "data": {"text": text}}]
            if i % 7 == 0:
                message.append({"type": "face", "data": {"id": str(rng.randrange(200))}})
            raw = text
        frames.append(
            json.dumps(
                {
                    "time": t0 + i // 20,
                    "self_id": SELF_ID,
                    "post_type": "message",
                    "message_type": "group",
                    "sub_type": "normal",
                    "message_id": 1_000_000 + i,
                    "group_id": group,
                    "user_id": user,
                    "anonymous": None,
                    "message": message,
                    "raw_message": raw,
                    "font": 0,
                    "sender": {
                        "user_id": user,
                        "nickname": f"成员{user % 2000}",
                        "card": "",
                        "sex": "unknown",
                        "age": 0,
                        "area": "",
                        "level": "1",
                        "role": "member",
                        "title": "",
                    },
                },
                ensure_ascii=False,
            )
        )
    return frames


def ws_frame(payload: bytes) -> bytes:
    """An unmasked server-to-client text frame (RFC 6455 5.2)."""
    n = len(payload)
    if n < 126:
        header = bytes([0x81, n])
    elif n < 65536:
        header = bytes([0x81, 126]) + n.to_bytes(2, "big")
    else:
        header = bytes([0x81, 127]) + n.to_bytes(8, "big")
    return header + payload


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), threads included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_rows(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


async def replay(
    frames: list[str], db: Path, table: str, expected: int, start_process: Any, timeout: float
) -> dict[str, Any]:
    """Serve the stream to the first client that connects; time until ``expected`` rows are committed."""
    from websockets.asyncio.server import serve

    started: dict[str, float] = {}
    progress = {"stored": 0}
    wire = [ws_frame(f.encode()) for f in frames]
    done_sending = asyncio.Event()

    async def handler(ws: Any) -> None:
        if "t0" in started:  # a reconnect after the run: nothing more to send
            await ws.wait_closed()
            return
        started["t0"] = time.perf_counter()
        # pre-encoded frames written straight to the socket: the replay must outrun every consumer
        # at most WINDOW events ahead of what the bot has committed: a slow consumer never holds
        # seconds of frames in its socket (its keepalive pings would time out behind them)
        transport = ws.transport
        for start in range(0, len(wire), 200):
            while start - progress["stored"] > WINDOW or transport.get_write_buffer_size() > 262_144:
                await asyncio.sleep(0.001)
            transport.write(b"".join(wire[start : start + 200]))
        started["sent"] = time.perf_counter()
        done_sending.set()
        try:
            async for message in ws:  # answer API calls, if any
                call = json.loads(message)
                await ws.send(json.dumps({"status": "ok", "retcode": 0, "data": None, "echo": call.get("echo")}))
        except Exception:
            pass

    async with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        proc = start_process(port)
        try:
            deadline = time.monotonic() + timeout
            while "t0" not in started:
                cpu0 = cpu_seconds(proc.pid)
                if proc.poll() is not None:
                    raise RuntimeError(f"bot process exited early with {proc.returncode}: {_tail(proc)}")
                if time.monotonic() > deadline:
                    raise TimeoutError("the bot never connected")
                await asyncio.sleep(0.01)
            n = 0
            while True:
                n = progress["stored"] = await asyncio.to_thread(count_rows, db, table)
                if n >= expected:
                    break
                if proc.poll() is not None:
                    raise RuntimeError(f"bot process died after {n} rows: {_tail(proc)}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {n}/{expected} rows after {timeout:.0f}s")
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started["t0"]
            cpu = cpu_seconds(proc.pid) - cpu0
        finally:
            _stop(proc)
    return {
        "events": expected,
        "seconds": round(elapsed, 3),
        "events_per_s": round(expected / elapsed, 1),
        "cpu_seconds": round(cpu, 3),
        "events_per_cpu_s": round(expected / cpu, 1) if cpu > 0 else None,
        "send_seconds": round(started.get("sent", started["t0"]) - started["t0"], 3),
    }


def _tail(proc: subprocess.Popen[bytes]) -> str:
    try:
        _, err = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        return "(no output)"
    return (err or b"").decode(errors="replace")[-1500:]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- qunyun -------------------------------------------------------------------------------------
def run_qunyun(frames: list[str], n: int, work: Path, timeout: float, *, all_features: bool = False) -> dict[str, Any]:
    db = work / ("qunyun_features.db" if all_features else "qunyun.db")
    cfg = work / "qunyun.toml"
    features = (
        [] if all_features else sorted({ep.name for ep in entry_points(group="qunyun.plugins")} - {"onebot", "run"})
    )

    def start(port: int) -> subprocess.Popen[bytes]:
        cfg.write_text(
            "[plugins]\n"
            f"disabled = {json.dumps(features)}\n\n"
            "[[accounts]]\n"
            'name = "bench"\nplatform = "qq"\nprotocol = "onebot"\nmode = "ws"\n'
            f'url = "ws://127.0.0.1:{port}"\n',
            encoding="utf-8",
        )
        env = {**os.environ, "QUNYUN_CONFIG": str(cfg)}
        env.pop("QUNYUN_DATABASE_URL", None)
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "qunyun.cli.main",
                "--db",
                f"sqlite:///{db}",
                "--config",
                str(cfg),
                "run",
                "--no-dispatch",
                *os.environ.get("BENCH_QUNYUN_ARGS", "").split(),
            ],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    result = asyncio.run(replay(frames, db, "events", n, start, timeout))
    result["plugins_disabled"] = features
    return result


# -- NoneBot2 -----------------------------------------------------------------------------------
NB_BOT = """
import os, sqlite3
import nonebot
from nonebot.adapters.onebot.v11 import Adapter, GroupMessageEvent

nonebot.init()
nonebot.get_driver().register_adapter(Adapter)

DB = os.environ["BENCH_DB"]
EVERY = int(os.environ["BENCH_COMMIT_EVERY"])
con = sqlite3.connect(DB)
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA synchronous=NORMAL")
con.execute("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, group_id TEXT, message_id TEXT UNIQUE, "
            "user_id TEXT, nickname TEXT, text TEXT, message TEXT, time INTEGER)")
con.commit()
state = {"n": 0}

from nonebot import on_message

store = on_message(priority=1, block=True)


@store.handle()
async def _(event: GroupMessageEvent) -> None:
    con.execute(
        "INSERT OR IGNORE INTO messages (group_id, message_id, user_id, nickname, text, message, time) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (str(event.group_id), str(event.message_id), str(event.user_id), event.sender.card or event.sender.nickname,
         event.get_plaintext(), str(event.message), event.time),
    )
    state["n"] += 1
    if state["n"] % EVERY == 0:
        con.commit()


if __name__ == "__main__":
    nonebot.run()
"""


def ensure_nonebot() -> Path:
    py = NB_VENV / "bin" / "python"
    probe = [str(py), "-c", "import nonebot, nonebot.adapters.onebot.v11, websockets, fastapi"]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    print(f"creating {NB_VENV} with {' '.join(NB_PACKAGES)} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(NB_VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *NB_PACKAGES], check=True)
    return py


def nonebot_version(py: Path) -> str:
    out = subprocess.run(
        [
            str(py),
            "-c",
            "import importlib.metadata as m; print(m.version('nonebot2'), m.version('nonebot-adapter-onebot'))",
        ],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def run_nonebot(py: Path, frames: list[str], n: int, work: Path, every: int, timeout: float) -> dict[str, Any]:
    db = work / f"nonebot_{every}.db"
    bot = work / "nb_bot.py"
    bot.write_text(NB_BOT, encoding="utf-8")

    def start(port: int) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DRIVER": "~none+~websockets",
            "ONEBOT_WS_URLS": json.dumps([f"ws://127.0.0.1:{port}"]),
            "LOG_LEVEL": "WARNING",
            "BENCH_DB": str(db),
            "BENCH_COMMIT_EVERY": str(every),
        }
        return subprocess.Popen(
            [str(py), str(bot)], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    return asyncio.run(replay(frames, db, "messages", n, start, timeout))


# -- bare ---------------------------------------------------------------------------------------
BARE = """
import asyncio, json, os, sqlite3, sys
from websockets.asyncio.client import connect

async def main():
    con = sqlite3.connect(os.environ["BENCH_DB"])
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, group_id TEXT, message_id TEXT UNIQUE, "
                "user_id TEXT, nickname TEXT, text TEXT, message TEXT, time INTEGER)")
    con.commit()
    rows = []
    async with connect(os.environ["BENCH_URL"], max_size=None) as ws:
        async for frame in ws:
            e = json.loads(frame)
            if e.get("post_type") != "message":
                continue
            rows.append((str(e["group_id"]), str(e["message_id"]), str(e["user_id"]), e["sender"]["nickname"],
                         e["raw_message"], json.dumps(e["message"]), e["time"]))
            if len(rows) >= 1000:
                con.executemany("INSERT OR IGNORE INTO messages (group_id, message_id, user_id, nickname, text, "
                                "message, time) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                con.commit()
                rows.clear()

asyncio.run(main())
"""


def run_bare(frames: list[str], n: int, work: Path, timeout: float) -> dict[str, Any]:
    db = work / "bare.db"
    script = work / "bare.py"
    script.write_text(BARE, encoding="utf-8")

    def start(port: int) -> subprocess.Popen[bytes]:
        env = {**os.environ, "BENCH_DB": str(db), "BENCH_URL": f"ws://127.0.0.1:{port}"}
        return subprocess.Popen(
            [sys.executable, str(script)], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    return asyncio.run(replay(frames, db, "messages", n - n % 1000, start, timeout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_ONEBOT_EVENTS", 20_000)))
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--skip-nonebot", action="store_true")
    parser.add_argument(
        "--with-features", action="store_true", help="also run qunyun with every installed feature plugin"
    )
    args = parser.parse_args()
    n = args.events - args.events % 1000 or 1000
    frames = make_stream(n)
    out: dict[str, Any] = {
        "bench": "onebot_ingest",
        "events": n,
        "transport": "forward WebSocket, loopback",
        "sqlite": "WAL, synchronous=NORMAL",
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="qunyun-bench-onebot-") as tmp:
        work = Path(tmp)
        out["qunyun"] = run_qunyun(frames, n, work, args.timeout)
        if args.with_features:  # informational: the same stream through every built-in feature
            out["qunyun_all_features"] = run_qunyun(frames, n, work, args.timeout * 4, all_features=True)
        out["bare_websockets_sqlite3_batched"] = run_bare(frames, n, work, args.timeout)
        if not args.skip_nonebot:
            try:
                py = ensure_nonebot()
                out["nonebot_version"] = nonebot_version(py)
                out["nonebot_commit_per_message"] = run_nonebot(py, frames, n, work, 1, args.timeout * 2)
                out["nonebot_commit_per_100"] = run_nonebot(py, frames, n, work, 100, args.timeout * 2)
            except Exception as exc:  # report, do not hide: the qunyun figure still stands
                out["nonebot_error"] = f"{type(exc).__name__}: {exc}"
    q = out["qunyun"]["events_per_s"]
    if "nonebot_commit_per_message" in out:
        out["ratio_vs_nonebot_commit_per_message"] = round(q / out["nonebot_commit_per_message"]["events_per_s"], 1)
        out["ratio_vs_nonebot_commit_per_100"] = round(q / out["nonebot_commit_per_100"]["events_per_s"], 1)
        out["goal_20x_met"] = out["ratio_vs_nonebot_commit_per_100"] >= 20
    out["fraction_of_bare"] = round(q / out["bare_websockets_sqlite3_batched"]["events_per_s"], 2)
    if "nonebot_commit_per_100" in out and out["qunyun"]["events_per_cpu_s"]:
        # CPU time per event is far less sensitive to other load on the machine than wall time
        qc = out["qunyun"]["events_per_cpu_s"]
        out["cpu_ratio_vs_nonebot_commit_per_message"] = round(
            qc / out["nonebot_commit_per_message"]["events_per_cpu_s"], 1
        )
        out["cpu_ratio_vs_nonebot_commit_per_100"] = round(qc / out["nonebot_commit_per_100"]["events_per_cpu_s"], 1)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()

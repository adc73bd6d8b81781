"""Chat-export importers: parse throughput and memory on synthetic exports (no database).

Generates, in a temporary directory, a Telegram Desktop ``result.json`` (a whole-account export
with ``chats.list``), an IRC log, a QQ 消息管理器 .txt and a WeChat (PyWxDump) CSV, each with
``QY_BENCH_N`` messages (default 200,000), then streams each through its importer and reports
records/s. For Telegram it also reports the peak resident memory growth while reading, against
the file size — the point of streaming with ijson is that the first does not follow the second.
Prints one JSON object.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qunyun.importers.base import Rejected, open_input  # noqa: E402
from qunyun.importers.irc import IrcImporter  # noqa: E402
from qunyun.importers.qq_txt import QQTxtImporter  # noqa: E402
from qunyun.importers.telegram import TelegramExportImporter  # noqa: E402
from qunyun.importers.wechat_csv import WeChatCsvImporter  # noqa: E402

N = int(os.environ.get("QY_BENCH_N", "200000"))
WORDS = ["大家好", "今天", "活动", "报名", "链接", "hello", "group", "please", "read", "the", "rules", "谢谢", "收到"]


def text(i: int) -> str:
    return " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(3 + i % 9))


def telegram_export(path: Path, n: int) -> None:
    chats = 4
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"about": "bench", "chats": {"about": "x", "list": [')
        per = n // chats
        for c in range(chats):
            if c:
                fh.write(",")
            fh.write(json.dumps({"name": f"群{c}", "type": "private_supergroup", "id": 1000 + c})[:-1])
            fh.write(', "messages": [')
            for i in range(per):
                msg: dict[str, Any] = {
                    "id": i + 1,
                    "type": "message",
                    "date": "2024-05-01T12:00:00",
                    "date_unixtime": str(1714536000 + i),
                    "from": f"user {i % 500}",
                    "from_id": f"user{i % 500}",
                    "text": text(i),
                    "text_entities": [{"type": "plain", "text": text(i)}],
                }
                if i % 10 == 0:
                    msg["reply_to_message_id"] = max(1, i - 3)
                fh.write(("," if i else "") + json.dumps(msg, ensure_ascii=False))
            fh.write("]}")
        fh.write("]}}")


def irc_log(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            h, m = (i // 60) % 24, i % 60
            if i % 20 == 0:
                fh.write(f"=== nick{i % 300} [~u@host{i}] has joined #bench\n")
            else:
                fh.write(f"[{h:02d}:{m:02d}] <nick{i % 300}> nick{(i + 1) % 300}: {text(i)}\n")


def qq_txt(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("消息分组:我的QQ群\n" + "=" * 64 + "\n消息对象:基准群\n" + "=" * 64 + "\n\n")
        for i in range(n):
            clock = f"{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}"
            fh.write(f"2024-05-01 {clock} 成员{i % 500}({10000 + i % 500})\n")
            fh.write(text(i) + "\n\n")


def wechat_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "CreateTime"])
        for i in range(n):
            w.writerow(
                [
                    i,
                    9_000_000 + i,
                    "文本",
                    0,
                    f"wxid_{i % 500}",
                    "123@chatroom",
                    text(i),
                    "",
                    f"2024-05-01 {(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}",
                ]
            )


def drain(importer: Any, path: Path) -> tuple[int, int, float]:
    stream, _ = open_input(path)
    events = rejected = 0
    t0 = time.perf_counter()
    try:
        records: Iterator[Any] = importer.read(stream, source=str(path))
        for rec in records:
            if isinstance(rec, Rejected):
                rejected += 1
            else:
                events += 1
    finally:
        stream.close()
    return events, rejected, time.perf_counter() - t0


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_rss(stop: threading.Event, peak: list[float]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mb())
        time.sleep(0.02)


def main() -> None:
    out: dict[str, Any] = {"bench": "importers", "messages_per_file": N}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        cases = [
            ("telegram", TelegramExportImporter(), d / "result.json", telegram_export),
            ("irc", IrcImporter(), d / "2024-05-01.log", irc_log),
            ("qq-txt", QQTxtImporter(), d / "qq.txt", qq_txt),
            ("wechat-csv", WeChatCsvImporter(), d / "wx.csv", wechat_csv),
        ]
        for name, importer, path, make in cases:
            make(path, N)
            size_mb = path.stat().st_size / 1e6
            before = rss_mb()
            peak = [before]
            if name == "telegram":  # sample the resident size while streaming
                stop = threading.Event()
                th = threading.Thread(target=sample_rss, args=(stop, peak), daemon=True)
                th.start()
                events, rejected, secs = drain(importer, path)
                stop.set()
                th.join()
                out["telegram_rss_growth_mb"] = round(peak[0] - before, 1)
            else:
                events, rejected, secs = drain(importer, path)
            out[name] = {
                "file_mb": round(size_mb, 1),
                "events": events,
                "rejected": rejected,
                "seconds": round(secs, 2),
                "events_per_s": round(events / secs) if secs else None,
            }
            path.unlink()
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    io.DEFAULT_BUFFER_SIZE = 1 << 16
    main()

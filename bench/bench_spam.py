"""Batch speed and held-out F1 of spam detection; prints one JSON object.

``make bench`` runs every ``bench/bench_*.py``. Speed: ``label_many`` (what ``qunyun spam classify``
writes: label, score, reasons) over the shared messages (all three sets, repeated to ``N``
messages; no de-duplication anywhere) in 20,000-message batches, in one process and split over
two (``workers=2``); ``detect_many`` (full verdict objects, one process) for reference; and the
whole ``qunyun spam classify`` command on a CSV of the same ``N`` rows, start-up included; and
``label_many`` on Chinese SMS only (the masked-SMS blind fixtures), the costliest kind of text.
F1: :func:`qunyun.features.moderation.evaluate.evaluate` (held-out 20 %, seed 42) plus the
hand-written other-platform fixture in ``tests/features/moderation/fixtures``.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qunyun.features.moderation import classifier
from qunyun.features.moderation.dataset import data_dir, load_sets
from qunyun.features.moderation.detector import Detector
from qunyun.features.moderation.evaluate import evaluate, prf

N = 200_000
CHUNK = 20_000
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "features" / "moderation" / "fixtures"


def _classify_cli(corpus: list[str]) -> dict[str, float]:
    """Wall time of the whole ``qunyun spam classify`` command (Python start-up, plugin imports,
    model load, CSV in and out) on ``len(corpus)`` rows."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        with src.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "text"])
            w.writerows(enumerate(corpus))
        cmd = [sys.executable, "-m", "qunyun", "spam", "classify", "--input", str(src), "--output", str(dst)]
        t0 = time.perf_counter()
        subprocess.run([*cmd, "--no-progress"], check=True, capture_output=True)
        seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([*cmd[:4], "check", "x", "--json"], check=True, capture_output=True)
        startup = time.perf_counter() - t0
    return {
        "classify_cli_seconds": round(seconds, 2),
        "classify_cli_rows_per_s": round(len(corpus) / seconds),
        "cli_startup_seconds": round(startup, 2),
        "classify_cli_rows_per_s_after_startup": round(len(corpus) / max(1e-9, seconds - startup)),
    }


def _chinese_sms_speed(det: Detector, n: int = 100_000) -> dict[str, float]:
    """``label_many`` on two cores over Chinese SMS only (the blind masked-SMS fixtures, a third of
    them ads, repeated to ``n``): every text takes the Chinese paths (NFKC, simplified, the CJK
    automaton, jieba, the promotion and scam shapes), which the shared sets exercise less."""
    texts: list[str] = []
    for path in sorted(FIXTURE.glob("zh_blind_sms_masked_*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            texts += [r["text"] for r in csv.DictReader(fh)]
    if not texts:
        return {}
    corpus = (texts * (n // len(texts) + 1))[:n]
    det.label_many(corpus[:CHUNK], workers=2)
    t0 = time.perf_counter()
    for i in range(0, n, CHUNK):
        det.label_many(corpus[i : i + CHUNK], workers=2)
    return {
        "zh_sms_msgs_per_s_2proc": round(n / (time.perf_counter() - t0)),
        "zh_sms_avg_chars": round(sum(map(len, corpus)) / n, 1),
    }


def main() -> None:
    directory = data_dir()
    texts = [s.text for samples in load_sets(directory).values() for s in samples]
    corpus = (texts * (N // len(texts) + 1))[:N]
    det = Detector(model=classifier.get_model(directory))
    speed: dict[str, float] = {}
    for workers in (1, 2):
        det.label_many(corpus[:CHUNK], workers=workers)  # warm-up (and fork the worker)
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, N, CHUNK):
            det.label_many(corpus[i : i + CHUNK], workers=workers)
        seconds = time.perf_counter() - t0
        speed[f"msgs_per_s_{workers}proc"] = round(N / seconds)
        if workers == 1:
            # CPU time of this process: what the code costs, whatever else the machine runs
            speed["msgs_per_cpu_s_1proc"] = round(N / (time.process_time() - c0))
    t0 = time.perf_counter()
    for i in range(0, N, CHUNK):
        det.detect_many(corpus[i : i + CHUNK])
    speed["detect_many_msgs_per_s_1proc"] = round(N / (time.perf_counter() - t0))
    speed.update(_chinese_sms_speed(det))
    speed.update(_classify_cli(corpus))
    result = evaluate(directory)
    out = {
        "bench": "spam",
        "messages": N,
        "msgs_per_s": max(speed["msgs_per_s_1proc"], speed["msgs_per_s_2proc"]),
        **speed,
        "avg_chars": round(sum(map(len, corpus)) / N, 1),
        "f1": {name: r["rules+model"]["f1"] for name, r in result["sets"].items()},
        "f1_model_only": {name: r["model"]["f1"] for name, r in result["sets"].items()},
    }
    holdout_det = Detector(model=classifier.get_model(directory, holdout=True))
    for path in sorted(FIXTURE.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        verdicts = holdout_det.detect_many([r["text"] for r in rows])
        truth = [r["label"] == "spam" for r in rows]
        if any(truth):  # F1 is undefined on an all-ham fixture: accuracy says it all there
            out["f1"][f"fixture:{path.stem}"] = prf(truth, [v.is_spam for v in verdicts])["f1"]
        out.setdefault("accuracy", {})[f"fixture:{path.stem}"] = round(
            sum(t == v.is_spam for t, v in zip(truth, verdicts, strict=True)) / max(1, len(rows)), 4
        )
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

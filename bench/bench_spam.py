"""Batch speed and held-out F1 of spam detection; prints one JSON object.

``make bench`` runs every ``bench/bench_*.py``. Speed: ``detect_many`` over the shared messages
(all three sets, repeated to ``N`` messages; no de-duplication anywhere) in chunks like
``qunyun spam classify`` uses, in one process and split over two (``workers=2``).
F1: :func:`qunyun.features.moderation.evaluate.evaluate` (held-out 20 %, seed 42) plus the
hand-written other-platform fixture in ``tests/features/moderation/fixtures``.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

from qunyun.features.moderation import classifier
from qunyun.features.moderation.dataset import data_dir, load_sets
from qunyun.features.moderation.detector import Detector
from qunyun.features.moderation.evaluate import evaluate, prf

N = 200_000
CHUNK = 20_000
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "features" / "moderation" / "fixtures"


def main() -> None:
    directory = data_dir()
    texts = [s.text for samples in load_sets(directory).values() for s in samples]
    corpus = (texts * (N // len(texts) + 1))[:N]
    det = Detector(model=classifier.get_model(directory))
    speed: dict[str, float] = {}
    for workers in (1, 2):
        det.detect_many(corpus[:CHUNK], workers=workers)  # warm-up (and fork the worker)
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, N, CHUNK):
            det.detect_many(corpus[i : i + CHUNK], workers=workers)
        seconds = time.perf_counter() - t0
        speed[f"msgs_per_s_{workers}proc"] = round(N / seconds)
        if workers == 1:
            # CPU time of this process: what the code costs, whatever else the machine runs
            speed["msgs_per_cpu_s_1proc"] = round(N / (time.process_time() - c0))
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

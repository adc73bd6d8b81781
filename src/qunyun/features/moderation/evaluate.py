"""Measure the detector on the held-out part of each shared set (评估).

The split is :func:`.dataset.split` (stratified by label, ``random.Random(42)``, 20 % held out);
the model is trained on the other 80 % only, so the figures are honest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from . import classifier
from .dataset import chat_ham, chat_probe, data_dir, load_sets, split
from .detector import Detector


def prf(truth: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    tp = sum(t and p for t, p in zip(truth, pred, strict=True))
    fp = sum((not t) and p for t, p in zip(truth, pred, strict=True))
    fn = sum(t and (not p) for t, p in zip(truth, pred, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def evaluate(data: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Per-set P/R/F1 of the model alone and of rules + model, on the held-out 20 %, and the share
    of 20,000 unseen chat messages (the shared IRC log) flagged as spam."""
    directory = data_dir(data)
    t0 = time.perf_counter()
    model = classifier.get_model(directory, holdout=True)
    train_seconds = round(time.perf_counter() - t0, 2)
    detector = Detector(model=model)
    out: dict[str, Any] = {"data_dir": str(directory), "train_seconds": train_seconds, "sets": {}}
    for name, samples in load_sets(directory).items():
        _, test = split(samples)
        texts = [s.text for s in test]
        truth = [s.label == "spam" for s in test]
        model_pred = [p >= 0.5 for p in model.proba(texts)]
        full_pred = [v.is_spam for v in detector.detect_many(texts)]
        out["sets"][name] = {
            "n": len(test),
            "spam": sum(truth),
            "model": prf(truth, model_pred),
            "rules+model": prf(truth, full_pred),
        }
    probe = chat_probe(directory)
    if probe:
        # ordinary chat never seen in training: nearly all ham, so every flag is a false alarm
        flagged = sum(detector.label_many(probe).spam)
        out["chat_false_positives"] = {"n": len(probe), "flagged": flagged, "rate": round(flagged / len(probe), 5)}
    return out


def cross_validate(data: str | os.PathLike[str] | None = None, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Stratified k-fold CV on the 80 % train part of each set: the figures to choose a recipe by.

    Fold ``i`` of a set is scored by a model trained on the set's other folds plus the train
    parts of the other sets (as the real model sees them); the held-out 20 % is never read, so
    tuning on these figures keeps the held-out ones honest.
    """
    from sklearn.model_selection import StratifiedKFold

    directory = data_dir(data)
    train_parts = {name: split(samples)[0] for name, samples in load_sets(directory).items()}
    chat = chat_ham(directory)
    out: dict[str, Any] = {"folds": folds, "seed": seed, "sets": {}}
    for name, samples in train_parts.items():
        others = [s for other, part in train_parts.items() if other != name for s in part] + chat
        y = [s.label == "spam" for s in samples]
        model_pred = [False] * len(samples)
        full_pred = [False] * len(samples)
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        for tr, te in cv.split([0] * len(samples), y):
            model = classifier.fit([samples[i] for i in tr] + others)
            texts = [samples[i].text for i in te]
            for i, p, v in zip(te, model.proba(texts), Detector(model=model).detect_many(texts), strict=True):
                model_pred[i] = bool(p >= 0.5)
                full_pred[i] = v.is_spam
        out["sets"][name] = {
            "n": len(samples),
            "spam": sum(y),
            "model": prf(y, model_pred),
            "rules+model": prf(y, full_pred),
        }
    return out

"""Moderation test fixtures: a per-session model cache (the model is trained in the session)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from qunyun.features.moderation import classifier

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _spam_env(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Iterator[None]:
    """Train into a fresh cache dir; never read the developer's own feedback file."""
    cache = tmp_path_factory.mktemp("spam-cache")
    saved = {k: os.environ.get(k) for k in ("QUNYUN_CACHE_DIR", "QUNYUN_SPAM_FEEDBACK", "QUNYUN_SPAM_DATA")}
    os.environ["QUNYUN_CACHE_DIR"] = str(cache)
    os.environ["QUNYUN_SPAM_FEEDBACK"] = str(cache / "feedback.csv")
    os.environ["QUNYUN_SPAM_DATA"] = str(shared_dir / "spam")
    classifier.set_model(None)
    yield
    classifier.set_model(None)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def spam_data(shared_dir: Path) -> Path:
    return shared_dir / "spam"


@pytest.fixture(scope="session")
def holdout_model(_spam_env: None) -> classifier.SpamModel:
    return classifier.get_model(holdout=True)


@pytest.fixture
def feedback_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Operators' decisions of one test go to its own feedback file."""
    path = tmp_path / "feedback.csv"
    monkeypatch.setenv("QUNYUN_SPAM_FEEDBACK", str(path))
    return path

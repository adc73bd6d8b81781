"""Keep order (秩序维护): spam/ad detection — rules, a trained model and the scoring API.

Public API (imported lazily, so loading the plugin does not import scikit-learn)::

    from qunyun.features.moderation import detect, detect_many, Verdict, DetectContext
    from qunyun.features.moderation import FloodTracker, SpamRulesConfig, ModerationConfig
    from qunyun.features.moderation import record_feedback, retrain
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .classifier import record_feedback, retrain
    from .config import ModerationConfig, SpamRulesConfig
    from .detector import DetectContext, Detector, Verdict, detect, detect_many, get_detector
    from .flood import FloodTracker
    from .rules import Finding

_EXPORTS = {
    "detect": "detector",
    "detect_many": "detector",
    "get_detector": "detector",
    "Detector": "detector",
    "DetectContext": "detector",
    "Verdict": "detector",
    "Finding": "rules",
    "FloodTracker": "flood",
    "SpamRulesConfig": "config",
    "ModerationConfig": "config",
    "record_feedback": "classifier",
    "retrain": "classifier",
}

__all__ = [
    "DetectContext",
    "Detector",
    "Finding",
    "FloodTracker",
    "ModerationConfig",
    "SpamRulesConfig",
    "Verdict",
    "detect",
    "detect_many",
    "get_detector",
    "record_feedback",
    "retrain",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(import_module(f".{module}", __name__), name)

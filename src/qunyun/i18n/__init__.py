"""One message catalog for every user-facing string (zh-CN first, English too).

The catalog is the TOML files in ``catalog/``: one file per room (core, moderation, members, ...),
each key a table with ``zh`` and ``en``. Plugins may add their own files with
:func:`register_catalog`. Lookup falls back zh → en → the key itself, so a missing translation is
visible but never crashes a page.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

LANGS = ("zh-CN", "en")
DEFAULT_LANG = "zh-CN"
_CATALOG_DIR = Path(__file__).parent / "catalog"
_extra_dirs: list[Path] = []


def register_catalog(directory: Path) -> None:
    """Add a plugin's catalog directory (``*.toml`` files in the same format)."""
    if directory not in _extra_dirs:
        _extra_dirs.append(directory)
        _catalog.cache_clear()


@lru_cache(maxsize=1)
def _catalog() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for directory in (_CATALOG_DIR, *_extra_dirs):
        for path in sorted(directory.glob("*.toml")):
            with path.open("rb") as fh:
                data = tomllib.load(fh)
            _flatten(path, "", data, merged)
    return merged


def _flatten(path: Path, prefix: str, table: dict[str, Any], out: dict[str, dict[str, str]]) -> None:
    """``[a.b]`` in TOML is a nested table; a table holding ``zh``/``en`` strings is one message."""
    leaf = {k: v for k, v in table.items() if k in ("zh", "en") and isinstance(v, str)}
    if leaf:
        out[prefix] = leaf
    for key, value in table.items():
        if isinstance(value, dict):
            _flatten(path, f"{prefix}.{key}" if prefix else key, value, out)
        elif key not in ("zh", "en"):
            raise ValueError(f"{path}: {prefix}.{key} must be a table with zh and en strings")


def normalize_lang(lang: str | None) -> str:
    if lang and lang.lower().startswith("en"):
        return "en"
    return "zh-CN"


def t(key: str, lang: str | None = DEFAULT_LANG, **params: Any) -> str:
    """Translate ``key`` into ``lang``, formatting ``{name}`` placeholders with ``params``."""
    entry = _catalog().get(key)
    if entry is None:
        text = key
    else:
        code = "en" if normalize_lang(lang) == "en" else "zh"
        text = entry.get(code) or entry.get("zh") or entry.get("en") or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def both(key: str, **params: Any) -> tuple[str, str]:
    """(zh, en) pair, e.g. to build an :class:`qunyun.actions.Reason`."""
    return t(key, "zh-CN", **params), t(key, "en", **params)


def keys() -> list[str]:
    return sorted(_catalog())

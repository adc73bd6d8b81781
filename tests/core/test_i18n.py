"""One message catalog: every key has zh and en, no key is defined twice, placeholders agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from qunyun.i18n import _CATALOG_DIR, _flatten, t

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _entries() -> dict[str, list[tuple[Path, dict[str, str]]]]:
    seen: dict[str, list[tuple[Path, dict[str, str]]]] = {}
    for path in sorted(_CATALOG_DIR.glob("*.toml")):
        flat: dict[str, dict[str, str]] = {}
        with path.open("rb") as fh:
            _flatten(path, "", tomllib.load(fh), flat)
        for key, value in flat.items():
            seen.setdefault(key, []).append((path, value))
    return seen


def test_no_key_is_defined_twice() -> None:
    dupes = {k: [p.name for p, _ in v] for k, v in _entries().items() if len(v) > 1}
    assert not dupes, f"keys defined in several catalog files: {dupes}"


def test_every_key_has_both_languages_with_the_same_placeholders() -> None:
    for key, defs in _entries().items():
        for path, value in defs:
            assert value.get("zh") and value.get("en"), f"{path.name}: {key} needs zh and en"
            assert set(PLACEHOLDER.findall(value["zh"])) == set(PLACEHOLDER.findall(value["en"])), (
                f"{path.name}: {key} placeholders differ"
            )


def test_lookup_and_fallbacks() -> None:
    assert t("nav.overview") == "概览" and t("nav.overview", "en") == "Overview"
    assert t("import.done", "en", imported=1, duplicates=2, rejected=3).startswith("Import finished: 1")
    assert t("no.such.key") == "no.such.key"
    assert t("import.done", "en", imported=1) .startswith("Import finished")  # a missing param never crashes

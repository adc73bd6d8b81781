"""The plugin contract as documented: every registry hook is in docs/plugins.md, and the guide's
example plugin works as written (Datasette tests its hook documentation the same way)."""

from __future__ import annotations

import re
from pathlib import Path

from qunyun.engine.plugins import Registry
from qunyun.testing import BotTester, join

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def test_every_registry_hook_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    hooks = [name for name in dir(Registry) if name.startswith("add_")]
    assert hooks
    missing = [h for h in hooks if f"`{h}(" not in text]
    assert not missing, f"document these hooks in docs/plugins.md: {missing}"


def test_guide_example_runs(tmp_path: Path) -> None:
    code = "\n".join(re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S))
    namespace: dict[str, object] = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # the guide's own code, both blocks
    plugin = namespace["GreeterPlugin"]()  # type: ignore[operator]
    bot = BotTester([plugin], tmp_path=tmp_path)
    actions = bot.feed(join("42"))
    assert actions[0].text and actions[0].text.startswith("欢迎")
    (tmp_path / "again").mkdir()
    namespace["test_greets"](tmp_path / "again")  # type: ignore[operator]


def test_cli_start_imports_no_web_stack() -> None:
    """Routers are registered lazily: building the CLI (every ``qunyun`` command) imports neither
    FastAPI nor the page modules, and the web app still gets every plugin's routes."""
    import subprocess
    import sys

    code = (
        "import sys, qunyun.cli.main\n"
        "names = ('fastapi', 'networkx', 'datasketch', 'qunyun.features.members.web')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"imported at CLI start: {out}"


def test_lazy_router_resolves_when_the_app_is_built() -> None:
    from qunyun.engine.plugins import lazy_router, resolve_router

    factory = lazy_router("qunyun.features.moderation.web")
    router = resolve_router(factory)
    assert hasattr(router, "routes") and router.routes
    assert resolve_router(router) is router

"""One real browser (headless Debian chromium): sign in, see the overview chart render, take screenshots.

Screenshots land in ``tests/web/screenshots/`` (gitignored) for a human to look at.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from qunyun.app import QunyunApp
from qunyun.web.app import create_app

from .conftest import PASSWORDS, build_app

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parent / "screenshots"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
        "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, QunyunApp]]:
    qapp = build_app(sqlite_url, tmp_path)
    port = _free_port()
    config = uvicorn.Config(create_app(qapp), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", qapp
    finally:
        server.should_exit = True
        thread.join(10)
        qapp.close()


def _chart_rendered(page: object, selector: str) -> None:
    page.wait_for_function(  # type: ignore[attr-defined]
        """sel => {
            const el = document.querySelector(sel);
            return !!el && typeof echarts !== 'undefined' && !!echarts.getInstanceByDom(el)
                && !!el.querySelector('canvas, svg') && el.dataset.rendered === '1';
        }""",
        arg=selector,
        timeout=15000,
    )


def test_login_and_overview_chart_renders(live_server: tuple[str, QunyunApp]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian chromium not found at {CHROMIUM} (make browser installs it)")
    base, _ = live_server
    SHOTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/")
            assert page.url.startswith(base + "/login"), "an anonymous visit must land on the login page"
            page.screenshot(path=str(SHOTS / "login_zh.png"))
            page.fill("input[name=username]", "olivia")
            page.fill("input[name=password]", PASSWORDS["olivia"])
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            _chart_rendered(page, "#chart-overview")
            points = page.evaluate(
                "() => echarts.getInstanceByDom(document.querySelector('#chart-overview'))"
                ".getOption().series[0].data"
            )
            assert len(points) == 60 and sum(points) == 270
            assert page.inner_text("#stat-groups") == "3"
            assert "每日消息数" in page.content()
            page.screenshot(path=str(SHOTS / "overview_zh.png"), full_page=True)

            page.goto(base + "/groups/qq/1001")
            _chart_rendered(page, "#chart-group")
            page.screenshot(path=str(SHOTS / "group_zh.png"), full_page=True)
            page.goto(base + "/members")
            page.screenshot(path=str(SHOTS / "members_zh.png"), full_page=True)
            page.goto(base + "/outbox")
            page.screenshot(path=str(SHOTS / "outbox_zh.png"), full_page=True)

            page.goto(base + "/?lang=en")
            _chart_rendered(page, "#chart-overview")
            assert "Messages per day" in page.content()
            page.screenshot(path=str(SHOTS / "overview_en.png"), full_page=True)
            page.goto(base + "/groups/qq/1001")
            _chart_rendered(page, "#chart-group")
            assert "Most active members" in page.content()
            page.screenshot(path=str(SHOTS / "group_en.png"), full_page=True)
            page.goto(base + "/members?group=qq:1001")
            page.screenshot(path=str(SHOTS / "members_en.png"), full_page=True)
            page.goto(base + "/audit")
            page.screenshot(path=str(SHOTS / "audit_en.png"), full_page=True)
            assert errors == [], f"JavaScript errors: {errors}"
        finally:
            browser.close()

"""The web form in a real browser (headless Chromium from Debian): paste a lure, read the band, the marks, the hotlines."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from adscreen import Scorer
from adscreen.config import Settings
from adscreen.serve.app import create_app

# Heavy (a real browser): marked so that a quick run can leave them out with -m 'not slow'.
pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
LURE = "Девушки 18-25, работа хостес в Дубае, 3000$ в месяц, билеты оплачиваем, пиши в Telegram @dubai_job"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(scorer: Scorer) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(create_app(Settings(), scorer=scorer), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_a_person_checks_a_lure_and_sees_band_marks_and_hotlines(server: str, browser: object) -> None:
    page = browser.new_page(locale="ru-RU", extra_http_headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "ru"
    page.fill("#ad", LURE)
    page.select_option("#country", "BY")
    page.click("button[type=submit]")
    page.wait_for_selector("#result")
    assert page.locator(".band").inner_text() == "Высокий риск"
    mark = page.locator("mark.ev-flag").first
    assert mark.is_visible()
    assert mark.get_attribute("data-why")
    hotline = page.locator('a.call[href^="tel:"]').first
    assert hotline.get_attribute("href") == "tel:88012015555"
    page.close()


def test_an_ad_with_script_stays_inert(server: str, browser: object) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server + "/?lang=en")
    hostile = "<script>window.pwned = 1; alert('x')</script><img src=x onerror=\"window.pwned=2\"> Work in Dubai, write on Telegram"
    page.fill("#ad", hostile)
    page.click("button[type=submit]")
    page.wait_for_selector("#result")
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert dialogs == []
    assert "<script>" in page.locator(".ad").inner_text()
    page.close()


def test_the_page_works_on_a_phone_screen(server: str, browser: object, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 740}, java_script_enabled=False)
    page.goto(server + "/?lang=en")
    page.fill("#ad", LURE)
    page.click("button[type=submit]")
    page.wait_for_selector("#result")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    assert (tmp_path / "phone.png").stat().st_size > 10_000
    page.close()

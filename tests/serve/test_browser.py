"""The web form in a real browser (headless Chromium from Debian): paste a lure, read the band, the marks, the hotlines."""

import json
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


# --- issue 17: the first screen answers, sections without JavaScript, accessibility --------------------------------

PHONE = {"width": 390, "height": 844}
BANDS_HIGH = {
    "en": "High risk",
    "ru": "Высокий риск",
    "be": "Высокая рызыка",
    "uk": "Високий ризик",
    "pl": "Wysokie ryzyko",
}


def checked_page(browser: object, server: str, language: str, text: str = LURE, **context: object) -> object:
    """A new page at the phone's size showing the result of ``text``, checked from Belarus in ``language``."""
    page = browser.new_context(viewport=PHONE, **context).new_page()
    page.goto(f"{server}/?lang={language}")
    page.fill("#ad", text)
    page.select_option("#country", "BY")
    page.click("form.check button[type=submit]")
    page.wait_for_selector("#result")
    return page


def inside_first_screen(box: dict | None) -> bool:
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= PHONE["width"]
        and (box["y"] + box["height"] <= PHONE["height"])
    )


@pytest.mark.parametrize("language", ["ru", "be", "uk", "pl", "en"])
def test_the_first_screen_of_a_phone_shows_the_band_and_a_call_button(
    server: str, browser: object, language: str
) -> None:
    page = checked_page(browser, server, language)
    assert page.evaluate("window.scrollY") == 0
    band = page.locator("#band")
    assert band.inner_text() == BANDS_HIGH[language]
    assert page.locator("html").get_attribute("lang") == language
    call = page.locator("a.call-first").first
    assert call.get_attribute("href") == "tel:88012015555"
    for element in (band, page.locator(".risk"), page.locator(".why"), page.locator(".indicators"), call):
        assert inside_first_screen(element.bounding_box()), (language, element)
    assert inside_first_screen(page.locator("a.call-abroad").first.bounding_box())  # the ad names Dubai
    page.context.close()


@pytest.mark.parametrize("language", ["ru", "be", "uk", "pl", "en"])
def test_a_text_too_short_to_judge_says_so_and_the_call_button_stays_on_the_first_screen(
    server: str, browser: object, language: str
) -> None:
    page = checked_page(browser, server, language, "Требуется грузчик")
    caveat = page.locator("p.caveat")
    assert caveat.count() == 1 and "2" in caveat.inner_text()
    for element in (page.locator("#band"), caveat, page.locator("a.call-first").first):
        assert inside_first_screen(element.bounding_box()), (language, element)
    page.context.close()


def test_the_sections_open_and_close_without_javascript(server: str, browser: object) -> None:
    page = checked_page(browser, server, "en", java_script_enabled=False)
    signs = page.locator("details#signs")
    assert signs.get_attribute("open") is None and not page.locator("#signs .flags").is_visible()
    signs.locator("summary").click()
    assert signs.get_attribute("open") == "" and page.locator("#signs .flags").is_visible()
    signs.locator("summary").click()
    assert signs.get_attribute("open") is None and not page.locator("#signs .flags").is_visible()
    marked = page.locator("details#marked")  # open at first: the ad with its marks follows the answer
    assert marked.get_attribute("open") == "" and page.locator("mark.ev").first.is_visible()
    marked.locator("summary").click()
    assert marked.get_attribute("open") is None and not page.locator("mark.ev").first.is_visible()
    for section in ("terms", "todo", "help"):
        page.locator(f"details#{section} summary").click()
        assert page.locator(f"details#{section}").get_attribute("open") == ""
    assert page.locator("#help a.call").first.is_visible()
    page.context.close()


def serious_violations(page: object) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious_on_the_empty_form_and_a_high_risk_result(server: str, browser: object) -> None:
    pytest.importorskip("axe_playwright_python")
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(server + "/?lang=ru")
    assert serious_violations(page) == []
    page.context.close()
    page = checked_page(browser, server, "ru")
    page.evaluate("document.querySelectorAll('details').forEach(section => { section.open = true })")  # all of it
    assert serious_violations(page) == []
    page.context.close()


def test_the_keyboard_reaches_every_marked_sign_and_shows_its_reason(server: str, browser: object) -> None:
    page = checked_page(browser, server, "en")
    marks = page.locator("mark.ev")
    count = marks.count()
    assert count >= 3
    reached: dict[int, str] = {}
    for _ in range(count + 40):
        page.keyboard.press("Tab")
        index = page.evaluate("[...document.querySelectorAll('mark.ev')].indexOf(document.activeElement)")
        if index >= 0:
            reason = page.evaluate("getComputedStyle(document.activeElement, '::after').content")
            reached[index] = reason
    assert sorted(reached) == list(range(count))
    for index, reason in reached.items():
        why = marks.nth(index).get_attribute("data-why")
        assert why and json.loads(reason) == why  # CSS content is a quoted string
    page.context.close()

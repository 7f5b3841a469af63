"""The analyst's HTML report: its sections, escaping, nothing external, and a real browser showing its plots."""

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from adscreen import Scorer
from adscreen.analysis.dump import read_dump
from adscreen.analysis.dump_report import ad_scores, build_report
from adscreen.training.sample_ads import read_sample_rows

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = (
    "<script>alert('x')</script><img src=x onerror=alert(1)> Девушки 18-25 хостес в Дубай, 4000$ без опыта, "
    "билеты оплачиваем, паспорт отдать по прилёте, оплата в конце контракта. Telegram @dubai_job"
)
REPOSTS = [
    "Работа на складе в Польше, 2500 евро, без опыта и языка.\nЖильё бесплатно, выезд в пятницу.\nЗвоните +48 571 330 912",
    "Выезд в пятницу, жильё бесплатно.\nРабота на складе в Польше, 2700 евро, без опыта и языка.\nWhatsApp +48 571 330 912",
    "Без опыта и языка: склад в Польше, 2600 евро.\nЖильё бесплатно.\nViber +48 571 330 912",
]


@pytest.fixture(scope="module")
def report_file(scorer: Scorer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = read_sample_rows()[::25]
    frame = pd.DataFrame(
        {
            "id": [row["id"] for row in rows] + ["hostile", "r1", "r2", "r3"],
            "text": [row["text"] for row in rows] + [HOSTILE, *REPOSTS],
            "country": [row["country"] for row in rows] + ["BY", "PL", "PL", "PL"],
            "date": ["2026-05-01"] * len(rows) + ["2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05"],
        }
    )
    folder = tmp_path_factory.mktemp("report")
    frame.to_csv(folder / "dump.csv", index=False)
    html = build_report(read_dump(folder / "dump.csv"), scorer, "dump.csv", "2026-11-29 10:00 UTC")
    (folder / "report.html").write_text(html, encoding="utf-8")
    return folder / "report.html"


def test_the_report_has_every_section(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    for section in (
        "risk",
        "indicators",
        "flags",
        "campaigns-size",
        "campaigns-risk",
        "contacts",
        "languages",
        "top-ads",
    ):
        assert f'id="{section}"' in html
    assert "phone:+48571330912" in html  # shared by the three reposts
    assert html.count('class="card top-ad"') == 20


def test_ad_text_is_escaped_and_nothing_is_loaded_from_outside(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    for link in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert link.startswith("data:image/png;base64,"), link


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def test_the_report_renders_in_a_browser_with_its_plots(report_file: Path, browser: object) -> None:
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report_file.as_uri())
    widths = page.evaluate("Array.from(document.images).map(image => image.complete ? image.naturalWidth : 0)")
    assert len(widths) == 4 and all(width > 0 for width in widths)
    assert page.locator("h1").inner_text() == "Ads report: dump.csv"
    assert page.locator(".top-ad mark").count() > 0
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    page.close()


def test_a_scored_file_keeps_its_own_risks_bands_and_flags(scorer: Scorer, tmp_path: Path) -> None:
    path = tmp_path / "scored.csv"
    pd.DataFrame(
        {
            "text": ["Работа в Польше, жильё бесплатно", "Офис-менеджер в Минске", ""],
            "risk": [0.42, 0.03, None],
            "band": ["medium", "low", None],
            "red_flags": ["UPFRONT_FEE|URGENCY", "", None],
            "indicators": [2, 0, None],
        }
    ).to_csv(path, index=False)
    scores = ad_scores(read_dump(path), scorer)
    assert scores.risks[:2].tolist() == [0.42, 0.03]
    assert scores.bands == ["medium", "low", None]
    assert scores.red_flags == [["UPFRONT_FEE", "URGENCY"], [], []]
    assert scores.indicators == [2, 0, 0]

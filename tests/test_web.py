"""The dashboard end to end: ``armsledger serve`` on 127.0.0.1, driven in headless Chromium.

Debian's Chromium (``/usr/bin/chromium``) is driven by Playwright for Python; no browser is
ever downloaded. Where either is missing the tests are skipped with the reason. Each test
leaves a screenshot of what it saw in ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import HOSTILE_SPEAKER, HOSTILE_TITLE

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"

#: Seconds the server may take to answer its first request.
STARTUP_SECONDS = 30


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(web_db: str) -> Iterator[str]:
    """``armsledger serve`` on a free port of 127.0.0.1; its base URL."""
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        "from armsledger.cli import main; main()",
        "serve",
        "--db",
        web_db,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = {k: v for k, v in os.environ.items() if k != "ARMSLEDGER_TOKEN"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/deals", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"armsledger serve did not start: {output}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as driver:
        opened = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield opened
        opened.close()


@pytest.fixture
def page(browser: Any, server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page at the server; no console error is allowed, and a screenshot is kept."""
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    opened.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    assert problems == [], f"errors in the browser console: {problems}"


def rows(page: Any, table: str) -> list[list[str]]:
    """The text of each body row of a table, cell by cell, as a person reads it."""
    cells: list[list[str]] = page.eval_on_selector_all(
        f"{table} tbody tr",
        "trs => trs.map(tr => [...tr.cells].map(td => td.innerText.trim()))",
    )
    return cells


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of the whole page as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def not_pwned(page: Any) -> None:
    assert page.evaluate("document.body.dataset.pwned") is None


def test_web_register_filters_sorts_and_downloads(page: Any) -> None:
    page.goto("/")
    assert page.title() == "Register · armsledger"
    assert page.locator("h1").inner_text() == "Register of deals"
    assert [r[:3] for r in rows(page, "#deals")] == [
        ["USA", "POL", "HIMARS"],
        ["RUS", "TUR", "S-400"],
        ["FRA", "IND", "Rafale"],
    ]
    assert "3 deals" in page.locator(".pager .count").first.inner_text()
    shot(page, "page-register")

    page.get_by_label("Supplier").fill("rus")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"supplier=rus"))
    assert [r[:6] for r in rows(page, "#deals")] == [
        ["RUS", "TUR", "S-400", "1", "delivery", ""],
    ]

    page.get_by_role("link", name="Clear").click()
    page.get_by_role("link", name="System").click()
    page.wait_for_url(re.compile(r"sort=-system"))
    assert [r[2] for r in rows(page, "#deals")] == ["S-400", "Rafale", "HIMARS"]
    page.get_by_role("link", name=re.compile(r"^System")).click()
    page.wait_for_url(re.compile(r"sort=system"))
    assert [r[2] for r in rows(page, "#deals")] == ["HIMARS", "Rafale", "S-400"]

    with page.expect_download() as download:
        page.locator("#csv").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,supplier,recipient,system,lot,stage")
    assert [line.split(",")[3] for line in lines[1:]] == ["HIMARS", "Rafale", "S-400"]


def test_web_register_shows_confidence_and_contradictions_sortable(page: Any) -> None:
    page.goto("/")
    headings = page.eval_on_selector_all("#deals thead th", "ths => ths.map(th => th.innerText)")
    assert headings[-2:] == ["Confidence", "Contradictions"]
    assert [r[-2:] for r in rows(page, "#deals")] == [["0.80", "0"]] * 3
    page.get_by_role("link", name="Contradictions").click()
    page.wait_for_url(re.compile(r"sort=-n_contradictions"))
    assert page.locator("th[aria-sort]").inner_text() == "Contradictions ▼"


def test_web_register_select_applies_at_once_and_search_finds_evidence(page: Any) -> None:
    page.goto("/")
    page.get_by_label("Category").select_option("aircraft")
    page.wait_for_url(re.compile(r"category=aircraft"))
    assert [r[2] for r in rows(page, "#deals")] == ["Rafale"]

    page.goto("/")
    page.get_by_label("Search").fill("arrived")
    page.get_by_label("Search").press("Enter")
    page.wait_for_url(re.compile(r"q=arrived"))
    assert [r[2] for r in rows(page, "#deals")] == ["S-400"]

    page.get_by_label("Stage").select_option("contract")
    page.wait_for_url(re.compile(r"stage=contract"))
    assert page.locator("td.empty").inner_text() == "No deal matches these filters."


def test_web_deal_shows_its_timeline_and_evidence_in_its_articles(page: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="S-400").click()
    assert page.locator("#deal-title").inner_text() == "S-400: RUS → TUR"
    assert page.locator("#deal-stage").inner_text() == "delivery"
    events = page.locator("#timeline li")
    assert events.count() == 2
    assert events.nth(0).locator("time").inner_text() == "2017-09-12"
    assert events.nth(0).locator(".stage").inner_text() == "contract"
    assert events.nth(1).locator("time").inner_text() == "2019-07-12"
    assert "said by Hulusi Akar" in events.nth(1).inner_text()
    assert events.nth(1).locator(".modality").inner_text() == "asserted"
    marked = page.locator(".source-article mark.evidence").all_inner_texts()
    assert sorted(marked) == [
        "Moscow and Ankara signed a contract",
        "the first S-400 batteries had arrived from Russia",
    ]
    assert page.get_by_role("link", name="https://news.example/delivery").count() == 1
    shot(page, "page-deal")

    page.get_by_role("link", name="S-400 arrives").click()
    assert page.locator("#article-title").inner_text() == "S-400 arrives"


def test_web_article_marks_entities_and_never_runs_its_markup(page: Any) -> None:
    page.goto("/articles")
    page.get_by_role("link", name=HOSTILE_TITLE).click()
    assert page.locator("#article-title").inner_text() == HOSTILE_TITLE
    assert page.title().startswith(HOSTILE_TITLE)
    text = page.locator("#article-text")
    assert '<img src=x onerror="document.body.dataset.pwned = 1">' in text.inner_text()
    assert "<script>document.body.dataset.pwned = 2</script>" in text.inner_text()
    assert text.locator("img, script").count() == 0
    labels = text.locator(".ent-label").all_inner_texts()
    assert labels == ["FRA", "IND", "RAFALE", "8,700,000,000 USD"]  # labels are upper-cased
    assert text.locator(".ent-state").first.inner_text().startswith("Paris")
    assert text.locator("mark.evidence").count() >= 2
    assert rows(page, "#facts")[0][1:6] == ["FRA", "IND", "Rafale", "contract", "asserted"]
    assert rows(page, "#facts")[0][9] == HOSTILE_SPEAKER
    assert page.locator("a[href^='javascript']").count() == 0
    not_pwned(page)
    shot(page, "page-article-hostile")


def test_web_hostile_deal_shows_payloads_as_text(page: Any) -> None:
    page.goto("/?system=Rafale")
    page.get_by_role("link", name="Rafale").click()
    assert f"said by {HOSTILE_SPEAKER}" in page.locator("#timeline").inner_text()
    assert page.locator("#timeline img, .source-article img, main script").count() == 0
    assert page.get_by_role("heading", name=HOSTILE_TITLE).count() == 1
    not_pwned(page)


def test_web_flows_draws_who_supplies_whom(page: Any) -> None:
    page.goto("/flows")
    bands = page.locator("#flow-diagram path.band")
    assert bands.count() == 3
    labels = page.locator("#flow-diagram text").all_text_contents()
    assert sorted(labels) == ["FRA", "IND", "POL", "RUS", "TUR", "USA"]
    # bands cross in the middle: point at the RUS band where it leaves its supplier
    page.locator("#flow-diagram path.band[data-supplier='RUS']").hover(position={"x": 4, "y": 12})
    assert page.locator("#flow-caption").inner_text() == "RUS → TUR: 1 deals, 2 facts"
    assert rows(page, "#by-year")[0][0] == "2016"
    assert [r[0] for r in rows(page, "#by-year")] == ["2016", "2017", "2019", "2022"]
    shot(page, "page-flows")

    page.get_by_label("Category").select_option("artillery")
    page.wait_for_url(re.compile(r"category=artillery"))
    assert page.locator("#flow-diagram path.band").count() == 1
    assert rows(page, "#flows") == [["USA", "POL", "1", "1"]]
    page.get_by_role("link", name="1").first.click()
    assert [r[:3] for r in rows(page, "#deals")] == [["USA", "POL", "HIMARS"]]


def test_web_json_twin_and_api_docs(page: Any) -> None:
    page.goto("/flows")
    page.get_by_role("link", name="JSON").click()
    assert '"flows"' in page.locator("body").inner_text()
    page.goto("/api/docs")
    assert page.get_by_role("heading", name="GET /api/deals", exact=True).count() == 1
    shot(page, "page-api-docs")


def test_web_bad_filter_shows_the_error(browser: Any, server: str) -> None:
    context = browser.new_context(base_url=server)
    opened = context.new_page()
    try:
        answer = opened.goto("/?since=someday")
        assert answer is not None and answer.status == 400
        shown = opened.locator("#error").inner_text()
        assert shown == "since 'someday' is not a date (YYYY-MM-DD)"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(ARTIFACTS / "test_web_bad_filter_shows_the_error.png"))
    finally:
        context.close()

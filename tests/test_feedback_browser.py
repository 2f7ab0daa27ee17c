"""The feedback page in a real browser: Debian's headless Chromium, driven by chromedriver
through Selenium, against the app served on a local port. The answer is given with the
keyboard alone (Tab, Space, arrows, typing, Enter), then changed by clicking a label; a
screenshot of the filled-in page is kept in tests/artifacts/.

`.ci/run` installs chromium and chromium-driver; elsewhere the test is skipped, saying so.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from integration.core.feedback import tokens
from integration.runtime.store import feedback_answers

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
KEY = "feedback-key-0123456789"


def _browser_reason() -> str | None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture
def browser() -> Iterator[Any]:
    reason = _browser_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the browser test)")
        pytest.skip(f"{reason}; the browser test is skipped")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=760,1100", "--lang=pt-BR"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture
def served(make_app) -> Iterator[tuple[Any, str]]:
    """The app on 127.0.0.1 at a free port, as `dispute-desk serve` runs it."""
    app = make_app(secret_key=KEY)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


# The colour an element's text is drawn in, and the first opaque background behind it.
COLOURS = """
const element = document.querySelector(arguments[0]);
let behind = element;
while (behind && getComputedStyle(behind).backgroundColor.endsWith(', 0)')) behind = behind.parentElement;
return [getComputedStyle(element).color, behind ? getComputedStyle(behind).backgroundColor : 'rgb(255, 255, 255)'];
"""


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two computed CSS colours ("rgb(r, g, b)")."""
    def luminance(colour: str) -> float:
        channels = [int(part) / 255 for part in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3]]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def stored(app) -> list[tuple[int, str | None]]:
    with app.extensions["dispute_desk"].engine.connect() as connection:
        return [(row.rating, row.comment) for row in connection.execute(select(feedback_answers).order_by(feedback_answers.c.id))]


def test_a_customer_answers_with_the_keyboard_then_changes_the_answer_with_a_click(browser, served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    app, base = served
    link = tokens.url(base, tokens.issue(KEY, "zendesk", "35436", "solve-1", "pt", "finance", datetime.now(UTC)))
    driver = browser
    driver.get(link)
    assert driver.title == "Como foi o nosso atendimento?"
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "pt"

    # Keyboard only: Tab to the rating group, Space to choose 1, arrows down to 4.
    active = lambda: driver.switch_to.active_element
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert active().get_attribute("id") == "rating-1"
    active().send_keys(Keys.SPACE)
    for _ in range(3):
        active().send_keys(Keys.ARROW_DOWN)
    assert active().get_attribute("id") == "rating-4" and active().is_selected()
    focused_option = driver.execute_script("return getComputedStyle(document.activeElement.parentElement).outlineStyle")
    assert focused_option == "solid"  # keyboard focus is visible
    for selector in ("h1", "p", "legend", "label[for=rating-1]", "label[for=rating-4]", "label[for=comment]", "#comment-hint", ".ref", "button"):
        foreground, background = driver.execute_script(COLOURS, selector)
        assert contrast(foreground, background) >= 4.5, f"{selector}: {foreground} on {background}"  # WCAG AA
    active().send_keys(Keys.TAB)
    assert active().get_attribute("id") == "comment"
    active().send_keys("Resolveram, mas demorou uma semana.")
    active().send_keys(Keys.TAB)
    assert active().tag_name == "button"
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "feedback-page.png"))
    active().send_keys(Keys.ENTER)

    WebDriverWait(driver, 10).until(shown.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Obrigado!"))
    assert "Você pode alterá-la pelo mesmo link" in driver.find_element(By.TAG_NAME, "main").text
    driver.save_screenshot(str(ARTIFACTS / "feedback-thanks.png"))
    assert stored(app) == [(4, "Resolveram, mas demorou uma semana.")]

    # The same link again: the form is prefilled; a click on a label changes the rating.
    driver.find_element(By.LINK_TEXT, "Alterar minha resposta").click()
    WebDriverWait(driver, 10).until(shown.element_to_be_clickable((By.CSS_SELECTOR, "label[for=rating-5]")))
    assert driver.find_element(By.ID, "rating-4").is_selected()
    assert driver.find_element(By.ID, "comment").get_attribute("value") == "Resolveram, mas demorou uma semana."
    driver.find_element(By.CSS_SELECTOR, "label[for=rating-5]").click()
    assert driver.find_element(By.ID, "rating-5").is_selected()
    driver.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(driver, 10).until(shown.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Obrigado!"))

    assert stored(app) == [(4, "Resolveram, mas demorou uma semana."), (5, "Resolveram, mas demorou uma semana.")]
    events = [e for e in app.extensions["dispute_desk"].inbox.list() if e.source_type == "dispute-desk:feedback_received"]
    assert sorted(json.loads(e.payload)["rating"] for e in events) == [4, 5]

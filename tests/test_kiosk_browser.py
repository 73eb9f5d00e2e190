"""The kiosk screen in a real headless browser (Debian's chromium and chromedriver, Selenium;
nothing is downloaded): a whole card payment made with the on-screen buttons and keypad only,
the captions of both sides, no card number or PIN in the page beyond the last four, and after
the idle timeout nothing of the call in the page, its history or the server's state.
Screenshots of the main steps are saved in the test's temporary folder."""
from __future__ import annotations

import json
import shutil
import time

import pytest

from kiosk_helpers import serve_kiosk

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER) and shutil.which("espeak-ng")),
    reason="needs Debian's chromium, chromium-driver and espeak-ng (scripts/setup.sh)")

CARD, PIN, EXPIRY, ACCOUNT = "4111111111111111", "4321", "1229", "100200300"


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,960", "--lang=en-US"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def wait_for(check, timeout=20.0, what="the page"):
    from selenium.common.exceptions import WebDriverException
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except WebDriverException:      # an element redrawn, or the page reloading, meanwhile
            found = None
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_whole_payment_by_touch_then_nothing_left(tmp_path, browser, monkeypatch):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shots = tmp_path / "screens"
    shots.mkdir()
    sources: list[str] = []

    def page() -> str:
        html = browser.page_source
        sources.append(html)
        return html

    def shot(name: str) -> None:
        browser.save_screenshot(str(shots / f"{name}.png"))

    def text(element_id: str) -> str:
        return browser.find_element(By.ID, element_id).get_attribute("textContent")

    def captions(who: str) -> list[str]:        # read in one go: the list is redrawn live
        return browser.execute_script(
            f"return [...document.querySelectorAll('#captions li.{who}')].map(li => li.textContent)")

    def agent_said(words: str) -> bool:
        return any(words in line for line in captions("agent"))

    def keys(entry: str) -> None:
        for key in entry:
            browser.find_element(By.CSS_SELECTOR, f'#keypad button[data-key="{key}"]').click()

    def choose(key: str) -> None:
        def click() -> bool:
            try:
                browser.find_element(By.CSS_SELECTOR, f'#choices button[data-key="{key}"]').click()
                return True
            except (NoSuchElementException, StaleElementReferenceException):
                return False                # not there yet, or redrawn under the click
        wait_for(click, what=f"the choice {key}")

    with serve_kiosk(tmp_path, idle_timeout_s=8.0, idle_warning_s=4.0) as kiosk:
        browser.get(kiosk.url)
        history = browser.execute_script("return history.length")
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#welcome-languages button"),
                 what="the welcome page")
        shot("1-welcome")
        english = [b for b in browser.find_elements(By.CSS_SELECTOR, "#welcome-languages button")
                   if b.text == "English"]
        english[0].click()
        wait_for(lambda: agent_said("How can I help"), what="the greeting")
        shot("2-menu")
        choose("2")                                   # make a payment
        wait_for(lambda: agent_said("account number"), what="the account question")
        keys(ACCOUNT + "#")
        wait_for(lambda: agent_said("PIN"), what="the PIN question")
        keys(PIN)
        wait_for(lambda: text("entry") == "••••", what="the dots")
        assert PIN not in page()
        browser.find_element(By.ID, "contrast").click()
        browser.find_element(By.ID, "large").click()
        assert set(browser.find_element(By.TAG_NAME, "body").get_attribute("class").split()) >= {
            "contrast", "large"}
        shot("3-pin-dots-contrast")
        browser.find_element(By.ID, "contrast").click()
        browser.find_element(By.ID, "large").click()
        keys("#")
        choose("3")                                   # another amount
        wait_for(lambda: agent_said("dollars and cents") or agent_said("How much"), what="the amount")
        keys("2500#")
        choose("1")                                   # card
        wait_for(lambda: agent_said("card number"), what="the card question")
        keys(CARD[:8])
        wait_for(lambda: text("entry") == "••••••••", what="eight dots")
        assert CARD[:8] not in page()
        keys(CARD[8:] + "#")
        wait_for(lambda: agent_said("expiration"), what="the expiry question")
        keys(EXPIRY + "#")
        wait_for(lambda: "$27.50" in text("facts"), what="the read-back")
        facts = text("facts")
        assert "$25.00" in facts and "$2.50" in facts
        shot("4-read-back")
        choose("1")                                   # yes: pay
        wait_for(lambda: text("code-text"), what="the confirmation code")
        code = text("code-text")
        qr = browser.find_element(By.ID, "code-qr").get_attribute("src")
        assert qr.startswith("data:image/svg+xml")
        shot("5-confirmation")
        html = page()
        callers = captions("caller")
        assert callers and all(c.startswith("You") for c in callers)
        assert any(c.endswith("1111") for c in callers)          # the card, as its last four
        choose("2")                                   # no need to repeat the code
        wait_for(lambda: agent_said("anything else"), what="anything else")
        keys("9")                                     # goodbye
        wait_for(lambda: agent_said("Goodbye") or agent_said("goodbye") or agent_said("Thank you"),
                 what="the goodbye")
        browser.find_element(By.ID, "large").click()         # the next customer must not get it
        # The customer walks away: warned, then the page is the welcome page again.
        wait_for(lambda: browser.find_element(By.ID, "warning").is_displayed(), timeout=15,
                 what="the idle warning")
        shot("6-idle-warning")
        wait_for(lambda: browser.execute_script(
            "const w = document.getElementById('welcome');"
            "return document.readyState === 'complete' && !!w && !w.hidden"
            " && document.querySelectorAll('#welcome-languages button').length > 0"),
            timeout=15, what="the welcome page after the idle timeout")
        time.sleep(0.5)
        shot("7-welcome-again")
        after = page()
        server_state = json.dumps(kiosk.screen.state, ensure_ascii=False)
        for gone in (ACCOUNT, code, "$25.00", "$27.50", "1111", "ending", "How can I help"):
            assert gone not in after, gone
            assert gone not in server_state, gone
        assert browser.execute_script("return history.length") == history
        assert "large" not in browser.find_element(By.TAG_NAME, "body").get_attribute("class")
        assert browser.current_url == kiosk.url
        for html in sources:                          # never, at any step
            assert CARD not in html and CARD[:12] not in html and PIN not in html
            assert EXPIRY not in html
    for name in ("1-welcome", "3-pin-dots-contrast", "4-read-back", "5-confirmation", "7-welcome-again"):
        assert (shots / f"{name}.png").stat().st_size > 1000

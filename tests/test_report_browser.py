"""The report opened in a real headless browser (Debian's Chromium and chromedriver, installed by
scripts/setup.sh; nothing is downloaded at run time): every chart is drawn, nothing is broken,
the console stays clean, and the tables show the store's figures. A screenshot is kept in the
test's temporary folder."""
import json
import shutil
from pathlib import Path

import pytest

from voice_agent.cli import main
from voice_agent.store import Store
from voice_agent.store.db import utcnow

from report_helpers import EXPECTED, seed
from store_helpers import FAST_HASH_ARGS, make_settings

webdriver = pytest.importorskip("selenium.webdriver")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHARTS = ("calls_by_channel", "calls_by_language", "outcomes", "containment", "funnel", "misses",
          "confidence", "payments", "fees", "open_cases")

pytestmark = pytest.mark.skipif(not CHROMEDRIVER.exists() or not Path(CHROMIUM).exists(),
                                reason="Debian chromium and chromium-driver are not installed"
                                       " (scripts/setup.sh installs them)")


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,4000", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_every_chart_renders_in_chromium(tmp_path, capsys, browser):
    with Store.open(make_settings(tmp_path)) as store:
        store.install_demo()
        seed(store, utcnow())
    out = tmp_path / "report.html"
    assert main(["report", "--db", str(tmp_path / "store.db"), *FAST_HASH_ARGS, "--out", str(out),
                 "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    browser.get(out.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    charts = browser.execute_script(
        "return Array.from(document.images).map(i => ({name: i.dataset.chart,"
        " complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,"
        " shown: i.getBoundingClientRect().width}))")
    assert [c["name"] for c in charts] == list(CHARTS)
    broken = [c["name"] for c in charts
              if not c["complete"] or c["width"] == 0 or c["height"] == 0 or c["shown"] == 0]
    assert broken == [], f"charts not drawn: {broken}"
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    console = browser.get_log("browser")
    assert [e for e in console if e["level"] in ("SEVERE", "WARNING")] == [], console
    # What the browser shows is what the store holds.
    funnel = browser.execute_script(
        "return Array.from(document.querySelectorAll('table[data-table=funnel] tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent))")
    assert funnel == [[s["stage"], str(s["calls"]), str(s["dropped"])]
                      for s in EXPECTED["funnel"]]
    assert figures["funnel"] == EXPECTED["funnel"]
    shown = browser.find_element("css selector", "table[data-table=containment]").text
    assert "40.0%" in shown

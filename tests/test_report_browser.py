"""The HTML report in a real browser: headless Chromium loads it, filters, opens a mapping, screenshots it.

Skips with the reason when Chromium, chromedriver or selenium is absent (`make test`
installs Chromium where it can). The screenshot is kept in test-artifacts/.
"""

import shutil
import pytest

from .conftest import ROOT
from .test_report import demo_run, hostile_run  # noqa: F401  (fixtures)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

pytestmark = [pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                 reason="headless Chromium not installed (apt-get install chromium chromium-driver)"),
              pytest.mark.slow]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)  # no driver download
    yield driver
    driver.quit()


def visible_rows(driver, section: str) -> list:
    from selenium.webdriver.common.by import By

    return [r for r in driver.find_elements(By.CSS_SELECTOR, f"#{section} tr.row") if r.is_displayed()]


def test_filter_open_and_screenshot(browser, demo_run):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get((demo_run / "report.html").as_uri())
    assert "crosswalk review" in browser.title
    all_rows = visible_rows(browser, "bpd-crosswalk")
    assert len(all_rows) > 40

    search = browser.find_element(By.CSS_SELECTOR, "#bpd-crosswalk input[data-filter=text]")
    search.send_keys("vesting")
    shown = visible_rows(browser, "bpd-crosswalk")
    assert 0 < len(shown) < len(all_rows)
    assert "of" in browser.find_element(By.CSS_SELECTOR, "#bpd-crosswalk [data-count]").text
    search.clear()
    search.send_keys(" ")  # an input event with an empty query shows everything again
    Select(browser.find_element(By.CSS_SELECTOR, "#bpd-crosswalk select[data-filter=variance]")).select_by_visible_text("design")
    design = visible_rows(browser, "bpd-crosswalk")
    assert design and all(r.get_attribute("data-variance") == "design" for r in design)

    design[0].click()
    detail = browser.find_element(By.CSS_SELECTOR, f'tr[data-detail-for="{design[0].get_attribute("id")}"]')
    assert detail.is_displayed()
    assert "Recommended action" in detail.text
    assert detail.find_elements(By.CSS_SELECTOR, "del, ins")
    browser.execute_script("arguments[0].scrollIntoView()", design[0])
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_hostile_text_is_shown_not_run(browser, hostile_run):
    from selenium.webdriver.common.by import By

    browser.get((hostile_run / "report.html").as_uri())
    assert browser.execute_script("return window.__pwned === undefined")
    source_id = "ks-bpd-004"
    browser.find_element(By.ID, source_id).click()
    detail = browser.find_element(By.CSS_SELECTOR, f'tr[data-detail-for="{source_id}"]')
    assert "<script>window.__pwned = 1</script>" in detail.text
    assert browser.execute_script("return window.__pwned === undefined")

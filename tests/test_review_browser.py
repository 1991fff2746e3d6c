"""`crosswalk review` in a real browser: the app runs as its own process on 127.0.0.1, headless
Chromium reviews five items with the keyboard, reloads and finds them kept, the decisions CSV is
exported, and a recompute changes a confirmation. Document text with markup stays text.

Skips with the reason when Chromium, chromedriver or selenium is absent.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from .conftest import EXAMPLES
from .test_report import INJECTION, run_cli

pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

from .test_report_browser import ARTIFACTS, CHROMEDRIVER, CHROMIUM, browser  # noqa: F401  (one Chromium fixture)

pytestmark = [pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                 reason="headless Chromium not installed (apt-get install chromium chromium-driver)"),
              pytest.mark.slow]


class ReviewApp:
    """`crosswalk review OUT --no-browser` in its own process; `url` is what it printed."""

    def __init__(self, out: Path, store: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "crosswalk", "review", str(out), "--no-browser",
                                      "--store", str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line + self.proc.stderr.read()
        self.url = line.split(" at ")[1].strip()
        self.base, self.token = self.url.split("/?token=")

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"{self.base}{path}?token={self.token}", timeout=30) as response:
            return response.read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def wait_for(driver, condition, timeout: float = 30):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # the page re-renders after every answer: an element found a moment ago may be gone
    return WebDriverWait(driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                         ).until(lambda d: condition(d))


def decided(driver) -> int:
    from selenium.webdriver.common.by import By

    return int(driver.find_element(By.ID, "progress").get_attribute("data-decided") or -1)


def press(driver, key: str, expect_decided: int) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    idle = lambda d: not d.find_element(By.TAG_NAME, "body").get_attribute("data-busy")
    wait_for(driver, idle)  # the previous answer's queue has loaded: keys are taken again
    ActionChains(driver).send_keys(key).perform()
    wait_for(driver, lambda d: decided(d) == expect_decided and idle(d))


@pytest.fixture()
def reviewed_run(tmp_path) -> tuple[Path, Path]:
    """The demo run (from the bundled PDFs) with its own store: decisions there apply to later runs of
    the same documents, which must not leak into other tests."""
    out, store = tmp_path / "out", tmp_path / "store.sqlite"
    proc = run_cli("demo", "-o", out, "--store", store)
    assert proc.returncode == 0, proc.stderr
    return out, store


def test_review_five_items_with_the_keyboard(browser, reviewed_run):
    from selenium.webdriver.common.by import By

    out, store = reviewed_run
    confirmations = {c["source_id"]: c for c in json.loads((out / "confirmations.json").read_text())["confirmations"]}
    confirmed = next(sid for sid, c in confirmations.items() if c["status"] == "CONFIRMED")
    app = ReviewApp(out, store)
    try:
        browser.get(app.url)
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#queue li") and d.find_elements(By.CSS_SELECTOR, "[data-current]"))
        assert decided(browser) == 0
        # 1: a confirmed provision is said to have no counterpart (its confirmation must change)
        browser.find_element(By.CSS_SELECTOR, f'#queue li[data-source="{confirmed}"]').click()
        wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-current]").get_attribute("data-current") == confirmed)
        press(browser, "n", 1)
        # 2-3: accept what the queue puts first; 4: pick the second candidate; 5: accept
        press(browser, "a", 2)
        press(browser, "a", 3)
        press(browser, "2", 4)
        press(browser, "a", 5)
        browser.refresh()
        wait_for(browser, lambda d: decided(d) == 5)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#queue li.decided")) >= 1
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "review.png"))

        rows = list(csv.DictReader(io.StringIO(app.get("/export/decisions.csv").decode())))
        assert len(rows) == 5 and {"source_id", "target_id", "note"} <= set(rows[0])
        assert {"source_id": confirmed, "target_id": "none", "note": ""} in rows

        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(browser).send_keys("r").perform()
        wait_for(browser, lambda d: "reports rewritten" in d.find_element(By.ID, "status").text, timeout=120)
        after = {c["source_id"]: c for c in json.loads((out / "confirmations.json").read_text())["confirmations"]}
        assert after[confirmed]["status"] != "CONFIRMED"
        mapping = next(m for m in json.loads((out / "bpd_crosswalk.json").read_text())["mappings"] if m["source_id"] == confirmed)
        assert mapping["target_id"] is None and mapping["reviewed"]
    finally:
        app.stop()
    # the next run of the same documents starts with the decisions applied
    again = run_cli("demo", "-o", out.parent / "again", "--store", store)
    assert again.returncode == 0, again.stderr
    reviewed = [m for m in json.loads((out.parent / "again" / "bpd_crosswalk.json").read_text())["mappings"] if m["reviewed"]]
    assert confirmed in {m["source_id"] for m in reviewed}


def test_document_text_is_shown_as_text(browser, tmp_path):
    from selenium.webdriver.common.by import By

    for name in ("source_bpd", "target_bpd"):
        doc = json.loads((EXAMPLES / f"{name}.json").read_text())
        doc["provisions"][4]["text"] = INJECTION
        doc["provisions"][4]["title"] = "<b>Compensation</b>"
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    out, store = tmp_path / "out", tmp_path / "store.sqlite"
    proc = run_cli("run", "--source-bpd", tmp_path / "source_bpd.json", "--target-bpd", tmp_path / "target_bpd.json",
                   "-o", out, "--store", store, "-q")
    assert proc.returncode == 0, proc.stderr
    source_id = json.loads((tmp_path / "source_bpd.json").read_text())["provisions"][4]["id"]
    app = ReviewApp(out, store)
    try:
        browser.get(app.url)
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#queue li[data-source="{source_id}"]'))
        browser.find_element(By.CSS_SELECTOR, f'#queue li[data-source="{source_id}"]').click()
        wait_for(browser, lambda d: "<b>Compensation</b>" in d.find_element(By.ID, "detail").text)
        assert "<script>window.__pwned = 1</script>" in browser.find_element(By.ID, "detail").text
        assert browser.execute_script("return window.__pwned === undefined")
        assert not browser.find_elements(By.CSS_SELECTOR, "#detail img, #detail b")
    finally:
        app.stop()

"""The what-if page driven as a planner drives it, in headless Chromium through chromedriver.

``ccsim whatif configs/planner/voice_week.yaml`` runs in a process of its own; the browser
loads the page, changes Monday's volume, presses Run, waits for the results and reads the
service level's paired difference and interval off the row's ``data-*`` attributes; Save
variant writes the experiment file, and ``ccsim experiment`` on it (same seed, same
replications) must give the same numbers. A bad value shows its field's message and starts
nothing. Chromium and its driver are Debian packages (``apt-get install chromium
chromium-driver``); ``.ci/run`` installs them, so on CI (``CI`` set) a missing one fails the
test instead of skipping it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from ccsim.cli import main
from ccsim.whatif.form import variant

ROOT = Path(__file__).resolve().parent.parent
VOICE_WEEK = ROOT / "configs/planner/voice_week.yaml"
MONDAY = "channels.voice.arrivals.volume.mon"
BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser") if shutil.which(b)), None)
DRIVER = shutil.which("chromedriver")

if BROWSER is None or DRIVER is None or importlib.util.find_spec("selenium") is None:
    _MISSING = "headless Chromium, chromedriver or selenium is not installed"
    _FIX = "apt-get install chromium chromium-driver; pip install '.[dev]'"
    if os.environ.get("CI"):
        pytest.fail(
            f"no Chromium, chromedriver or selenium on CI: .ci/run installs them ({_FIX})",
            pytrace=False,
        )
    pytestmark = pytest.mark.skip(reason=f"{_MISSING}: {_FIX}")

#: A comparison of a week runs its first batch only: the stopping rule's minimum.
REPLICATIONS = "5"


@pytest.fixture
def page(tmp_path):
    """The server started as a user starts it, and a browser on its page: (driver, url, out)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from test_whatif_cli import start_server

    out = tmp_path / "out"
    server, url = start_server(
        tmp_path, str(VOICE_WEEK), "--max-replications", REPLICATIONS, "--out", str(out)
    )
    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(url)
        yield driver, url, out
    finally:
        driver.quit()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _type(driver, path: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.NAME, path)
    box.clear()
    box.send_keys(text)


def _runs(url: str) -> list:
    with urllib.request.urlopen(url + "api/runs", timeout=30) as answer:
        return json.load(answer)


def test_a_changed_input_gives_the_same_difference_as_ccsim_experiment(page, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    driver, url, _ = page
    _type(driver, MONDAY, "1400")
    field = driver.find_element(By.CSS_SELECTOR, f'.field[data-path="{MONDAY}"]')
    assert "changed" in field.get_attribute("class")
    driver.find_element(By.ID, "run").click()
    WebDriverWait(driver, 300).until(shown.visibility_of_element_located((By.ID, "kpis")))
    row = driver.find_element(By.CSS_SELECTOR, 'tr[data-channel="voice"][data-kpi="service_level"]')
    on_page = {
        k: float(row.get_attribute(f"data-{k}")) for k in ("difference", "ci-low", "ci-high")
    }
    assert on_page["ci-low"] <= on_page["difference"] <= on_page["ci-high"] < 0  # more calls
    assert driver.find_element(By.ID, "result").get_attribute("data-replications") == REPLICATIONS
    assert "1200 -> 1400" in driver.find_element(By.ID, "history").text

    driver.find_element(By.ID, "save").click()
    saved = WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.ID, "saved").get_attribute("data-experiment")
    )
    assert main(["experiment", saved, "--out", str(tmp_path / "again"), "--no-report"]) == 0
    table = pd.read_csv(tmp_path / "again" / "comparisons.csv")
    mine = table[(table["channel"] == "voice") & (table["kpi"] == "service_level")]
    if "site" in table:
        mine = mine[mine["site"] == "all"]
    assert len(mine) == 1
    again = mine.iloc[0]
    assert again["n"] == int(REPLICATIONS)
    for key, column in (("difference", "difference"), ("ci-low", "ci_low"), ("ci-high", "ci_high")):
        assert on_page[key] == pytest.approx(again[column], abs=1e-9)


def test_a_bad_value_shows_its_message_and_runs_nothing(page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver, url, out = page
    _type(driver, MONDAY, "-5")
    driver.find_element(By.ID, "run").click()
    error = WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'.field[data-path="{MONDAY}"] .error').text
    )
    assert error == variant(VOICE_WEEK, {MONDAY: "-5"}).errors[MONDAY]
    assert driver.find_element(By.ID, "message").text
    assert _runs(url) == [] and not out.exists()
    # finding r2-9: "1 field(s) to correct: nothing ran" stayed after Back to the base,
    # above the results of another run
    driver.find_element(By.ID, "reset").click()
    assert driver.find_element(By.ID, "message").text == ""
    assert driver.find_element(By.NAME, MONDAY).get_attribute("value") == "1200"
    # finding r2-8: the base's value respelt is no change, on the page as on the server
    _type(driver, MONDAY, "1200.0")
    field = driver.find_element(By.CSS_SELECTOR, f'.field[data-path="{MONDAY}"]')
    assert "changed" not in field.get_attribute("class")

"""Headless Chromium for the console's tests, and what a test does with the page.

    driver = start_chromium("/usr/bin/chromium", "/usr/bin/chromedriver", profile_dir)
    page = Console(driver, server, downloads_dir)
    page.open()                         # the console at server.url + "/"
    page.sign_in(key)                   # through the form, as a user
    page.wait_text("#devices", "board") # waits (WebDriverWait), never sleeps
    page.screenshot("devices")          # build/console/devices.png
"""

import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "console"
WIDTH, HEIGHT = 1200, 800
WAIT_S = 15  # the longest any condition may take; live values need about 2 s


def start_chromium(chromium, chromedriver, profile_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        # This machine's network is closed: no update checks, sync or other calls home.
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-quic", "--no-first-run", "--no-default-browser-check",
        "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=en-US",
        "--window-size=%d,%d" % (WIDTH, HEIGHT), "--user-data-dir=%s" % profile_dir,
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # A driver path given: Selenium does not run Selenium Manager (no downloads).
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(chromedriver)))
    # The page itself 1200x800, whatever the window's frame takes.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    return driver


class Console:
    def __init__(self, driver, server, downloads):
        self.driver = driver
        self.server = server
        self.downloads = Path(downloads)
        self.downloads.mkdir(parents=True, exist_ok=True)
        driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(self.downloads)})
        driver.get_log("browser")  # forget what earlier tests logged

    # --- navigation
    def open(self, fragment=""):
        self.driver.get(self.server.url + "/" + fragment)
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete")

    def leave(self):
        """Away from this test's server (which stops next), so nothing polls it."""
        self.driver.get("about:blank")

    def sign_in(self, key):
        field = self.find("#api-key")
        field.clear()
        field.send_keys(key)
        self.find("#sign-in-button").click()

    # --- reading the page
    def find(self, css):
        return self.wait(lambda d: _visible(d, css), "%s to be shown" % css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.find(css).text

    def wait(self, condition, what="the condition", timeout=WAIT_S):
        """condition(driver)'s first truthy value within timeout seconds."""
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(condition)
        except Exception as error:
            self.screenshot("failed")
            raise AssertionError("waited %d s for %s; the page says:\n%s\nbrowser log: %s" % (
                timeout, what, self._page_text(), self.driver.get_log("browser"))) from error

    def wait_text(self, css, expected, timeout=WAIT_S):
        """The first element matching css, once its text holds `expected`."""
        def holds(driver):
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                if expected in element.text:
                    return element
            return False
        return self.wait(holds, "%r in %s" % (expected, css), timeout)

    def _page_text(self):
        try:
            return self.driver.find_element(By.TAG_NAME, "body").text[:3000]
        except Exception:  # noqa: BLE001 - only for the failure message
            return "(no page)"

    def session_key(self):
        return self.driver.execute_script("return sessionStorage.getItem('m2x-console-key')")

    # --- files
    def screenshot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (name + ".png")
        self.driver.save_screenshot(str(path))
        return path

    def download(self, click, name_part, timeout=WAIT_S):
        """Clicks, then waits for a finished download whose name holds name_part; its text."""
        before = set(self.downloads.iterdir())
        click()

        def finished(_):
            for path in set(self.downloads.iterdir()) - before:
                if name_part in path.name and path.suffix == ".csv":
                    return path
            return False
        path = self.wait(finished, "a downloaded %s CSV" % name_part, timeout)
        return path.read_text()


def _visible(driver, css):
    for element in driver.find_elements(By.CSS_SELECTOR, css):
        if element.is_displayed():
            return element
    return False


def wait_until(condition, what, timeout=WAIT_S):
    """For conditions outside the browser (the server, the device process)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("waited %d s for %s" % (timeout, what))
        time.sleep(0.05)

"""Debian's Chromium driven by Selenium, headless, with axe-core for accessibility checks.

Nothing is downloaded here: the browser and its driver come from Debian packages
(deploy/local/debian-packages.sh), axe-core from npm (build/node, `make browser-tools`), and
Selenium Manager is kept offline. When the browser cannot start, the tests skip with the reason,
except in CI (CI=true) or under `make test`, where that is a failure.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import REAL_SERVERS_REQUIRED, REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE = REPO / "build" / "node" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "var" / "screenshots" / "portal"
DESKTOP = (1280, 900)
PHONE = (375, 812)
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def unavailable(message: str) -> None:
    if REAL_SERVERS_REQUIRED:
        pytest.fail(f"the browser tests need a browser: {message}")
    pytest.skip(message)


def ensure_tools() -> None:
    """Installs what is missing with the project's own scripts (idempotent, quick when present)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        done = subprocess.run(  # noqa: S603
            ["bash", str(REPO / "deploy/local/debian-packages.sh"), "chromium", "chromium-driver", "fonts-noto-cjk"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0:
            unavailable(f"could not install chromium: {done.stderr.strip()[-400:]}")
    if not AXE.exists():
        done = subprocess.run(  # noqa: S603
            ["bash", str(REPO / "deploy/local/node-tools.sh"), "axe"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not AXE.exists():
            unavailable(f"could not install axe-core: {done.stderr.strip()[-400:]}")


def start_browser() -> webdriver.Chrome:
    ensure_tools()
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN", "--hide-scrollbars"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    except WebDriverException as error:
        unavailable(f"chromium did not start: {error.msg}")
        raise
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


class Browser:
    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url
        self._axe = AXE.read_text(encoding="utf-8")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def click_and_load(self, css: str) -> None:
        """Clicks a link or submit button and waits until the next page has replaced this one."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.CSS_SELECTOR, css).click()
        # Asked about the old page while Chromium swaps it out, the driver may answer with an inspector
        # error ("Node with given id does not belong to the document") instead of a stale element:
        # the page is going, so the wait asks again rather than failing.
        WebDriverWait(self.driver, 30, ignored_exceptions=(WebDriverException,)).until(
            expected_conditions.staleness_of(old)
        )
        WebDriverWait(self.driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def screenshots(self, name: str) -> None:
        """Full-page PNGs at desktop and 375-px phone width, for people to look at."""
        for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
            self._emulate(width, height, mobile=label == "phone")
            full = int(self.driver.execute_script("return document.documentElement.scrollHeight"))
            shot = self.driver.execute_cdp_cmd(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": width, "height": min(full, 6000), "scale": 1},
                },
            )
            (SCREENSHOTS / f"{name}-{label}.png").write_bytes(base64.b64decode(shot["data"]))
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def _emulate(self, width: int, height: int, *, mobile: bool) -> None:
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def axe_violations(self) -> list[dict[str, Any]]:
        self.driver.execute_script(self._axe)
        script = (
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: " + json.dumps(WCAG_AA) + "}})"
            ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))"
            ".catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));"
        )
        found: list[dict[str, Any]] = self.driver.execute_async_script(script)
        return found

"""tests/browser.py drives a real headless Chromium: open, click, wait, screenshot, phone.

A stdlib HTTP server on 127.0.0.1 (ephemeral port) serves one small page; the
tests needing chromium are skipped, with chromium_missing()'s reason, without it.
"""

from __future__ import annotations

import contextlib
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests import browser as harness

pytestmark = pytest.mark.browser
needs_chromium = pytest.mark.skipif(
    bool(harness.chromium_missing()), reason=harness.chromium_missing() or "-"
)

PAGE = b"""<!doctype html>
<html><head><meta name="viewport" content="width=device-width, initial-scale=1">
<title>harness</title>
<style>
  body { font: 16px sans-serif; margin: 0; }
  #tall { height: 2400px; background: linear-gradient(#cde, #edc); }
  @media (max-width: 600px) { #status { color: rgb(200, 0, 0); } }
</style></head>
<body>
  <button id="go" onclick="setTimeout(() => {
    document.getElementById('status').textContent = 'clicked'; }, 200)">Go</button>
  <p id="status">waiting</p>
  <div id="tall">a page taller than the window</div>
</body></html>
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def driver():
    reason = harness.chromium_missing()
    if reason:
        pytest.skip(reason)
    with harness.browser() as chrome:
        yield chrome


def png_size(path: Path) -> tuple[int, int]:
    """The (width, height) a PNG file declares; fails if it is not a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@needs_chromium
def test_a_click_that_changes_text_is_waited_for_and_screenshotted(driver, site, tmp_path):
    driver.get(site)
    assert driver.execute_script("return [innerWidth, innerHeight]") == [1280, 900]
    assert driver.find_element(By.ID, "status").text == "waiting"
    driver.find_element(By.ID, "go").click()
    harness.wait_for(
        driver,
        lambda d: d.find_element(By.ID, "status").text == "clicked",
        timeout=5,
        message="the button's script did not change the status",
    )
    shot = harness.screenshot(driver, tmp_path / "shots", "clicked")
    assert shot == tmp_path / "shots" / "clicked.png"
    assert shot.stat().st_size > 0
    assert png_size(shot) == (1280, 900)


@needs_chromium
def test_a_full_page_screenshot_goes_beyond_the_window(driver, site, tmp_path):
    driver.get(site)
    viewport = png_size(harness.screenshot(driver, tmp_path, "viewport"))
    try:
        whole = png_size(harness.full_page_screenshot(driver, tmp_path, "whole", width=800))
    finally:
        harness.desktop(driver)
    assert whole[0] == 800
    assert whole[1] >= 2400 > viewport[1]


@needs_chromium
def test_phone_makes_the_viewport_390_wide_and_its_media_queries_apply(driver, site, tmp_path):
    driver.get(site)
    try:
        harness.phone(driver)
        assert driver.execute_script("return [innerWidth, innerHeight]") == [390, 844]
        assert driver.find_element(By.ID, "status").value_of_css_property("color") in (
            "rgba(200, 0, 0, 1)",
            "rgb(200, 0, 0)",
        )
        assert png_size(harness.screenshot(driver, tmp_path, "phone")) == (390, 844)
    finally:
        harness.desktop(driver)
    assert driver.execute_script("return [innerWidth, innerHeight]") == [1280, 900]


@needs_chromium
def test_wait_for_times_out_as_an_assertion_error_with_the_message(driver, site):
    driver.get(site)
    with pytest.raises(AssertionError, match="the status never says done"):
        harness.wait_for(
            driver,
            lambda d: d.find_element(By.ID, "status").text == "done",
            timeout=0.5,
            message="the status never says done",
        )


@needs_chromium
def test_the_browser_quits_and_its_profile_goes_even_when_the_test_fails():
    with pytest.raises(ZeroDivisionError), harness.browser(width=640, height=480) as chrome:
        process = chrome.service.process
        profile = Path(
            next(a for a in chrome.options.arguments if a.startswith("--user-data-dir=")).split(
                "=", 1
            )[1]
        )
        assert profile.is_dir()
        assert chrome.execute_script("return [innerWidth, innerHeight]") == [640, 480]
        1 / 0  # noqa: B018 - the failing test
    assert process.poll() is not None, "chromedriver still runs"
    assert not profile.exists() and not profile.parent.exists()


def test_chromium_missing_names_what_is_missing_and_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(harness, "DEBIAN_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setattr(harness, "DEBIAN_CHROMEDRIVER", str(tmp_path / "no-chromedriver"))
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = harness.chromium_missing()
    assert "chromium and chromedriver" in reason and "make install" in reason
    driver_only = tmp_path / "chromedriver"
    driver_only.write_text("#!/bin/sh\n")
    driver_only.chmod(0o755)
    reason = harness.chromium_missing()
    assert "chromium" in reason and "chromedriver" not in reason.split("(")[0]
    with contextlib.suppress(RuntimeError), harness.browser():
        pytest.fail("browser() started without chromium")

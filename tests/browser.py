"""A real headless Chromium for the dashboard's browser tests (marker ``browser``).

Debian's ``chromium`` and ``chromium-driver`` packages (``make install`` brings them),
driven by selenium with both paths given, so selenium never goes looking for or
downloading a driver. Each :func:`browser` is a fresh profile in a temporary
directory, removed with the browser when the test ends, passed or failed.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

DEBIAN_CHROMIUM = "/usr/bin/chromium"
DEBIAN_CHROMEDRIVER = "/usr/bin/chromedriver"
PHONE = (390, 844)
# Seconds: a page load, an async script, a driver command (session start included).
PAGE_LOAD_TIMEOUT = 30
SCRIPT_TIMEOUT = 10
COMMAND_TIMEOUT = 60


def chromium_path() -> str | None:
    """Debian's chromium, else a ``chromium`` on PATH, else None."""
    if os.access(DEBIAN_CHROMIUM, os.X_OK):
        return DEBIAN_CHROMIUM
    return shutil.which("chromium")


def chromedriver_path() -> str | None:
    """Debian's chromedriver, else a ``chromedriver`` on PATH, else None."""
    if os.access(DEBIAN_CHROMEDRIVER, os.X_OK):
        return DEBIAN_CHROMEDRIVER
    return shutil.which("chromedriver")


def chromium_missing() -> str:
    """ "" when chromium and chromedriver are both here, else why not (a pytest.skip reason)."""
    missing = [
        name
        for name, path in (("chromium", chromium_path()), ("chromedriver", chromedriver_path()))
        if path is None
    ]
    if not missing:
        return ""
    return (
        f"browser tests need {' and '.join(missing)} (Debian packages chromium and "
        "chromium-driver): run `make install`"
    )


def _options(width: int, height: int, profile: Path) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path() or DEBIAN_CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the tests may run as root, where the sandbox refuses to start
        "--disable-dev-shm-usage",  # a container's /dev/shm is often too small
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    return options


@contextlib.contextmanager
def browser(width: int = 1280, height: int = 900) -> Iterator[webdriver.Chrome]:
    """A headless Chromium whose viewport is ``width`` x ``height`` CSS pixels, with a
    fresh profile; quit at exit. (Headless chromium's ``--window-size`` is the outer
    window, some 140 px taller than the page sees, so the viewport is set exactly.)

    Startup is bounded by selenium: chromedriver must listen within its service's
    start polls (about 30 s), and the new-session request (chromium's launch) answer
    within selenium's 120 s command timeout; later commands within COMMAND_TIMEOUT.
    A startup error carries the tail of chromedriver's log.
    """
    reason = chromium_missing()
    if reason:
        raise RuntimeError(reason)
    scratch = Path(tempfile.mkdtemp(prefix="stratus-browser-"))
    log = scratch / "chromedriver.log"
    service = Service(executable_path=chromedriver_path(), log_output=str(log))
    driver = None
    try:
        try:
            driver = webdriver.Chrome(
                options=_options(width, height, scratch / "profile"), service=service
            )
        except Exception as exc:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"chromium did not start: {exc}\n{tail}") from exc
        driver.command_executor.client_config.timeout = COMMAND_TIMEOUT
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
        driver.set_script_timeout(SCRIPT_TIMEOUT)
        set_viewport(driver, width, height)
        yield driver
    finally:
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.quit()
        # quit() stops the driver; this covers a driver that never got a session.
        with contextlib.suppress(Exception):
            service.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def set_viewport(driver: webdriver.Chrome, width: int, height: int, mobile: bool = False) -> None:
    """Make the page's viewport exactly ``width`` x ``height`` CSS pixels (media queries,
    ``window.innerWidth``); ``mobile`` also makes it honour ``<meta name=viewport>``."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def phone(driver: webdriver.Chrome) -> None:
    """Switch to a phone's viewport (390 x 844, mobile)."""
    set_viewport(driver, *PHONE, mobile=True)


def desktop(driver: webdriver.Chrome, width: int = 1280, height: int = 900) -> None:
    """Switch (back) to a desktop viewport, 1280 x 900 unless told."""
    set_viewport(driver, width, height)


def wait_for(
    driver: webdriver.Chrome,
    condition: Callable[[webdriver.Chrome], object],
    timeout: float = 10,
    message: str = "",
):
    """``condition``'s first truthy result within ``timeout`` s; AssertionError(``message``)
    if none comes (selenium's expected_conditions fit as ``condition``). A condition
    that reads the page while it is being replaced (after a click that navigates) is
    asked again."""

    def check(d: webdriver.Chrome):
        try:
            return condition(d)
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        except WebDriverException as exc:
            # chromedriver: the old document's context is gone mid-navigation.
            if "inspector error" in str(exc) or "Cannot find context" in str(exc):
                return False
            raise

    try:
        return WebDriverWait(driver, timeout).until(check)
    except TimeoutException:
        detail = message or getattr(condition, "__name__", repr(condition))
        raise AssertionError(f"after {timeout} s: {detail} (page {driver.current_url})") from None


def _png_path(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory / (name if name.endswith(".png") else f"{name}.png")


def screenshot(driver: webdriver.Chrome, directory: Path, name: str) -> Path:
    """Save what the viewport shows as ``directory/name.png`` (directory made)."""
    path = _png_path(Path(directory), name)
    if not driver.save_screenshot(str(path)):
        raise AssertionError(f"chromium could not save a screenshot to {path}")
    return path


def full_page_screenshot(
    driver: webdriver.Chrome, directory: Path, name: str, width: int | None = None
) -> Path:
    """Save the whole page, beyond the viewport, as ``directory/name.png``; at ``width``
    CSS pixels when given (the viewport stays at that width afterwards)."""
    if width is not None:
        set_viewport(driver, width, driver.execute_script("return window.innerHeight"))
    size = driver.execute_script(
        "const e = document.documentElement;"
        "return [Math.max(e.scrollWidth, window.innerWidth),"
        " Math.max(e.scrollHeight, document.body ? document.body.scrollHeight : 0)];"
    )
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1},
        },
    )
    path = _png_path(Path(directory), name)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path

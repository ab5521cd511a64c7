"""Screenshots of the dashboard for the README, at 1280 px, in a headless Chromium.

    python -m tests.e2e.dashboard_screenshots URL DEMO_PASSWORD OUTDIR

Signs in as demo, launches two servers with the Launch form (image "demo", flavor
m1.tiny, network "private" unless told otherwise), waits until their rows say
ACTIVE, and saves ``instances.png`` (the Instances page) and ``launch.png`` (the
Launch form filled in, not submitted). The servers it launched are deleted again
from their rows' Delete buttons.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

from selenium.webdriver.common.by import By

from tests import browser as harness
from tests.e2e import test_dashboard_browser as pages

WIDTH = 1280
HEIGHT = 800


def launch(driver, url: str, name: str) -> str:
    """Launch ``name`` from the form; its id once its row is on the Instances page."""
    form = pages.launch_form(driver, url, name)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    harness.wait_for(
        driver, lambda d: pages.path_of(d) == "/project/instances", 30, "no Instances page"
    )
    return pages.instance_id(driver, name)


def delete_named(driver, url: str, names: list[str]) -> None:
    """Delete the servers called ``names`` from their rows (those that are there)."""
    for name in names:
        try:
            driver.get(f"{url}/project/instances")
            server_id = pages.instance_id(driver, name)
            pages.row_button(driver, server_id, "Delete").click()
            pages.confirm(driver)
            harness.wait_for(driver, lambda d: pages.path_of(d) == "/project/instances", 30)
        except Exception as error:
            print(f"could not delete {name}: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.dashboard_screenshots")
    parser.add_argument("url", help="the dashboard's URL, e.g. http://127.0.0.1:8080/")
    parser.add_argument("password", help="demo's password (ready.json of run-all)")
    parser.add_argument("outdir", type=Path, help="where the PNG files go")
    parser.add_argument("--user", default="demo")
    options = parser.parse_args(argv)
    reason = harness.chromium_missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    url = options.url.rstrip("/")
    suffix = uuid.uuid4().hex[:4]
    names = [f"web-{suffix}", f"db-{suffix}"]
    made: list[str] = []
    with harness.browser(WIDTH, HEIGHT) as driver:
        pages.sign_in(driver, url, options.user, options.password, options.user)
        harness.wait_for(
            driver, lambda d: "/auth/login" not in d.current_url, 15, "the sign-in failed"
        )
        try:
            for name in names:
                made.append(launch(driver, url, name))
            driver.get(f"{url}/project/instances")
            for server_id in made:
                pages.wait_status(driver, server_id, "ACTIVE", 120)
            # Without the flash message of the last launch, as a visitor sees the page.
            driver.get(f"{url}/project/instances")
            print(harness.screenshot(driver, options.outdir, "instances"))
            pages.launch_form(driver, url, f"app-{suffix}")
            print(harness.full_page_screenshot(driver, options.outdir, "launch"))
        finally:
            delete_named(driver, url, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The dashboard as a person uses it, in a real headless Chromium against run-all's cloud.

Sign-in, launching an instance and watching its row turn ACTIVE without a reload
(server-sent events), its detail page, console and power actions, an image upload
with its progress bar, admin pages refused to a member, forms refused without their
CSRF token, labels and keyboard reach, and a phone-width layout. Every test saves
screenshots: under the test's tmp_path, or under ``$STRATUS_SCREENSHOT_DIR/<test>``
when that is set (the README's pictures). Guests run on the test driver.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from stratus.api.v1 import api_service_pb2 as api_pb2
from tests import browser as harness
from tests.e2e.boot import Driver

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(bool(harness.chromium_missing()), reason=harness.chromium_missing() or "-"),
]

IMAGE = "demo"
FLAVOR = "m1.tiny"
NETWORK = "private"
BUILD_SECONDS = 60
MAIN_PAGES = {
    "/project/": "Overview",
    "/project/instances": "Instances",
    "/project/instances/launch": "Launch instance",
    "/project/images": "Images",
    "/project/networks": "Networks",
    "/project/volumes": "Volumes",
    "/project/keypairs": "Key pairs",
}
ADMIN_PAGES = {
    "/admin/hypervisors": "Hypervisors",
    "/admin/instances": "All instances",
    "/admin/projects": "Projects",
    "/admin/users": "Users",
    "/admin/flavors": "Flavors",
}
# Every visible form control without a label (label[for], a wrapping label, aria-label).
UNLABELLED = """
const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
return Array.from(document.querySelectorAll('input, select, textarea'))
  .filter((e) => e.type !== 'hidden' && visible(e))
  .filter((e) => !(e.id && document.querySelector('label[for="' + CSS.escape(e.id) + '"]'))
    && !e.closest('label') && !e.getAttribute('aria-label')
    && !e.getAttribute('aria-labelledby'))
  .map((e) => e.outerHTML.slice(0, 160));
"""


@pytest.fixture(scope="session")
def dashboard(cloud):
    """The URL of the dashboard run-all started (no trailing slash)."""
    assert cloud.dashboard, "run-all announced no dashboard URL"
    return cloud.dashboard.rstrip("/")


@pytest.fixture(scope="module")
def chrome():
    with harness.browser() as driver:
        yield driver


@pytest.fixture
def driver(chrome, dashboard):
    """The module's browser, signed out, at desktop size, with no pending dialog."""
    chrome.get(f"{dashboard}/healthz")
    chrome.delete_all_cookies()
    harness.desktop(chrome)
    yield chrome
    with contextlib.suppress(Exception):
        chrome.switch_to.alert.dismiss()
    harness.desktop(chrome)


@pytest.fixture
def shots(request, tmp_path) -> Path:
    """Where this test's screenshots go."""
    root = os.environ.get("STRATUS_SCREENSHOT_DIR")
    directory = Path(root) / request.node.name if root else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


# --- helpers -----------------------------------------------------------------------------


def sign_in(driver, url: str, user: str, password: str, project: str = "") -> None:
    """Fill and submit the sign-in form (domain, user, password, project)."""
    driver.get(f"{url}/auth/login")
    fields = {"domain": "default", "username": user, "password": password, "project": project}
    for name, value in fields.items():
        box = driver.find_element(By.ID, name)
        box.clear()
        box.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]").click()


def signed_in(driver, url: str, cloud, user: str = "demo") -> None:
    sign_in(driver, url, user, cloud.passwords[user], user)
    harness.wait_for(
        driver,
        lambda d: "/auth/login" not in d.current_url,
        15,
        f"{user} is not signed in",
    )


def heading(driver) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text


def row_status(driver, row_id: str) -> str:
    """The status cell's text of ``tr#row-<id>``, "" when the row is not there (read in one
    script: live updates replace the row at any moment)."""
    return driver.execute_script(
        "const c = document.querySelector('#row-' + arguments[0] + ' .status-cell');"
        "return c ? c.textContent.trim() : '';",
        row_id,
    )


def choose(form, name_part: str, text: str) -> None:
    """Select the option whose text starts with ``text`` in the form's select whose name
    contains ``name_part``."""
    select = form.find_element(By.CSS_SELECTOR, f"select[name*='{name_part}']")
    options = [o for o in Select(select).options if o.text.strip().startswith(text)]
    assert options, f"no {text!r} among the {name_part} options"
    Select(select).select_by_visible_text(options[0].text)


def launch_form(driver, url: str, name: str):
    """The Launch form, filled in (name, image, flavor, network), not yet submitted."""
    driver.get(f"{url}/project/instances/launch")
    form = driver.find_element(By.ID, "launch-form")
    form.find_element(By.CSS_SELECTOR, "input[name=name]").send_keys(name)
    choose(form, "image", IMAGE)
    choose(form, "flavor", FLAVOR)
    boxes = [
        label
        for label in form.find_elements(By.CSS_SELECTOR, "#launch-networks label")
        if label.text.strip().startswith(NETWORK)
    ]
    assert boxes, f"no {NETWORK} network to tick"
    boxes[0].click()
    return form


def path_of(driver) -> str:
    return urlsplit(driver.current_url).path.rstrip("/")


def instance_id(driver, name: str) -> str:
    """The id of the instance row whose name link says ``name`` (read in one script)."""
    return harness.wait_for(
        driver,
        lambda d: d.execute_script(
            "const a = Array.from(document.querySelectorAll('tr[id^=row-] td:first-child a'))"
            "  .find((a) => a.textContent.trim() === arguments[0]);"
            "return a ? a.closest('tr').id.slice(4) : null;",
            name,
        ),
        15,
        f"no row for {name}",
    )


def row_button(driver, row_id: str, text: str):
    buttons = driver.find_elements(By.CSS_SELECTOR, f"#row-{row_id} button[type=submit]")
    found = [b for b in buttons if b.text.strip() == text]
    assert found, f"no {text} button in row {row_id}: {[b.text for b in buttons]}"
    return found[0]


def confirm(driver) -> None:
    """Accept the confirm() dialog a data-confirm form opens."""
    harness.wait_for(driver, lambda d: _alert(d), 5, "no confirm dialog").accept()


def _alert(driver):
    try:
        return driver.switch_to.alert
    except Exception:
        return None


def wait_status(driver, row_id: str, status: str, timeout: float = BUILD_SECONDS) -> None:
    harness.wait_for(
        driver,
        lambda d: row_status(d, row_id) == status,
        timeout,
        f"row {row_id} never said {status} (last {row_status(driver, row_id)!r})",
    )


def servers_named(cloud, name: str) -> list[str]:
    """The ids of demo's servers called ``name`` (as the api lists them)."""
    listed = Driver(cloud).servers.ListServers(api_pb2.ListServersRequest(), metadata=cloud.md())
    return [s.id for s in listed.servers if s.name == name]


def delete_named(cloud, name: str) -> None:
    """Clean up whatever a test left: demo's servers called ``name`` go, however the page
    fared."""
    servers = Driver(cloud)
    for server_id in servers_named(cloud, name):
        with contextlib.suppress(Exception):
            servers.delete(server_id)


# --- tests ---------------------------------------------------------------------------------


def test_sign_in_lands_on_the_overview_and_a_wrong_password_stays(driver, dashboard, cloud, shots):
    sign_in(driver, dashboard, "demo", "not the password", "demo")
    alert = harness.wait_for(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"),
        10,
        "no error message after a wrong password",
    )[0]
    assert "Wrong user name or password" in alert.text
    assert "/auth/login" in driver.current_url
    assert heading(driver) == "Sign in"
    harness.screenshot(driver, shots, "sign-in-refused")
    driver.get(f"{dashboard}/project/")
    assert "/auth/login" in driver.current_url, "a refused sign-in opened a session"

    signed_in(driver, dashboard, cloud)
    assert path_of(driver) == "/project"
    assert heading(driver) == "Overview"
    assert driver.find_elements(By.CSS_SELECTOR, "#bar-instances .meter")
    harness.screenshot(driver, shots, "overview")


@pytest.fixture
def launched(driver, dashboard, cloud, shots):
    """An instance launched from the Launch form, ACTIVE on the Instances page the form led
    to (``window.__marker`` set on that page before waiting); deleted afterwards if still
    there. Yields (id, name)."""
    signed_in(driver, dashboard, cloud)
    name = f"browser-{uuid.uuid4().hex[:6]}"
    form = launch_form(driver, dashboard, name)
    harness.full_page_screenshot(driver, shots, "launch-form")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    try:
        harness.wait_for(
            driver,
            lambda d: path_of(d) == "/project/instances",
            15,
            "the Launch form did not lead back to Instances",
        )
        server_id = instance_id(driver, name)
        driver.execute_script("window.__marker = 1")
        # The page was rendered with the row still building, so it follows it live.
        live = driver.execute_script(
            "const b = document.querySelector('tbody[data-live-url]');"
            "return b ? b.dataset.liveUrl : '';"
        )
        assert server_id in live, f"the page does not follow the new instance ({live!r})"
        wait_status(driver, server_id, "ACTIVE")
        yield server_id, name
    finally:
        delete_named(cloud, name)


def test_a_launched_instance_turns_active_without_a_reload(driver, launched, shots):
    assert driver.execute_script("return window.__marker") == 1, "the page was reloaded"
    assert heading(driver) == "Instances"
    harness.screenshot(driver, shots, "instances")


def test_detail_console_stop_start_delete(driver, dashboard, launched, shots):
    server_id, name = launched
    driver.find_element(By.CSS_SELECTOR, f"#row-{server_id} a").click()
    harness.wait_for(driver, lambda d: server_id in d.current_url, 10, "no detail page")
    assert name in driver.find_element(By.TAG_NAME, "main").text
    assert server_id in driver.find_element(By.TAG_NAME, "main").text
    console = harness.wait_for(
        driver,
        lambda d: [p for p in d.find_elements(By.CSS_SELECTOR, "pre#console") if p.text.strip()],
        15,
        "the console shows nothing",
    )[0]
    # A test-driver guest has no serial log: the page says so, or shows the contract's
    # FAILED_PRECONDITION/UNAVAILABLE answer; a real guest's log is shown as it is.
    shown = console.text.strip()
    assert shown == "(The console log is empty.)" or not shown.startswith("("), shown
    harness.full_page_screenshot(driver, shots, "detail")

    driver.get(f"{dashboard}/project/instances")
    row_button(driver, server_id, "Stop").click()
    confirm(driver)
    wait_status(driver, server_id, "SHUTOFF")
    row_button(driver, server_id, "Start").click()
    confirm(driver)
    wait_status(driver, server_id, "ACTIVE")
    harness.screenshot(driver, shots, "started-again")
    row_button(driver, server_id, "Delete").click()
    confirm(driver)
    harness.wait_for(
        driver,
        lambda d: not d.find_elements(By.ID, f"row-{server_id}"),
        BUILD_SECONDS,
        "the deleted instance's row stayed",
    )
    harness.screenshot(driver, shots, "deleted")


def test_an_image_upload_fills_its_progress_bar_and_the_image_is_active(
    driver, dashboard, cloud, shots, tmp_path
):
    signed_in(driver, dashboard, cloud)
    disk = tmp_path / "disk.raw"
    disk.write_bytes(os.urandom(4 << 20))
    name = f"browser-upload-{uuid.uuid4().hex[:6]}"
    driver.get(f"{dashboard}/project/images")
    form = driver.find_element(By.CSS_SELECTOR, "form[data-upload]")
    form.find_element(By.CSS_SELECTOR, "input[name=name]").send_keys(name)
    formats = form.find_elements(By.CSS_SELECTOR, "select[name=disk_format]")
    if formats:
        Select(formats[0]).select_by_value("raw")
    form.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(disk))
    # The page goes on to Images once done: the bar's last value and max are kept in
    # sessionStorage (which outlives the navigation) as it changes.
    driver.execute_script(
        """
        const bar = arguments[0].querySelector('progress');
        window.__marker = 1;
        sessionStorage.setItem('progress', '[]');
        new MutationObserver(() => sessionStorage.setItem(
            'progress', JSON.stringify([bar.value, bar.max]))).observe(bar, {attributes: true});
        """,
        form,
    )
    harness.full_page_screenshot(driver, shots, "upload-form")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    try:
        harness.wait_for(
            driver,
            lambda d: (
                d.execute_script("return window.__marker === undefined")
                and path_of(d) == "/project/images"
            ),
            60,
            "the upload did not go on to Images",
        )
        value, maximum = driver.execute_script(
            "return JSON.parse(sessionStorage.getItem('progress') || '[0, 0]')"
        )
        assert maximum >= disk.stat().st_size and value == maximum, (value, maximum)
        image_row = harness.wait_for(
            driver,
            lambda d: next(
                (
                    cell.find_element(By.XPATH, "./ancestor::tr")
                    for cell in d.find_elements(By.CSS_SELECTOR, "tr[id^=row-] td:first-child")
                    if cell.text.strip() == name
                ),
                None,
            ),
            15,
            f"no row for the uploaded image {name}",
        )
        assert "active" in image_row.find_element(By.CSS_SELECTOR, ".status-cell").text.lower()
        harness.screenshot(driver, shots, "images-after-upload")
    finally:
        delete_image_named(cloud, name)


def delete_image_named(cloud, name: str) -> None:
    from stratus.image.v1 import image_service_pb2 as image_pb2
    from stratus.image.v1 import image_service_pb2_grpc as image_grpc

    stub = image_grpc.ImagesStub(cloud.channel("image"))
    with contextlib.suppress(Exception):
        for image in stub.ListImages(image_pb2.ListImagesRequest(), metadata=cloud.md()).images:
            if image.name == name:
                stub.DeleteImage(
                    image_pb2.DeleteImageRequest(image_id=image.id), metadata=cloud.md()
                )


def test_a_member_is_refused_the_admin_pages_and_an_admin_sees_them(
    driver, dashboard, cloud, shots
):
    signed_in(driver, dashboard, cloud, "demo")
    assert not driver.find_elements(By.CSS_SELECTOR, "a[href^='/admin/']")
    driver.get(f"{dashboard}/admin/hypervisors")
    assert (
        "Only administrators may open this page." in driver.find_element(By.TAG_NAME, "main").text
    )
    assert not driver.find_elements(By.CSS_SELECTOR, "a[href^='/admin/']")
    harness.screenshot(driver, shots, "member-refused")

    driver.delete_all_cookies()
    signed_in(driver, dashboard, cloud, "admin")
    driver.find_element(By.CSS_SELECTOR, "nav a[href='/admin/hypervisors']").click()
    harness.wait_for(driver, lambda d: heading(d) == "Hypervisors", 15, "no Hypervisors page")
    assert driver.find_elements(By.CSS_SELECTOR, "tr[id^=row-]"), "no hypervisor listed"
    harness.screenshot(driver, shots, "admin-hypervisors")


def test_a_form_without_its_csrf_token_is_refused_and_does_nothing(driver, dashboard, cloud, shots):
    signed_in(driver, dashboard, cloud)
    name = f"browser-csrf-{uuid.uuid4().hex[:6]}"
    try:
        form = launch_form(driver, dashboard, name)
        # The same form posted by a script of the page, with the session's cookie: a 403.
        status = driver.execute_async_script(
            """
            const [form, done] = arguments;
            const data = new URLSearchParams(new FormData(form));
            data.delete('csrf_token');
            fetch(form.action, {method: 'POST', body: data, credentials: 'same-origin'})
              .then((reply) => done(reply.status), () => done(0));
            """,
            form,
        )
        assert status == 403
        driver.execute_script("arguments[0].querySelector('[name=csrf_token]').remove()", form)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        harness.wait_for(
            driver,
            lambda d: "security token (CSRF)" in d.find_element(By.TAG_NAME, "main").text,
            15,
            "no CSRF refusal",
        )
        assert heading(driver) == "Error"
        harness.screenshot(driver, shots, "csrf-refused")
        assert servers_named(cloud, name) == [], "the refused form launched an instance"
    finally:
        delete_named(cloud, name)


def test_form_controls_have_labels_and_the_keyboard_reaches_skip_link_and_nav(
    driver, dashboard, cloud, shots
):
    signed_in(driver, dashboard, cloud, "admin")
    for path, title in {**MAIN_PAGES, **ADMIN_PAGES}.items():
        driver.get(f"{dashboard}{path}")
        assert title in heading(driver), f"{path}: {heading(driver)!r}"
        assert driver.execute_script(UNLABELLED) == [], f"{path} has unlabelled controls"
    harness.screenshot(driver, shots, "admin-flavors")

    driver.get(f"{dashboard}/project/instances")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    first = driver.switch_to.active_element
    assert first.text == "Skip to content", first.get_attribute("outerHTML")
    assert first.is_displayed(), "the focused skip link stays off screen"
    harness.screenshot(driver, shots, "skip-link-focused")
    seen = []
    for _ in range(30):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        focused = driver.switch_to.active_element
        href = focused.get_attribute("href") or ""
        if focused.find_elements(By.XPATH, "./ancestor::nav") and href:
            seen.append(href.removeprefix(dashboard))
        if len(seen) >= 3:
            break
    assert seen[:3] == ["/project/", "/project/instances", "/project/images"], seen


def test_the_instances_page_fits_a_phone(driver, dashboard, cloud, shots):
    servers = Driver(cloud)
    made = [servers.create(f"browser-phone-{uuid.uuid4().hex[:6]}").id for _ in range(2)]
    try:
        signed_in(driver, dashboard, cloud)
        harness.phone(driver)
        driver.get(f"{dashboard}/project/instances")
        assert heading(driver) == "Instances"
        for server_id in made:
            wait_status(driver, server_id, "ACTIVE")
        width = driver.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], f"the page scrolls sideways: {width}"
        nav = driver.find_element(By.CSS_SELECTOR, "nav.side")
        assert nav.is_displayed()
        assert all(link.is_displayed() for link in nav.find_elements(By.CSS_SELECTOR, "a"))
        harness.screenshot(driver, shots, "instances-phone")
        harness.full_page_screenshot(driver, shots, "instances-phone-full")
    finally:
        for server_id in made:
            servers.delete(server_id)

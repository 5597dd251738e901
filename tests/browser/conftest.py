"""Real-browser journeys: Playwright's sync API driving Debian's Chromium at the live server.

The browser is the system's ``/usr/bin/chromium`` (``apt-get install chromium``), never
one downloaded by ``playwright install``. Without it every test here is skipped, with the
reason shown in pytest's summary; ``.ci/run`` installs it so CI always runs them.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.needs.conftest import make_need, need  # noqa: F401  (shared need fixtures)
from tests.projects.conftest import make_project, rights_area  # noqa: F401

from .journey import DESKTOP, PHONE, Journey

# Playwright's sync API keeps an asyncio event loop on the main thread, so Django sees a
# "running loop" and refuses ORM calls in fixtures with SynchronousOnlyOperation. Nothing
# here is async: the standard workaround for pytest-django with Playwright is to tell
# Django so.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
NO_CHROMIUM = f"{CHROMIUM} is not installed (apt-get install chromium): browser journeys skipped"


def pytest_collection_modifyitems(config, items):
    """Without Chromium, skip the journeys at collection: no live server is started."""
    if CHROMIUM.exists():
        return
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the journeys, stopped once they are done.

    Package scope: Playwright's event loop stops with it, so the rest of the suite runs
    without a loop on the main thread.
    """
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _context(browser, *, phone: bool):
    options = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "accept_downloads": True}
    if phone:
        options.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    else:
        options.update(viewport=DESKTOP)
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    return context


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember whether a journey failed, for ``start_journey`` to keep the evidence."""
    report = yield
    if report.when == "call" and item.get_closest_marker("browser"):
        item.browser_call_failed = report.failed
    return report


@pytest.fixture
def start_journey(request, browser, live_server):
    """Open a journey: ``start_journey("worker", phone=True)``; closed after the test.

    When the test fails, the page as it was is kept as ``failed.png`` and ``failed.html``
    beside the journey's screenshots.
    """
    opened = []

    def start(name: str, *, phone: bool = False) -> Journey:
        context = _context(browser, phone=phone)
        journey = Journey(
            name=name,
            page=context.new_page(),
            base_url=live_server.url,
            width=PHONE if phone else DESKTOP,
        )
        opened.append((journey, context))
        return journey

    yield start
    failed = getattr(request.node, "browser_call_failed", False)
    for journey, context in opened:
        if failed:
            journey.page.screenshot(path=journey.folder / "failed.png", full_page=True)
            (journey.folder / "failed.html").write_text(journey.page.content(), encoding="utf-8")
        journey.write_report()
        context.close()
    if not failed:
        # Whatever happened after the last stop (a download, say) stayed on the server too.
        for journey, _ in opened:
            journey.assert_same_host()

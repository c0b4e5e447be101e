"""Browser tests: Debian's Chromium driven by Playwright against the live server.

Without Chromium they are skipped, unless ARCHIVE_BROWSER_TESTS=required (set
by .ci/run), where a missing browser or checker fails them instead.
"""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's synchronous API runs an event loop in the test's thread; the
# database is still used synchronously, as in any other test.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}


def required() -> bool:
    return os.environ.get("ARCHIVE_BROWSER_TESTS", "") == "required"


def unavailable(reason: str):
    if required():
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=FLAGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(params=sorted(VIEWPORTS))
def page(request, browser):
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    # Nothing leaves the machine: a page asking for anything else fails.
    outside = []
    opened.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith(("http://localhost", "http://127.0.0.1", "data:"))
            else None
        ),
    )
    yield opened
    context.close()
    assert outside == [], outside


@pytest.fixture(scope="session")
def vnu_jar() -> Path:
    found = os.environ.get("VNU_JAR", "")
    if not found or not Path(found).exists():
        unavailable("VNU_JAR does not name the Nu HTML Checker's vnu.jar")
    if not shutil.which("java"):
        unavailable("java is not installed")
    return Path(found)

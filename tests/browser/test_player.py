"""The player in a real browser, at desktop and phone widths, on a testimony
with a real recording whose rendition was made as the jobs make it: a click on
a passage's time seeks there, the passage being played is marked, a passage's
link opens the page with the media seeked there, the keyboard does all of it;
and the page with its player passes axe-core and the Nu HTML Checker."""

import json
import re
import subprocess
import urllib.request

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from archive.settings import media_storages
from testimonies import services
from testimonies.media import jobs
from testimonies.models import Rendition

from ..media.archive import heard_testimony
from .test_site import WCAG

STARTS = (0, 2, 4)
MEDIA = ".player audio"


@pytest.fixture
def private_media(transactional_db, tmp_path):
    """The private media storages in a folder of the test's own."""
    root = tmp_path / "private-media"
    entries = media_storages({}, root)
    with override_settings(MEDIA_ROOT=root, STORAGES={**settings.STORAGES, **entries}):
        yield root


def record(**fields):
    """A published testimony with a six-second recording, three passages of two
    seconds, and its public rendition made as the jobs make it."""
    testimony = heard_testimony(**fields)
    for position, start in enumerate(STARTS):
        services.segment_create(
            testimony=testimony,
            start=start,
            end=start + 2,
            speaker="narrator",
            # Long enough that, on a phone, a passage starts out of view.
            text=f"Passage {position} : "
            + "les colis passaient, le scanner bipait, la cadence montait. " * 12,
        )
    rendition = jobs.renditions_follow(testimony_id=testimony.pk, enqueue=False)
    assert jobs.rendition_make(rendition_id=rendition.pk) == "ready"
    assert Rendition.objects.get(pk=rendition.pk).kind == "audio"
    return testimony


@pytest.fixture
def recorded(private_media):
    return record(slug="a-l-entrepot", title="À l’entrepôt")


# Each seek the media makes, where it lands: recorded from the document's first
# script on, so that a seek made as the page opens is seen too.
RECORD_SEEKS = """
window.seeks = [];
document.addEventListener("seeked", (event) => {
  window.seeks.push(event.target.currentTime);
}, true);
"""


def open_page(live_server, page, testimony, fragment=""):
    page.add_init_script(RECORD_SEEKS)
    page.goto(
        live_server.url
        + reverse("testimonies:detail", args=[testimony.slug])
        + fragment
    )
    # The media's duration is known: its data is reachable and seekable.
    page.wait_for_function(f"() => document.querySelector('{MEDIA}').readyState >= 1")


def sought(page, seconds: float) -> None:
    """The media was seeked to ``seconds``: its first seek landed there (waited
    for, failing at the page's timeout)."""
    page.wait_for_function("() => window.seeks.length > 0")
    assert page.evaluate("() => window.seeks[0]") == pytest.approx(seconds, abs=0.1)


def in_view(page, anchor: str) -> None:
    """The passage's top is on screen, below the player that stays at the top."""
    top = page.locator(f'[id="{anchor}"]').evaluate(
        "e => e.getBoundingClientRect().top"
    )
    player = page.locator(".player").evaluate("e => e.getBoundingClientRect().bottom")
    assert max(player, 0) <= top < page.viewport_size["height"]


def playing(page, anchor: str):
    from playwright.sync_api import expect

    return expect(page.locator(f'[id="{anchor}"]'))


def test_the_page_has_a_player_of_the_rendition_with_its_captions(
    live_server, page, recorded
):
    open_page(live_server, page, recorded)
    media = page.locator(MEDIA)
    assert media.is_visible()
    assert (
        page.locator(f"{MEDIA} source")
        .get_attribute("src")
        .endswith(f"/testimonies/{recorded.slug}/media")
    )
    duration = media.evaluate("m => m.duration")
    assert 5.5 < duration < 6.5
    # The caption track is fetched and parsed into its cues, one a passage.
    page.wait_for_function(
        f"() => {{ const t = document.querySelector('{MEDIA}').textTracks[0];"
        " return t && t.cues && t.cues.length === 3; }"
    )


def test_clicking_a_passage_time_seeks_the_media_there(live_server, page, recorded):
    open_page(live_server, page, recorded)

    page.locator('[id="t=0:04"] a.time').click()

    sought(page, 4)
    playing(page, "t=0:04").to_have_class(re.compile(r"\bplaying\b"))
    assert page.url.endswith("#t=0:04")


def test_the_marked_passage_follows_playback(live_server, page, recorded):
    from playwright.sync_api import expect

    open_page(live_server, page, recorded)
    media = page.locator(MEDIA)

    media.evaluate("m => { m.muted = true; m.currentTime = 2.2; return m.play(); }")

    playing(page, "t=0:02").to_have_class(re.compile(r"\bplaying\b"))
    # Played on to the next passage, the mark moves with it, alone.
    playing(page, "t=0:04").to_have_class(re.compile(r"\bplaying\b"))
    expect(page.locator(".segment.playing")).to_have_count(1)
    assert page.locator('[id="t=0:04"]').get_attribute("aria-current") == "true"
    in_view(page, "t=0:04")

    media.evaluate("m => { m.pause(); m.currentTime = 0.5; }")
    playing(page, "t=0:00").to_have_class(re.compile(r"\bplaying\b"))
    expect(page.locator(".segment.playing")).to_have_count(1)


def test_a_passage_link_opens_the_page_with_the_media_there(
    live_server, page, recorded
):
    open_page(live_server, page, recorded, "#t=0:02")

    passage = page.locator('[id="t=0:02"]')
    assert passage.is_visible()
    playing(page, "t=0:02").to_have_class(re.compile(r"\bplaying\b"))
    sought(page, 2)


def test_the_keyboard_reaches_a_passage_time_and_seeks_with_enter(
    live_server, page, recorded
):
    open_page(live_server, page, recorded)
    wanted = "document.activeElement.closest('[id=\"t=0:04\"]')"
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate(
            f"() => !!{wanted} && document.activeElement.matches('a.time')"
        ):
            break
    else:
        pytest.fail("Tab never reached the time of the passage at 0:04")
    # The focus is visible: the focused time has an outline.
    outline = page.evaluate(
        "() => getComputedStyle(document.activeElement).outlineStyle"
    )
    assert outline not in ("", "none")

    page.keyboard.press("Enter")

    sought(page, 4)
    playing(page, "t=0:04").to_have_class(re.compile(r"\bplaying\b"))


def test_the_player_waits_behind_the_content_warning(live_server, page, private_media):
    warned = record(slug="sous-la-pluie", content_warnings=["accident"])
    page.add_init_script(RECORD_SEEKS)
    url = live_server.url + reverse("testimonies:detail", args=[warned.slug])
    page.goto(url + "#t=0:04")
    assert not page.locator(MEDIA).is_visible()

    page.get_by_text("J’ai lu l’avertissement").click()

    assert page.locator(MEDIA).is_visible()
    # The passage the address named is shown, and the media seeked there.
    playing(page, "t=0:04").to_have_class(re.compile(r"\bplaying\b"))
    sought(page, 4)


def test_the_page_with_its_player_breaks_no_wcag_21_a_or_aa_rule(
    live_server, page, recorded
):
    from axe_playwright_python.sync_playwright import Axe

    open_page(live_server, page, recorded)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    violations = [
        (v["id"], [node["target"] for node in v["nodes"]])
        for v in results.response["violations"]
    ]
    assert violations == []


def test_the_page_with_its_player_is_valid_html(
    live_server, recorded, vnu_jar, tmp_path
):
    url = live_server.url + reverse("testimonies:detail", args=[recorded.slug])
    with urllib.request.urlopen(url) as response:
        html = response.read()
    assert b"<audio" in html
    written = tmp_path / "player.html"
    written.write_bytes(html)
    checked = subprocess.run(
        ["java", "-jar", str(vnu_jar), "--errors-only", "--format", "json", written],
        capture_output=True,
        text=True,
        timeout=120,
    )
    messages = json.loads(checked.stderr or '{"messages": []}')["messages"]
    assert [(m.get("lastLine"), m["message"]) for m in messages] == []


def test_without_javascript_the_media_and_the_transcript_still_work(
    live_server, browser, recorded
):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        url = live_server.url + reverse("testimonies:detail", args=[recorded.slug])
        page.goto(url + "#t=0:04")
        media = page.locator(MEDIA)
        assert media.is_visible()
        assert media.get_attribute("controls") is not None
        # The native element loads its rendition on its own.
        media.evaluate(
            "m => new Promise(done => m.readyState >= 1 ? done() :"
            " m.addEventListener('loadedmetadata', done))"
        )
        assert page.locator(".transcript").is_visible()
        # The passage the address names is the document's target.
        assert page.locator('[id="t=0:04"]').evaluate("e => e.matches(':target')")
    finally:
        context.close()

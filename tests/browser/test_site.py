"""The public site in a real browser, at desktop and phone widths: the
content-warning step, passage links, the language switch, search, a
narrator's request; and every kind of page checked by axe-core (WCAG 2.1 A
and AA) and by the Nu HTML Checker."""

import json
import re
import subprocess
import urllib.request

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from testimonies import services

from ..factories import (
    EpisodeFactory,
    JobTypeFactory,
    NarratorFactory,
    TestimonyFactory,
    ThemeFactory,
)

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# The class of the passage being played (static/player.js), among its others.
PLAYING = re.compile(r"(^|\s)playing(\s|$)")


@pytest.fixture
def site(transactional_db):
    """A small archive: two published testimonies of one narrator, one with a
    content warning, under a job type, a theme and an episode."""
    job_type = JobTypeFactory(slug="courier", name_fr="Livreur", name_en="Courier")
    theme = ThemeFactory(slug="pay", name_fr="Paie à la tâche", name_en="Piecework")
    episode = EpisodeFactory(slug="episode-1", number=1, title="Les livreurs")
    narrator = NarratorFactory(slug="karim", public_name="Karim")
    narrator.job_types.set([job_type])
    made = {}
    for slug, warnings in (("sous-la-pluie", ["accident"]), ("le-syndicat", [])):
        testimony = TestimonyFactory(
            slug=slug,
            title=f"Titre {slug}",
            narrator=narrator,
            published=True,
            consent="public",
            content_warnings=warnings,
        )
        testimony.themes.set([theme])
        services.appearance_add(testimony=testimony, episode=episode, start=5, end=9)
        for position, start in enumerate((0, 61, 125, 3723)):
            services.segment_create(
                testimony=testimony,
                start=start,
                end=start + 50,
                speaker="narrator",
                text=f"Passage {position}: la plateforme décidait de tout, "
                "la pluie tombait, les courses se suivaient sans fin.",
            )
        made[slug] = testimony
    return {"testimonies": made, "episode": episode}


def pages(site) -> dict[str, str]:
    episode = site["episode"]
    return {
        "home": reverse("testimonies:home"),
        "search": reverse("testimonies:search") + "?q=plateforme",
        "testimony": reverse("testimonies:detail", args=["sous-la-pluie"]),
        "theme": reverse("testimonies:theme", args=["pay"]),
        "job type": reverse("testimonies:job_type", args=["courier"]),
        "episode": reverse(
            "testimonies:episode", args=[episode.series.slug, episode.slug]
        ),
        "narrator": reverse("testimonies:narrator", args=["karim"]),
        "request": reverse("testimonies:request"),
    }


def test_the_transcript_waits_behind_its_content_warning(live_server, page, site):
    page.goto(live_server.url + reverse("testimonies:detail", args=["sous-la-pluie"]))
    warning = page.locator(".content-warning")
    transcript = page.locator(".transcript")
    expect(warning).to_be_visible()
    assert "accident" in warning.inner_text()
    expect(transcript).to_be_hidden()

    page.get_by_text("J’ai lu l’avertissement").click()

    expect(transcript).to_be_visible()


def test_a_passage_link_opens_the_page_at_its_passage(live_server, page, site):
    url = live_server.url + reverse("testimonies:detail", args=["le-syndicat"])
    page.goto(url + "#t=1:02:03")
    passage = page.locator('[id="t=1:02:03"]')
    expect(passage).to_be_visible()
    expect(passage).to_have_class(PLAYING)
    box = passage.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"]

    # Each passage offers its own link, its time.
    page.locator('[id="t=2:05"] a.time').click()
    expect(page).to_have_url(re.compile(re.escape("#t=2:05") + "$"))


def test_a_passage_behind_a_warning_is_shown_once_the_warning_is_read(
    live_server, page, site
):
    url = live_server.url + reverse("testimonies:detail", args=["sous-la-pluie"])
    page.goto(url + "#t=1:01")
    page.get_by_text("J’ai lu l’avertissement").click()
    passage = page.locator('[id="t=1:01"]')
    expect(passage).to_be_visible()
    expect(passage).to_have_class(PLAYING)


def test_the_language_switch_keeps_the_page(live_server, page, site):
    page.goto(live_server.url + reverse("testimonies:detail", args=["le-syndicat"]))
    assert page.locator("html").get_attribute("lang") == "fr"

    page.get_by_role("link", name="English").click()

    with translation.override("en"):
        english = reverse("testimonies:detail", args=["le-syndicat"])
    expect(page).to_have_url(live_server.url + english)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Titre le-syndicat"


def test_a_search_leads_to_the_passage_it_found(live_server, page, site):
    page.goto(live_server.url + reverse("testimonies:home"))
    page.get_by_label("Chercher dans les témoignages").first.fill("plateforme")
    page.get_by_role("button", name="Chercher").first.click()

    expect(page.locator("mark", has_text="plateforme").first).to_be_visible()
    page.locator('.passages a[href="/testimonies/le-syndicat/#t=1:01"]').click()

    expect(page).to_have_url(
        re.compile(re.escape("/testimonies/le-syndicat/#t=1:01") + "$")
    )
    passage = page.locator('[id="t=1:01"]')
    expect(passage).to_be_visible()
    expect(passage).to_have_class(PLAYING)


def test_a_filter_narrows_the_search_and_is_removed_alone(live_server, page, site):
    TestimonyFactory(
        slug="ailleurs", title="Titre ailleurs", published=True, consent="public"
    )
    page.goto(live_server.url + reverse("testimonies:search"))
    expect(page.locator("text=Titre ailleurs")).to_be_visible()

    page.locator(".facets").get_by_role("link", name="Livreur", exact=True).click()

    expect(page.locator("text=Titre ailleurs")).to_be_hidden()
    expect(page.locator("text=Titre le-syndicat")).to_be_visible()
    page.get_by_role("link", name="Retirer le filtre Métier : Livreur").click()
    expect(page.locator("text=Titre ailleurs")).to_be_visible()


def test_a_narrator_sends_a_request(live_server, page, site):
    page.goto(live_server.url + reverse("testimonies:request"))
    page.get_by_label("Votre code de référence").fill("ABCD-EFGH-JKMN-PQRS")
    page.get_by_label("Que souhaitez-vous").select_option("pause")
    page.get_by_role("button", name="Envoyer").click()

    assert "Votre demande a bien été reçue" in page.locator("h1").inner_text()


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "search",
        "testimony",
        "theme",
        "job type",
        "episode",
        "narrator",
        "request",
    ],
)
def test_no_page_breaks_a_wcag_21_a_or_aa_rule(live_server, page, site, name):
    from axe_playwright_python.sync_playwright import Axe

    page.goto(live_server.url + pages(site)[name])
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    violations = [
        (v["id"], [node["target"] for node in v["nodes"]])
        for v in results.response["violations"]
    ]
    assert violations == []


def test_every_page_is_valid_html(live_server, site, vnu_jar, tmp_path):
    files = []
    for name, path in pages(site).items():
        with urllib.request.urlopen(live_server.url + path) as response:
            html = response.read()
        written = tmp_path / (name.replace(" ", "-") + ".html")
        written.write_bytes(html)
        files.append(str(written))
    checked = subprocess.run(
        ["java", "-jar", str(vnu_jar), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    messages = json.loads(checked.stderr or '{"messages": []}')["messages"]
    assert [
        (m["url"].rsplit("/", 1)[-1], m.get("lastLine"), m["message"]) for m in messages
    ] == []

"""The search page, /testimonies/: what each visitor finds, and nothing more."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from testimonies import search
from testimonies.models import Narrator, Testimony

from .factories import (
    NarratorFactory,
    indexed_testimony,
)


def _page(client, **params):
    response = client.get(reverse("testimonies:search"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_public_finds_public_testimonies_with_marked_passages(
    client, search_archive
):
    page = _page(client, q="plateforme")
    assert "Title pluie" in page
    assert "<mark>plateforme</mark>" in page
    assert f"{search_archive.get_absolute_url()}#t61" in page
    assert "Title recherche" not in page
    assert "Title brouillon" not in page


def test_a_researcher_also_finds_research_only_testimonies(
    client, search_archive, researcher
):
    client.force_login(researcher)
    page = _page(client, q="plateforme")
    assert "Title recherche" in page
    assert "Title brouillon" not in page


def test_a_redacted_word_is_never_found_nor_shown(client, search_archive, curator):
    for user in (None, curator):
        if user:
            client.force_login(user)
        assert "Bartholom" not in _page(client, q="plateforme")
        page = _page(client, q="Bartholoméo")
        assert "Aucun témoignage ne correspond à cette recherche." in page
        # The visitor's own query is echoed back (in the box, and in the
        # address of the page in the other language); nothing else names it.
        echoed = page.replace('value="Bartholoméo"', "").replace(
            "q=Bartholom%C3%A9o", ""
        )
        assert "Bartholom" not in echoed


def test_text_in_snippets_is_escaped(client, search_archive):
    page = _page(client, q="course")
    # PostgreSQL's headlines leave tags out; SQLite's snippets keep them, escaped.
    assert "<mark>course</mark>" in page
    assert "<script>" not in page


def test_a_facet_link_narrows_the_search(client, search_archive):
    indexed_testimony("soleil", "La plateforme sous le soleil.")
    everything = _page(client, q="plateforme")
    assert "Title soleil" in everything
    assert "job_type=courier" in everything
    narrowed = _page(client, q="plateforme", job_type="courier")
    assert "Title pluie" in narrowed
    assert "Title soleil" not in narrowed


@pytest.mark.parametrize(
    "params",
    [
        {"q": '"unbalanced -'},
        {"q": "or or -"},
        {"q": "x" * 10_000},
        {"q": "'; DROP TABLE testimonies_testimony; --"},
        {"q": "plateforme", "page": "abc"},
        {"q": "plateforme", "page": "999999999999"},
        {"decade": "nineteen"},
    ],
)
def test_any_input_gives_a_page(client, search_archive, params):
    _page(client, **params)


def test_the_page_speaks_english_under_en(client, search_archive):
    response = client.get("/en/testimonies/", {"q": "plateforme"})
    assert response.status_code == 200
    assert "Search the testimonies" in response.content.decode()


def test_the_page_asks_the_same_few_queries_however_many_hits_it_shows(
    client, search_archive
):
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            _page(client, q="plateforme")
        return len(captured.captured_queries)

    with_one = queries_for_page()
    for n in range(6):
        indexed_testimony(
            f"autre-{n}", "La plateforme encore.", narrator=NarratorFactory()
        )
    assert queries_for_page() == with_one


def test_a_hit_reads_no_narrator_identity(search_archive):
    results = search.search("plateforme", Testimony.objects.all())
    assert results.hits
    for hit in results.hits:
        deferred = hit.testimony.narrator.get_deferred_fields()
        assert set(Narrator.PRIVATE_FIELDS) <= deferred

"""The search page, /testimonies/: what each visitor finds, and nothing more."""

import datetime as dt

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from testimonies import search, services
from testimonies.forms import SearchForm
from testimonies.models import Narrator, Testimony

from .factories import NarratorFactory, ThemeFactory, indexed_testimony


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
    # Straight to the passage, by its time, as the testimony page anchors it.
    assert f'href="{search_archive.get_absolute_url()}#t=1:01">1:01</a>' in page
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
        {"decade": "²"},
        {"q": "plateforme", "page": "²"},
    ],
)
def test_any_input_gives_a_page(client, search_archive, params):
    _page(client, **params)


def test_each_facet_offered_has_its_heading_and_links_by_its_parameter(
    client, search_archive
):
    indexed_testimony(
        "souvenir",
        "La plateforme de 2019.",
        recorded_on=dt.date(2019, 5, 1),
        media="testimonies/souvenir.mp3",
    )
    page = _page(client, q="plateforme")
    for heading, narrowed in (
        ("Métier", "job_type=courier"),
        ("Pays", "country=FR"),
        ("Langue", "language=fr"),
        ("Enregistré dans les", "decade=2010"),
    ):
        assert f"<h2>{heading}</h2>" in page
        assert f'href="?q=plateforme&amp;{narrowed}"' in page
    # The page offers no media filter, so it shows no media counts.
    assert "avec média" not in page and "media=" not in page


def test_the_form_reads_each_facet_offered_from_its_parameter():
    data = QueryDict(
        "q=quai&job_type=courier&job_type=rater&theme=unions&episode=invisibles/e1"
        "&country=FR&language=en&decade=2010&decade=x&decade=²&media=1&page=2"
    )
    assert SearchForm(data).filters() == search.Filters(
        job_type=("courier", "rater"),
        theme=("unions",),
        episode=("invisibles/e1",),
        country=("FR",),
        language=("en",),
        decade=(2010,),
    )


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


def test_each_filter_chosen_is_shown_and_can_be_removed_alone(client, search_archive):
    theme = ThemeFactory(slug="unions", name_fr="Syndicats")
    search_archive.themes.add(theme)
    services.search_reindex(testimony_ids=[search_archive.pk])
    page = _page(client, q="plateforme", job_type="courier", theme="unions")
    assert "Métier : " in page and "Thème : Syndicats" in page
    # Each filter's removal keeps the query and the other filter.
    assert 'href="?q=plateforme&amp;theme=unions" aria-label="Retirer' in page
    assert 'href="?q=plateforme&amp;job_type=courier" aria-label="Retirer' in page


@pytest.mark.parametrize("language, shown", [("fr", "10\xa0000+"), ("en", "10,000+")])
def test_a_total_past_the_cap_reads_as_the_language_writes_numbers(language, shown):
    from django.utils import translation

    results = search.SearchResults(
        query=search.parse("x"),
        total=search.TOTAL_CAP,
        total_capped=True,
        page=1,
        page_size=20,
        hits=[],
    )
    with translation.override(language):
        assert results.total_display == shown

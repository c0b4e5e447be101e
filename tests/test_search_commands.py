"""The search commands: rebuild_search_index and search."""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from testimonies import search

from .search.index import assert_index_exact, index_expected, index_held


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_search_prints_total_slugs_times_and_marked_snippets(search_archive):
    out = _run("search", "plateforme")
    assert out.startswith("1 testimonies")
    assert "pluie  Title pluie" in out
    assert "[1:01] narrator: " in out
    assert "«plateforme» notait" in out
    assert "[2:10] interviewer:" in out
    assert "recherche" not in out


def test_search_as_a_named_user_sees_what_that_user_may_see(search_archive, researcher):
    out = _run("search", "plateforme", "--user", researcher.username)
    assert out.startswith("2 testimonies")
    assert "recherche" in out


def test_search_json_has_the_documented_shape(search_archive):
    document = json.loads(_run("search", '"notait chaque"', "--json"))
    assert document["total"] == 1
    [hit] = document["hits"]
    assert hit["slug"] == "pluie"
    assert hit["title"] == "Title pluie"
    [segment] = hit["segments"]
    assert segment == {
        "start": 61.0,
        "speaker": "narrator",
        "snippet": segment["snippet"],
    }
    marked = " ".join(re.findall(r"<mark>(.*?)</mark>", segment["snippet"]))
    assert marked.split() == ["notait", "chaque"]


def test_search_never_shows_a_redacted_word(search_archive, curator):
    for user in ([], ["--user", curator.username]):
        assert "Bartholom" not in _run("search", "Bartholoméo", *user)
        assert "Bartholom" not in _run("search", "plateforme", "--json", *user)
        assert _run("search", "Bartholoméo", *user).startswith("0 testimonies")


def test_search_names_an_unknown_user(db):
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("search", "x", user="nobody")


def test_rebuild_restores_an_index_emptied_behind_the_services(search_archive):
    backend = search.get_backend()
    should = index_expected()
    assert index_held() == should
    backend._clear()
    assert _run("search", "plateforme").startswith("0 testimonies")
    out = _run("rebuild_search_index", "--no-progress")
    assert out.startswith("Indexed 4 segments of 3 testimonies in ")
    assert out.rstrip().endswith(" s")
    assert index_held() == should
    assert _run("search", "plateforme").startswith("1 testimonies")


def _text_indexes() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        return dict(search.get_backend()._text_indexes(cursor))


def test_rebuild_builds_the_same_text_indexes_again_in_bulk(search_archive):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's text indexes")
    before = _text_indexes()
    assert len(before) == 8
    # Entries go straight into the index, with no pending list to read through.
    assert all("fastupdate=off" in definition for definition in before.values())
    _run("rebuild_search_index", "--no-progress")
    assert _text_indexes() == before
    assert_index_exact()
    assert _run("search", "plateforme").startswith("1 testimonies")


def test_a_failed_rebuild_leaves_the_index_and_its_text_indexes_as_they_were(
    search_archive, monkeypatch
):
    from django.db import connection

    backend = search.get_backend()
    entries = index_held()
    before = _text_indexes() if connection.vendor == "postgresql" else {}

    def fail(testimony_ids):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(type(backend), "_write_segments", lambda self, ids: fail(ids))
    with pytest.raises(RuntimeError, match="the disk is full"):
        backend.rebuild()
    assert index_held() == entries
    if connection.vendor == "postgresql":
        assert _text_indexes() == before
    assert _run("search", "plateforme").startswith("1 testimonies")

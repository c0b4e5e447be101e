"""Large writes to the PostgreSQL index go onto shelves (testimonies/search/shelves.py):
indexed in bulk, read with the rest, never blocking a search, gone with a
failed import, folded when they pile up.

The threshold is lowered here so that a bundle of a few testimonies is large;
what is proved does not depend on the size.
"""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, connections, transaction

from testimonies import search, services
from testimonies.importers.bundle import bundle_import
from testimonies.models import Segment, Testimony
from testimonies.search import shelves

from .index import assert_index_exact, index_held

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="shelves are PostgreSQL's"
    ),
]

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
PARENTS = ("search_segment", "search_words")


def bundle(prefix: str, words: str = "plateforme") -> dict:
    """Three published testimonies of four segments, in French and English."""
    testimonies = []
    for number, language in enumerate(("fr", "fr", "en")):
        segments = [
            {
                "start": 60.0 * i,
                "end": 60.0 * (i + 1),
                "speaker": "narrator",
                "text": f"{words} segment {i} du témoignage {prefix} {number}"
                if language == "fr"
                else f"the {words} of part {i}, testimony {prefix} {number}",
            }
            for i in range(4)
        ]
        testimonies.append(
            {
                "slug": f"{prefix}-{number}",
                "title": f"Témoignage {prefix} {number}",
                "narrator": f"{prefix}-narrator",
                "language": language,
                "summary": "",
                "themes": [],
                "appearances": [],
                "status": "published",
                "consent": [
                    {"scope": "public", "media": "none", "given_on": "2023-05-04"}
                ],
                "segments": segments,
                "redactions": [],
            }
        )
    return {
        "format": "testimony-bundle/1",
        "narrators": [
            {
                "key": f"{prefix}-narrator",
                "public_name": f"Pseudonyme {prefix}",
                "identity": "pseudonym",
                "job_types": [],
                "reference_code": f"SHELF-{prefix}-0000-0000-0001",
                "private": {"legal_name": "Zélie Marchetti"},
            }
        ],
        "testimonies": testimonies,
    }


def shelved() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        return {parent: shelves.shelves(cursor, parent) for parent in PARENTS}


def definitions(table: str) -> set[str]:
    """The indexes and keys of a table, written without its name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = %s::regclass",
            [table],
        )
        indexes = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass",
            [table],
        )
        keys = {f"{kind}: {definition}" for kind, definition in cursor.fetchall()}
    return {d.replace(table, "T") for d in indexes | keys}


def found(query: str) -> set[str]:
    results = search.search(query, Testimony.objects.visible_to(None))
    return {hit.testimony.slug for hit in results.hits}


@pytest.fixture
def small_shelves(monkeypatch):
    monkeypatch.setattr(shelves, "SHELF_SEGMENTS", 10)


def test_a_large_import_goes_onto_shelves_with_every_index_and_key_of_their_parents(
    small_shelves,
):
    bundle_import(data=bundle("quai"), now=NOW)
    held = shelved()
    assert [len(held[parent]) for parent in PARENTS] == [1, 1]
    for parent in PARENTS:
        (shelf,) = held[parent]
        assert definitions(shelf) == definitions(parent)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ONLY {parent}")
            assert cursor.fetchone()[0] == 0
    assert_index_exact()
    assert found("plateforme") == {"quai-0", "quai-1", "quai-2"}


def test_a_small_write_goes_into_the_tables_themselves():
    bundle_import(data=bundle("quai"), now=NOW)
    assert shelved() == {parent: [] for parent in PARENTS}
    assert_index_exact()


def test_shelved_entries_follow_every_later_edit(small_shelves):
    bundle_import(data=bundle("quai"), now=NOW)
    segment = Segment.objects.get(testimony__slug="quai-0", position=1)
    services.segment_edit(segment=segment, text="Une grève des livreurs.")
    assert found("grève") == {"quai-0"}
    assert_index_exact()
    services.consent_record(
        testimony=Testimony.objects.get(slug="quai-1"),
        scope="withdrawn",
        media="none",
        given_on=NOW.date(),
    )
    assert found("plateforme") == {"quai-0", "quai-2"}
    assert_index_exact()
    # Removing a testimony's rows removes its shelved entries (their keys).
    Testimony.objects.filter(slug="quai-2").delete()
    assert_index_exact()


@pytest.mark.django_db(transaction=True)
def test_an_import_under_way_blocks_no_search_which_sees_the_archive_as_it_was(
    small_shelves,
):
    bundle_import(data=bundle("quai"), now=NOW)
    seen: dict[str, object] = {}

    def search_elsewhere(key: str) -> None:
        try:
            with connection.cursor() as cursor:
                # A search that had to wait for the import's locks fails
                # instead of waiting for it.
                cursor.execute("SET lock_timeout = '2s'")
            seen[key] = found("plateforme")
        except Exception as error:  # noqa: BLE001 - reported below
            seen[key] = error
        finally:
            connections.close_all()

    with transaction.atomic():
        bundle_import(data=bundle("rue"), now=NOW)
        assert len(shelved()["search_segment"]) == 2
        other = threading.Thread(target=search_elsewhere, args=("during",))
        other.start()
        other.join()
    other = threading.Thread(target=search_elsewhere, args=("after",))
    other.start()
    other.join()
    assert seen["during"] == {"quai-0", "quai-1", "quai-2"}
    assert seen["after"] == {f"{p}-{n}" for p in ("quai", "rue") for n in range(3)}


@pytest.mark.parametrize("failing", ["new_shelf", "dress", "fold_later"])
def test_a_failed_import_leaves_the_index_exactly_as_it_was(
    small_shelves, monkeypatch, failing
):
    bundle_import(data=bundle("quai"), now=NOW)
    before, tables = index_held(), shelved()
    calls = {"count": 0}
    real = getattr(shelves, failing)

    def fail_on_the_second_call(*args, **kwargs):
        # The second shelf (the words) or, for fold_later, once all is written.
        calls["count"] += 1
        if calls["count"] == 2 or failing == "fold_later":
            raise RuntimeError("the disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(shelves, failing, fail_on_the_second_call)
    with pytest.raises(RuntimeError, match="the disk is full"):
        bundle_import(data=bundle("rue"), now=NOW)
    assert index_held() == before
    assert shelved() == tables
    assert not Testimony.objects.filter(slug__startswith="rue-").exists()


@pytest.mark.django_db(transaction=True)
def test_shelves_past_the_limit_are_folded_into_one_once_the_import_commits(
    small_shelves, monkeypatch
):
    monkeypatch.setattr(shelves, "MAX_SHELVES", 2)
    for prefix in ("quai", "rue"):
        bundle_import(data=bundle(prefix), now=NOW)
    first = shelved()
    assert [len(first[parent]) for parent in PARENTS] == [2, 2]
    bundle_import(data=bundle("gare"), now=NOW)
    folded = shelved()
    assert [len(folded[parent]) for parent in PARENTS] == [1, 1]
    for parent in PARENTS:
        assert set(folded[parent]).isdisjoint(first[parent])
        assert definitions(folded[parent][0]) == definitions(parent)
    assert_index_exact()
    assert len(found("plateforme")) == 9


def test_a_rebuild_takes_every_shelf_back_into_the_tables(small_shelves):
    for prefix in ("quai", "rue"):
        bundle_import(data=bundle(prefix), now=NOW)
    before = index_held()
    search.get_backend().rebuild()
    assert shelved() == {parent: [] for parent in PARENTS}
    assert index_held() == before
    assert_index_exact()


@pytest.mark.django_db(transaction=True)
def test_the_index_migrates_back_with_its_shelves(small_shelves):
    from django.core.management import call_command

    bundle_import(data=bundle("quai"), now=NOW)
    assert shelved()["search_segment"]
    call_command("migrate", "search", "0003", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_inherits")
        assert cursor.fetchone()[0] == 0
    call_command("migrate", "search", "0002", verbosity=0)
    call_command("migrate", verbosity=0)
    assert shelved() == {parent: [] for parent in PARENTS}

"""What the search index holds, read from its tables, and what it should hold,
computed afresh from public text: the tests hold the two equal.

The backends write their tables; these read them apart from the backends, on
whichever engine the tests run.
"""

from django.db import connection

from testimonies.models import Segment, Testimony
from testimonies.search.base import metadata_documents


def index_held() -> dict:
    """What the index holds, table by table, keyed by the row each entry indexes."""
    if connection.vendor == "postgresql":
        return _postgres_held()
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid, testimony_id, public_text FROM search_segment")
        segments = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
        cursor.execute(
            "SELECT rowid, title, summary, people, place FROM search_testimony"
        )
        testimonies = {row[0]: tuple(row[1:]) for row in cursor.fetchall()}
    return {"segments": segments, "testimonies": testimonies}


def index_expected() -> dict:
    """What the index should hold, as ``index_held`` reads it, from public text."""
    kept = list(Testimony.objects.searchable().values_list("pk", flat=True))
    if connection.vendor == "postgresql":
        return _postgres_expected(kept)
    segments = {
        pk: (testimony_id, text)
        for pk, testimony_id, text in Segment.objects.filter(
            testimony_id__in=kept
        ).values_list("pk", "testimony_id", "public_text")
    }
    testimonies = {
        d.testimony_id: (d.title, d.summary, d.people, d.place)
        for d in metadata_documents(kept)
    }
    return {"segments": segments, "testimonies": testimonies}


def assert_index_exact() -> None:
    """The index holds exactly what public text says it should."""
    assert index_held() == index_expected()


def _postgres_held() -> dict:
    tables = {
        "segments": ("search_segment", "segment_id, testimony_id"),
        "testimonies": ("search_testimony", "testimony_id"),
        "words": ("search_words", "testimony_id"),
    }
    found = {}
    with connection.cursor() as cursor:
        for kind, (table, keys) in tables.items():
            # Shelves included (see search/shelves.py): an entry held twice,
            # once in a table and once on a shelf, is a fault of its own.
            cursor.execute(f"SELECT {keys}, config::text, vector::text FROM {table}")
            rows = cursor.fetchall()
            found[kind] = {row[0]: row[1:] for row in rows}
            assert len(found[kind]) == len(rows), f"an entry of {table} held twice"
    return found


def _postgres_expected(kept: list[int]) -> dict:
    from testimonies.search.postgres import _language_to_config, config_for

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.id, s.testimony_id, c.config::text,
                   to_tsvector(c.config, s.public_text)::text
            FROM testimonies_segment s
            JOIN testimonies_testimony t ON t.id = s.testimony_id
            CROSS JOIN LATERAL (
                SELECT {_language_to_config("t.language")} AS config
            ) c
            WHERE s.testimony_id = ANY(%s)
            """,
            [kept],
        )
        segments = {row[0]: row[1:] for row in cursor.fetchall()}
        testimonies = {}
        for d in metadata_documents(kept):
            config = config_for(d.language)
            cursor.execute(
                """
                SELECT (setweight(to_tsvector(%s::regconfig, %s), 'A')
                     || setweight(to_tsvector(%s::regconfig, %s), 'B')
                     || setweight(to_tsvector(%s::regconfig, %s), 'C')
                     || setweight(to_tsvector(%s::regconfig, %s), 'D'))::text
                """,
                [
                    config,
                    d.title,
                    config,
                    d.summary,
                    config,
                    d.people,
                    config,
                    d.place,
                ],
            )
            testimonies[d.testimony_id] = (config, cursor.fetchone()[0])
        # Each testimony's terms, from its segments' public text read afresh.
        cursor.execute(
            f"""
            SELECT s.testimony_id, c.config::text,
                   array_to_tsvector(array_agg(DISTINCT term.lexeme))::text
            FROM testimonies_segment s
            JOIN testimonies_testimony t ON t.id = s.testimony_id
            CROSS JOIN LATERAL (
                SELECT {_language_to_config("t.language")} AS config
            ) c
            CROSS JOIN LATERAL unnest(to_tsvector(c.config, s.public_text)) AS term
            WHERE s.testimony_id = ANY(%s)
            GROUP BY s.testimony_id, c.config
            """,
            [kept],
        )
        words = {row[0]: row[1:] for row in cursor.fetchall()}
    return {"segments": segments, "testimonies": testimonies, "words": words}

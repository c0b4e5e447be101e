"""SQLite FTS5: ``unicode61 remove_diacritics 2``, bm25 ranking, ``snippet()``.

The segment table's rowid is the segment's id and it holds a copy of public
text (FTS5's snippet() reads it); the services write it in the same
transaction as the text itself.
"""

import json

from django.db import connection
from django.db.models import QuerySet

from ..models import Segment
from .base import (
    MARK_CLOSE,
    MARK_OPEN,
    SEGMENTS_PER_HIT,
    MetadataDocument,
    Ranked,
    SearchBackend,
    SegmentHit,
    Snippet,
)
from .query import Query

# Column weights of a testimony's metadata: title, summary, people, place.
METADATA_WEIGHTS = "8.0, 4.0, 2.0, 1.0"
SEGMENT_CANDIDATES = 40
SNIPPET_TOKENS = 24


def _ids(values) -> str:
    # A JSON array read back with json_each: any number of ids, one parameter.
    return json.dumps([int(v) for v in values])


class SqliteSearchBackend(SearchBackend):
    vendor = "sqlite"

    # --- writing ------------------------------------------------------------

    def remove_testimonies(self, testimony_ids) -> None:
        ids = _ids(testimony_ids)
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_segment WHERE rowid IN (SELECT id FROM"
                " testimonies_segment WHERE testimony_id IN"
                " (SELECT value FROM json_each(%s)))",
                [ids],
            )
            cursor.execute(
                "DELETE FROM search_testimony WHERE rowid IN"
                " (SELECT value FROM json_each(%s))",
                [ids],
            )

    def _present(self, testimony_ids: list[int]) -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rowid FROM search_testimony WHERE rowid IN"
                " (SELECT value FROM json_each(%s))",
                [_ids(testimony_ids)],
            )
            return {row[0] for row in cursor.fetchall()}

    def _remove_segments(self, segment_ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_segment WHERE rowid IN"
                " (SELECT value FROM json_each(%s))",
                [_ids(segment_ids)],
            )

    def _remove_metadata(self, testimony_ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_testimony WHERE rowid IN"
                " (SELECT value FROM json_each(%s))",
                [_ids(testimony_ids)],
            )

    def _clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_segment")
            cursor.execute("DELETE FROM search_testimony")

    def _insert_segments(self, column: str, ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO search_segment (rowid, public_text, testimony_id)"
                " SELECT id, public_text, testimony_id FROM testimonies_segment"
                f" WHERE {column} IN (SELECT value FROM json_each(%s))",
                [_ids(ids)],
            )

    def _write_segments(self, testimony_ids: list[int]) -> None:
        self._insert_segments("testimony_id", testimony_ids)

    def _write_segment_rows(self, segment_ids: list[int]) -> None:
        self._insert_segments("id", segment_ids)

    def _write_metadata(self, documents: list[MetadataDocument]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO search_testimony (rowid, title, summary, people, place)"
                " VALUES (%s, %s, %s, %s, %s)",
                [
                    (d.testimony_id, d.title, d.summary, d.people, d.place)
                    for d in documents
                ],
            )

    def count_segments(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_segment")
            return cursor.fetchone()[0]

    # --- searching ----------------------------------------------------------

    def rank_sql(self, query: Query, scope: QuerySet) -> tuple[str, list]:
        """The SQL that finds and orders the matching testimonies of ``scope``."""
        scope_sql, scope_params = scope.order_by().values("pk").query.sql_with_params()
        expression = query.to_fts5()
        statement = f"""
            WITH scope AS ({scope_sql}),
            m AS (
                SELECT testimony_id, bm25(search_segment) AS b FROM search_segment
                WHERE search_segment MATCH %s
                  AND testimony_id IN (SELECT * FROM scope)
            ),
            per AS (
                SELECT testimony_id, count(*) AS hits, min(b) AS best
                FROM m GROUP BY testimony_id
            ),
            meta AS (
                SELECT rowid AS testimony_id,
                       bm25(search_testimony, {METADATA_WEIGHTS}) AS b
                FROM search_testimony
                WHERE search_testimony MATCH %s AND rowid IN (SELECT * FROM scope)
            ),
            found AS (
                SELECT testimony_id FROM per UNION SELECT testimony_id FROM meta
            )
            SELECT t.id, -(coalesce(meta.b, 0) + coalesce(per.best, 0)) AS score
            FROM found
            JOIN testimonies_testimony t ON t.id = found.testimony_id
            LEFT JOIN per ON per.testimony_id = t.id
            LEFT JOIN meta ON meta.testimony_id = t.id
            ORDER BY score DESC, coalesce(per.hits, 0) DESC,
                     t.published_at DESC NULLS LAST, t.id DESC
        """
        return statement, [*scope_params, expression, expression]

    def _rank(self, query: Query, scope: QuerySet) -> list[Ranked]:
        statement, params = self.rank_sql(query, scope)
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return [Ranked(pk, float(score)) for pk, score in cursor.fetchall()]

    ids_sql = "SELECT value FROM json_each(%s)"

    def ids_param(self, ids: list[int]):
        return _ids(ids)

    def _best_segments(
        self, query: Query, shown: list[Ranked]
    ) -> dict[int, list[SegmentHit]]:
        testimony_ids = [r.pk for r in shown]
        expression = query.to_fts5()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rowid, testimony_id, bm25(search_segment) FROM search_segment"
                " WHERE search_segment MATCH %s"
                " AND testimony_id IN (SELECT value FROM json_each(%s))"
                " ORDER BY rowid",
                [expression, _ids(testimony_ids)],
            )
            candidates: dict[int, list[tuple[float, int]]] = {}
            for pk, testimony_id, score in cursor.fetchall():
                found = candidates.setdefault(testimony_id, [])
                if len(found) < SEGMENT_CANDIDATES:
                    found.append((score, pk))
            chosen = [
                pk
                for found in candidates.values()
                for _, pk in sorted(found)[:SEGMENTS_PER_HIT]
            ]
            cursor.execute(
                "SELECT rowid, snippet(search_segment, 0, %s, %s, '…', %s)"
                " FROM search_segment WHERE search_segment MATCH %s"
                " AND rowid IN (SELECT value FROM json_each(%s))",
                [MARK_OPEN, MARK_CLOSE, SNIPPET_TOKENS, expression, _ids(chosen)],
            )
            snippets = dict(cursor.fetchall())
        segments = Segment.objects.only("position", "start", "speaker").in_bulk(chosen)
        best: dict[int, list[SegmentHit]] = {}
        for testimony_id, found in candidates.items():
            for _, pk in sorted(found)[:SEGMENTS_PER_HIT]:
                s = segments[pk]
                best.setdefault(testimony_id, []).append(
                    SegmentHit(
                        pk, s.position, s.start, s.speaker, Snippet(snippets[pk])
                    )
                )
        return best

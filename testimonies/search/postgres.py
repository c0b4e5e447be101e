"""PostgreSQL full-text search: a stored ``tsvector`` per segment and per testimony.

Each vector is built with its testimony's language configuration (see the
migration: French and English stem and ignore accents, others only fold), so a
query is read once per configuration and each entry meets its own reading.

A page of results is one statement, prepared once per connection: its steps
(CTEs) are built one by one by the backend's ``*_step`` methods and assembled by
``search_sql``, in the order they are written.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet

from ..models import Narrator, Testimony
from . import shelves
from .base import (
    MARK_CLOSE,
    MARK_OPEN,
    PAGE_SIZE,
    SEGMENTS_PER_HIT,
    MetadataDocument,
    Page,
    Progress,
    Ranked,
    SearchBackend,
    SegmentHit,
    Snippet,
    hit_columns,
    hits_from_rows,
)
from .facets import facet_statement, facet_values
from .query import Item, Query

CONFIG_BY_LANGUAGE = {"fr": "archive_fr", "en": "archive_en"}
OTHER_CONFIG = "archive_simple"
CONFIGS = (*CONFIG_BY_LANGUAGE.values(), OTHER_CONFIG)
# Segment ranks are computed over at most this many matches: past it, a word
# is so common that rank says little, and ranking every match would be slow.
# The matches ranked are a fixed sample, spread over the archive by a hash of
# their ids: the same whatever plan the database picks. Each is ranked as it is
# read from the index, while its vector is at hand: those whose hash has as many
# low zero bits as bring the matches the sample foresees down to about this
# number (where testimonies are asked, the sample's own matches).
# Testimonies outside it fall back to their metadata rank and number of matches
# (of sampled matches, where the testimonies are asked: see ``ask_where``).
# Where the sample foresees no more matches than this, they are all read and
# ranked.
RANK_CANDIDATES = 500
# A fixed sample of one segment in 16 (by a hash of its id) has indexes of its
# own (see migration 0002, which writes this mask too): it tells at little cost
# how widely the query's words are spread.
SAMPLE_MASK = 15
# Characters of text a headline is first built from, from WINDOW_BEFORE before
# the first word that may match: a headline shows at most 2 × 24 words.
WINDOW = 320
WINDOW_BEFORE = 100

# The accented forms of unaccented letters, for finding a term in text as it is.
ACCENTED = (
    ("a", "àâäáãå"),
    ("c", "ç"),
    ("e", "éèêëę"),
    ("i", "îïíì"),
    ("n", "ñ"),
    ("o", "ôöóòõø"),
    ("u", "ùûüú"),
    ("y", "ÿý"),
)
HEADLINE_OPTIONS = (
    f'StartSel="{MARK_OPEN}", StopSel="{MARK_CLOSE}", MaxFragments=2, '
    'MaxWords=24, MinWords=10, ShortWord=2, FragmentDelimiter=" … "'
)


def _literal(constant: str) -> str:
    """A constant of this module as an SQL string (never a value from outside)."""
    return "'" + constant.replace("'", "''").replace("%", "%%") + "'"


def config_for(language: str) -> str:
    return CONFIG_BY_LANGUAGE.get(language, OTHER_CONFIG)


def _language_to_config(column: str) -> str:
    whens = " ".join(
        f"WHEN '{language}' THEN '{config}'::regconfig"
        for language, config in CONFIG_BY_LANGUAGE.items()
    )
    return f"CASE {column} {whens} ELSE '{OTHER_CONFIG}'::regconfig END"


# --- Statements built of steps -----------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step (CTE) of a statement: its name, its query, its parameters."""

    name: str  # with its columns, where they are named
    body: str
    params: tuple = ()
    # A fence: computed once, apart from the steps that read it, so that the
    # planner cannot fold it into them (MATERIALIZED).
    fenced: bool = False

    def sql(self) -> str:
        fence = " MATERIALIZED" if self.fenced else ""
        return f"{self.name} AS{fence} ({self.body})"


def statement(steps: Sequence[Step], select: str) -> tuple[str, list]:
    """One statement of ``steps``, in order, whose last ``select`` reads them."""
    sql = "WITH " + ",\n".join(step.sql() for step in steps) + f"\n{select}"
    return sql, [param for step in steps for param in step.params]


class _Params:
    """Collects parameters in the order their placeholders are written."""

    def __init__(self) -> None:
        self.values: list = []

    def p(self, value) -> str:
        self.values.append(value)
        return "%s"


# --- What the steps say of an entry --------------------------------------------------


def matches_in(alias: str, config: str) -> str:
    """The entry is of this configuration and meets the query as it reads it:
    the condition the configuration's text indexes serve."""
    return (
        f"({alias}.config = '{config}'::regconfig AND {alias}.vector @@ "
        f"(SELECT {config} FROM q))"
    )


def matches(alias: str) -> str:
    """The entry meets the query as read by the entry's own configuration."""
    return "(" + " OR ".join(matches_in(alias, c) for c in CONFIGS) + ")"


def matches_row(alias: str) -> str:
    """As ``matches``, in a form no text index can serve: for rows already
    found another way (a testimony's own segments, in order)."""
    return f"{alias}.vector @@ {read_by(alias)}"


def in_sample(alias: str) -> str:
    """The entry is in the fixed sample (as the sample indexes are built)."""
    return f"(hashint8({alias}.segment_id) & {SAMPLE_MASK}) = 0"


def read_by(alias: str, suffix: str = "") -> str:
    """The query as read by the entry's configuration, for rank and headline
    (with ``suffix="_near"``, the pattern of its words)."""
    whens = " ".join(
        f"WHEN '{c}'::regconfig THEN (SELECT {c}{suffix} FROM q)" for c in CONFIGS
    )
    return f"CASE {alias}.config {whens} END"


def asked_in(alias: str) -> str:
    """The entry's testimonies are asked for this query (its configuration
    is dense in matches)."""
    whens = " ".join(
        f"WHEN '{c}'::regconfig THEN (SELECT {c} FROM dense)" for c in CONFIGS
    )
    return f"CASE {alias}.config {whens} ELSE false END"


def headline(alias: str, text: str) -> str:
    """The headline of ``text``, the entry's words marked."""
    options = _literal(HEADLINE_OPTIONS)
    return f"ts_headline({alias}.config, {text}, {read_by(alias)}, {options})"


# --- How the query is read -------------------------------------------------------


def _tsquery(params: _Params, config: str, query: Query) -> str:
    """The query as ``config`` reads it."""

    # One websearch_to_tsquery per item, combined here: websearch syntax
    # cannot group, and would read "a or b c" as a or (b and c).
    def item(i: Item) -> str:
        return f"websearch_to_tsquery('{config}', {params.p(i.quoted())})"

    positive = " && ".join(
        "(" + " || ".join(item(i) for i in clause) + ")" for clause in query.clauses
    )
    if not query.exclusions:
        return f"({positive})"
    negative = " || ".join(item(i) for i in query.exclusions)
    # Exclusions alone find nothing, also when every word searched for is a
    # stop word: the bare negation would match nearly every entry.
    # Placeholders stay in the order the parameters were collected.
    return (
        "(SELECT CASE WHEN numnode(p) = 0 THEN p ELSE p && !!n END"
        f" FROM (SELECT {positive} AS p, {negative} AS n) AS x)"
    )


def _near(params: _Params, config: str, words: str) -> str:
    """A pattern that finds where the query's words may be in a text."""
    # The start of each term (less its last letter, which stemmers may
    # change: "happy", "happi"), at the start of a word, for text read
    # without regard to case (the "i" flag where it is used); each letter
    # stands for its accented forms too (terms are unaccented); NULL when
    # the query keeps no term. A form missed here (a ligature) only costs
    # a headline read from the whole text.
    prefix = (
        r"regexp_replace(left(t, greatest(3, length(t) - 1)),"
        r" '([^[:alnum:]])', '\\\1', 'g')"
    )
    for letter, forms in ACCENTED:
        prefix = f"replace({prefix}, '{letter}', '[{letter}{forms}]')"
    return (
        rf"(SELECT '\m(?:' || string_agg({prefix}, '|') || ')'"
        f" FROM unnest(tsvector_to_array(to_tsvector('{config}',"
        f" {params.p(words)}))) AS t)"
    )


# The row a page reads, column by column: the total, the page's testimonies (id
# and score), the headlines of their passages, the facet counts.
TOTAL = "(SELECT count(*) FROM found)"
SHOWN = "(SELECT json_agg(json_build_array(id, score) ORDER BY place) FROM page)"
LINES = (
    "(SELECT json_agg(json_build_array(testimony_id, id, position,"
    " start, speaker, headline) ORDER BY testimony_id, o) FROM line)"
)
FACET_ROWS = (
    "(SELECT json_agg(json_build_array(facet, value, name_fr, name_en, n)) FROM facet)"
)


class PostgresSearchBackend(SearchBackend):
    vendor = "postgresql"

    # --- writing ------------------------------------------------------------

    def __init__(self) -> None:
        # While a change is under way, the testimonies whose words entry is to
        # be written again once it ends (see ``_words_changed``).
        self._stale: set[int] | None = None
        # Large writes go onto shelves, except in a rebuild, which builds the
        # text indexes in bulk itself.
        self._shelving = True

    def remove_testimonies(self, testimony_ids) -> None:
        ids = list(testimony_ids)
        with connection.cursor() as cursor:
            for table in ("search_segment", "search_testimony", "search_words"):
                cursor.execute(
                    f"DELETE FROM {table} WHERE testimony_id = ANY(%s)", [ids]
                )

    def index_segments(self, segment_ids) -> None:
        # Removing the old entries and writing the new ones change the same
        # testimonies' words: written once, when both are done.
        outermost = self._stale is None
        if outermost:
            self._stale = set()
        try:
            super().index_segments(segment_ids)
            if outermost and self._stale:
                self._write_words(sorted(self._stale))
        finally:
            if outermost:
                self._stale = None

    def _words_changed(self, testimony_ids) -> None:
        """These testimonies' segment entries changed: so do their words."""
        ids = set(testimony_ids)
        if self._stale is not None:
            self._stale.update(ids)
        elif ids:
            self._write_words(sorted(ids))

    def _write_words(self, testimony_ids: list[int]) -> None:
        """Write again each testimony's words: every term of its segments'
        entries, once and without positions (none where it has no term)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_words WHERE testimony_id = ANY(%s)",
                [testimony_ids],
            )
            # In the testimony's configuration, as its entries are written.
            cursor.execute(
                "INSERT INTO search_words (testimony_id, config, vector)"
                + self._words_select("search_segment"),
                [testimony_ids],
            )

    def _present(self, testimony_ids: list[int]) -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT testimony_id FROM search_testimony"
                " WHERE testimony_id = ANY(%s)",
                [testimony_ids],
            )
            return {row[0] for row in cursor.fetchall()}

    def _remove_segments(self, segment_ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_segment WHERE segment_id = ANY(%s)"
                " RETURNING testimony_id",
                [segment_ids],
            )
            self._words_changed(row[0] for row in cursor.fetchall())

    def _remove_metadata(self, testimony_ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM search_testimony WHERE testimony_id = ANY(%s)",
                [testimony_ids],
            )

    def _clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE search_segment, search_testimony, search_words")
            shelves.drop_all(cursor)

    def refresh_statistics(self) -> None:
        # Without them the planner guesses a handful of matches for any word
        # (autovacuum may be off, or not yet come round).
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE search_segment, search_testimony, search_words,"
                " testimonies_testimony,"
                " testimonies_segment, testimonies_consentrecord"
            )
            for parent in shelves.TABLES:
                for shelf in shelves.shelves(cursor, parent):
                    cursor.execute(f"ANALYZE {shelf}")

    @staticmethod
    def _text_indexes(cursor) -> list[tuple[str, str]]:
        """The index's text (GIN) indexes: names and definitions."""
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema()"
            " AND tablename IN ('search_segment', 'search_testimony', 'search_words')"
            " AND indexdef LIKE '%% USING gin %%' ORDER BY indexname"
        )
        return cursor.fetchall()

    def rebuild(self, progress: Progress | None = None, batch: int = 50) -> int:
        # Text indexes built in bulk once the rows are written take less time
        # than growing them row by row, and come out compact. All in one
        # transaction: an index is never left dropped.
        with transaction.atomic(), connection.cursor() as cursor:
            indexes = self._text_indexes(cursor)
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            self._shelving = False
            try:
                count = super().rebuild(progress, batch)
            finally:
                self._shelving = True
            for _name, definition in indexes:
                cursor.execute(definition)
            return count

    def _insert_segments(self, where: str, ids: list[int]) -> None:
        """Write the entries of the segments ``where`` lists, and then the
        words of their testimonies."""
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO search_segment (segment_id, testimony_id, config, vector)"
                + self._segment_select(where)
                + " RETURNING testimony_id",
                [ids],
            )
            self._words_changed(row[0] for row in cursor.fetchall())

    def _segment_select(self, where: str) -> str:
        """The entries of the segments ``where`` lists: id, testimony, the
        testimony's configuration and the vector of the public text."""
        return f"""
            SELECT s.id AS segment_id, s.testimony_id, c.config,
                   to_tsvector(c.config, s.public_text) AS vector
            FROM testimonies_segment s
            JOIN testimonies_testimony t ON t.id = s.testimony_id
            CROSS JOIN LATERAL (
                SELECT {_language_to_config("t.language")} AS config
            ) c
            WHERE {where} = ANY(%s)
        """

    def _words_select(self, table: str) -> str:
        """Each testimony's words from the segment entries of ``table``
        (``array_to_tsvector`` sorts them and keeps each once)."""
        return f"""
            SELECT t.id AS testimony_id,
                   {_language_to_config("t.language")} AS config,
                   array_to_tsvector(array_agg(term.lexeme)) AS vector
            FROM {table} e
            JOIN testimonies_testimony t ON t.id = e.testimony_id
            CROSS JOIN LATERAL unnest(tsvector_to_array(e.vector)) AS term(lexeme)
            WHERE e.testimony_id = ANY(%s)
            GROUP BY t.id, t.language
        """

    def _write_segments(self, testimony_ids: list[int]) -> None:
        if self._shelving:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM testimonies_segment"
                    " WHERE testimony_id = ANY(%s)",
                    [testimony_ids],
                )
                if cursor.fetchone()[0] >= shelves.SHELF_SEGMENTS:
                    entries = self._shelve(cursor, "s.testimony_id", testimony_ids)
                    # Whole testimonies: their words are all on this shelf.
                    words = shelves.new_shelf(
                        cursor,
                        "search_words",
                        self._words_select(entries),
                        [testimony_ids],
                    )
                    shelves.dress(cursor, "search_words", words)
                    return
        self._insert_segments("s.testimony_id", testimony_ids)

    def _write_segment_rows(self, segment_ids: list[int]) -> None:
        if self._shelving and len(segment_ids) >= shelves.SHELF_SEGMENTS:
            with connection.cursor() as cursor:
                entries = self._shelve(cursor, "s.id", segment_ids)
                # Their testimonies' other entries are elsewhere: their words
                # are written again from all of them.
                cursor.execute(f"SELECT DISTINCT testimony_id FROM {entries}")
                self._words_changed(row[0] for row in cursor.fetchall())
            return
        self._insert_segments("s.id", segment_ids)

    def _shelve(self, cursor, where: str, ids: list[int]) -> str:
        """Write the entries of the segments ``where`` lists onto a shelf of
        their own, filled first and indexed after (see ``shelves``); its name."""
        entries = shelves.new_shelf(
            cursor, "search_segment", self._segment_select(where), [ids]
        )
        shelves.dress(cursor, "search_segment", entries)
        shelves.fold_later()
        return entries

    def _write_metadata(self, documents: list[MetadataDocument]) -> None:
        rows = [
            (
                d.testimony_id,
                config_for(d.language),
                d.title,
                d.summary,
                d.people,
                d.place,
            )
            for d in documents
        ]
        with connection.cursor() as cursor:
            cursor.executemany(
                """
                INSERT INTO search_testimony (testimony_id, config, vector)
                SELECT v.id, v.config,
                       setweight(to_tsvector(v.config, v.title), 'A')
                       || setweight(to_tsvector(v.config, v.summary), 'B')
                       || setweight(to_tsvector(v.config, v.people), 'C')
                       || setweight(to_tsvector(v.config, v.place), 'D')
                FROM (SELECT %s::bigint AS id, %s::regconfig AS config,
                             %s::text AS title, %s::text AS summary,
                             %s::text AS people, %s::text AS place) v
                """,
                rows,
            )

    def count_segments(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_segment")
            return cursor.fetchone()[0]

    # --- searching ----------------------------------------------------------

    ids_sql = "SELECT unnest(%s::bigint[])"

    def ids_param(self, ids: list[int]):
        return ids

    def _page(
        self, query: Query, scope: QuerySet, offset: int, size: int, facets: bool
    ) -> Page:
        statement, params = self.search_sql(query, scope, offset, size, facets=facets)
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            total, shown, lines, counted, rows = cursor.fetchone()
        segments: dict[int, list[SegmentHit]] = {}
        for testimony_id, pk, position, start, speaker, headline in lines or ():
            segments.setdefault(testimony_id, []).append(
                SegmentHit(pk, position, start, speaker, Snippet(headline))
            )
        return Page(
            total,
            [Ranked(pk, float(score)) for pk, score in shown or ()],
            segments,
            facet_values(counted or ()) if facets else None,
            testimonies=hits_from_rows(rows or ()),
        )

    def search_sql(
        self,
        query: Query,
        scope: QuerySet,
        offset: int = 0,
        size: int = PAGE_SIZE,
        *,
        facets: bool = True,
    ) -> tuple[str, list]:
        """The one statement of a page of results: its steps, read by one row."""
        steps = self.page_steps(query, scope, offset, size, facets=facets)
        return statement(steps, self.page_row(facets=facets))

    def page_steps(
        self,
        query: Query,
        scope: QuerySet,
        offset: int = 0,
        size: int = PAGE_SIZE,
        *,
        facets: bool = True,
    ) -> list[Step]:
        """Every step of a page's statement, in order: the query read, the way
        its testimonies are found chosen, the matches, their ranking, the
        passages shown and (unless left out) the facets."""
        steps = [
            *self.reading_steps(query, scope),
            *self.choosing_steps(),
            *self.matching_steps(),
            *self.ranking_steps(offset, size),
            *self.passage_steps(),
        ]
        if facets:
            steps.append(self.facets_step())
        return steps

    def page_row(self, *, facets: bool = True) -> str:
        """The one row a page reads: the total, the page's testimonies, the
        headlines of their passages, the facet counts of every match (unless
        left out) and what a hit shows of each testimony (each a JSON array)."""
        counted = FACET_ROWS if facets else "NULL::json"
        return f"SELECT {TOTAL}, {SHOWN}, {LINES}, {counted}, {self.hit_rows()}"

    # --- The page's statement, step by step -----------------------------------
    #
    # Where the query's words are in many testimonies of a language (as a fixed
    # sample of segments, with indexes of its own, tells), the testimonies of
    # that language are asked: their words tell which hold the query's terms;
    # those are each asked whether one of their segments matches, which stops
    # at its first match, unless holding a term is a match. Elsewhere every
    # match is read from the index. Both give the same testimonies.
    # Each way's matches are a fence of their own, so that the index is
    # searched once and the scope joined after: planned the other way round,
    # it would search the index once per visible testimony.

    def reading_steps(self, query: Query, scope: QuerySet) -> list[Step]:
        """``q`` and ``scope``: what is searched for, and where."""
        return [self.query_step(query), self.scope_step(scope)]

    def query_step(self, query: Query) -> Step:
        """``q``: the query as each configuration reads it; (``<config>_near``)
        a pattern that finds where its words may be; and what a testimony's
        words (``search_words``) tell of it: whether a testimony that matches
        holds every term somewhere (``<config>_narrows``: no phrase, no
        exclusion), and whether one that holds a term matches (``<config>_exact``:
        terms joined by or alone). Read from the query's text, where these signs
        are its operators (a term that holds one only costs the shortcut)."""
        params = _Params()
        columns = [f"{_tsquery(params, c, query)} AS {c}" for c in CONFIGS]
        words = " ".join(i.text for clause in query.clauses for i in clause)
        columns += [f"{_near(params, c, words)} AS {c}_near" for c in CONFIGS]
        flags = [
            f"{c}::text !~ '[<!:]' AS {c}_narrows, {c}::text !~ '[&<!:]' AS {c}_exact"
            for c in CONFIGS
        ]
        body = (
            f"SELECT *, {', '.join(flags)} FROM (SELECT {', '.join(columns)}) AS read"
        )
        return Step("q", body, tuple(params.values), fenced=True)

    def scope_step(self, scope: QuerySet) -> Step:
        """``scope``: the testimonies searched (the visitor's, filtered), with
        their languages."""
        sql, params = scope.order_by().values("pk", "language").query.sql_with_params()
        return Step("scope (pk, language)", sql, tuple(params))

    def choosing_steps(self) -> list[Step]:
        """From ``sample`` to ``dense``: how widely the query's words are
        spread, and so which way each configuration's testimonies are found."""
        return [
            self.sample_step(),
            self.rank_mask_step(),
            self.entry_step(),
            self.flag_step(),
            self.doc_step(),
            self.dense_step(),
        ]

    def sample_step(self) -> Step:
        """``sample``: the matches of the fixed sample of segments, ranked: they
        foresee how many matches the index holds, and where."""
        body = f"""
            SELECT e.segment_id, e.testimony_id, e.config,
                   ts_rank_cd(e.vector, {read_by("e")}) AS rank
            FROM search_segment e
            WHERE {matches("e")} AND {in_sample("e")}"""
        return Step("sample", body, fenced=True)

    def rank_mask_step(self) -> Step:
        """``rank_mask``: the low bits of a segment's hash that must be zero for
        a match to be ranked, so that about RANK_CANDIDATES of those the sample
        foresees are."""
        body = f"""
            SELECT CASE WHEN n <= 1 THEN 0
                        ELSE (1 << least(30, ceil(log(2, n))::int)) - 1
                   END AS bits
            FROM (
                SELECT count(*) * {SAMPLE_MASK + 1}.0 / {RANK_CANDIDATES} AS n
                FROM sample
            ) AS foreseen"""
        return Step("rank_mask", body, fenced=True)

    def entry_step(self) -> Step:
        """``entry``: each testimony searched, with the configuration its
        entries are read in."""
        body = f"SELECT pk, {_language_to_config('language')} AS config FROM scope"
        return Step("entry", body, fenced=True)

    def flag_step(self) -> Step:
        """``flag``: what a testimony's words tell of the query (see
        ``query_step``), one row per configuration."""
        body = " UNION ALL ".join(
            f"SELECT '{c}'::regconfig AS config, {c}_narrows AS narrows,"
            f" {c}_exact AS exact FROM q"
            for c in CONFIGS
        )
        return Step("flag", body, fenced=True)

    def doc_step(self) -> Step:
        """``doc``: the testimonies whose words hold the query's terms, in the
        configurations where that is worth knowing (``_narrows``), and only
        where testimonies may be asked (the sample foresees more matches than
        are ranked): one branch each, which the database skips where it is not
        needed."""
        foreseen = f"(SELECT count(*) FROM sample) * {SAMPLE_MASK + 1}"
        needed = self.ask_where(f"{foreseen} > {RANK_CANDIDATES}")
        body = " UNION ALL ".join(
            f"SELECT testimony_id FROM search_words_holding('{c}',"
            f" (SELECT {c} FROM q)) AS testimony_id"
            f" WHERE (SELECT {c}_narrows FROM q) AND {needed}"
            for c in CONFIGS
        )
        return Step("doc", body, fenced=True)

    def dense_step(self) -> Step:
        """``dense``: one boolean column per configuration, and ``anywhere``:
        whether its testimonies are asked for their first match rather than
        every match read from the index.

        They are where asking reads fewer segments than the index holds
        matches, by the sample, and the sample foresees more matches than are
        ranked (below that, reading them all ranks them all). The testimonies
        asked are those whose words hold every term, where the query allows
        (``_narrows``), else every visible one. Asking reads about segments /
        (matches + 1) of a testimony, matches taken as spread evenly; where the
        sample shows them bunched in fewer testimonies than an even spread
        would (half as many), the index is read. Where a testimony's words
        holding a term is a match (``_exact``), asking reads nothing."""
        share = f"{SAMPLE_MASK + 1}.0"
        # v.target: the testimonies that would be asked.
        per = f"(v.hits * {share} / greatest(v.target, 1))"
        asked = (
            f"(CASE WHEN v.exact THEN 0 ELSE v.target * v.segments / ({per} + 1) END)"
        )
        read = f"v.sampled * {share}"
        spread = (
            "(v.exact OR v.seen * 2 >= v.target"
            " * (1 - exp(-v.hits::float / greatest(v.target, 1))))"
        )
        cheaper = self.ask_where(
            f"({asked} <= {read} AND {read} > {RANK_CANDIDATES} AND {spread})"
        )
        flags = [
            f"coalesce(bool_or(v.config = '{c}'::regconfig AND {cheaper}), false)"
            f" AS {c}"
            for c in CONFIGS
        ]
        flags.append(f"coalesce(bool_or({cheaper}), false) AS anywhere")
        # The testimonies of each configuration and those whose words hold the
        # terms (membership read from a hash of each set: see ``known_step``);
        # the sample's matches, all and those of visible testimonies, and how
        # many testimonies these are; the segments a testimony holds on average.
        body = f"""
            SELECT {", ".join(flags)} FROM (
                SELECT counted.*, flag.exact,
                       coalesce(m.seen, 0) AS seen, coalesce(m.hits, 0) AS hits,
                       coalesce(m.n, 0) AS sampled,
                       CASE WHEN flag.narrows THEN counted.docs
                            ELSE counted.visible END AS target,
                       size.segments
                FROM (
                    SELECT config, count(*) AS visible,
                           count(*) FILTER (
                               WHERE pk IN (SELECT testimony_id FROM doc)
                           ) AS docs
                    FROM entry GROUP BY config
                ) AS counted
                JOIN flag USING (config)
                LEFT JOIN (
                    SELECT config, count(*) AS n,
                           count(*) FILTER (WHERE testimony_id IN (
                               SELECT pk FROM entry)) AS hits,
                           count(DISTINCT testimony_id) FILTER (
                               WHERE testimony_id IN (SELECT pk FROM entry)
                           ) AS seen
                    FROM sample GROUP BY config
                ) AS m USING (config)
                CROSS JOIN (
                    SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples
                                / greatest(1,
                                           (SELECT count(*) FROM search_testimony))
                           END AS segments
                    FROM pg_class c WHERE c.oid = 'search_segment'::regclass
                ) AS size
            ) AS v"""
        return Step("dense", body, fenced=True)

    def ask_where(self, condition: str) -> str:
        """Where the testimonies are asked rather than every match read from the
        index: where ``condition``, what the sample foresees, holds."""
        return condition

    def matching_steps(self) -> list[Step]:
        """From ``hit`` to ``per``: the matches found each way, and how many
        each testimony has."""
        return [
            self.hit_step(),
            self.asked_step(),
            self.near_step(),
            self.per_step(),
        ]

    def hit_step(self) -> Step:
        """``hit``: every match read from the index, in the configurations whose
        testimonies are not asked (one branch each, which the database skips
        where they are), ranked if its hash puts it among the candidates."""
        body = " UNION ALL ".join(
            f"SELECT e.segment_id, e.testimony_id,"
            f" CASE WHEN (hashint8(e.segment_id) & (SELECT bits FROM rank_mask)) = 0"
            f" THEN ts_rank_cd(e.vector, (SELECT {c} FROM q)) END AS rank"
            f" FROM search_segment e"
            f" WHERE {matches_in('e', c)} AND NOT (SELECT {c} FROM dense)"
            for c in CONFIGS
        )
        return Step("hit", body, fenced=True)

    def asked_step(self) -> Step:
        """``asked``: the testimonies asked, where any are: visible, of a
        configuration whose testimonies are asked, and holding the query's
        terms where that narrows them."""
        body = f"""
            SELECT entry.pk, flag.exact FROM entry JOIN flag USING (config)
            WHERE (SELECT anywhere FROM dense) AND {asked_in("entry")}
              AND (NOT flag.narrows OR entry.pk IN (SELECT testimony_id FROM doc))"""
        return Step("asked", body, fenced=True)

    def near_step(self) -> Step:
        """``near``: the asked testimonies that match: those whose words hold a
        term, where that is a match; else each asked for its first matching
        segment, an ordered lookup that stops there."""
        body = f"""
            SELECT pk AS testimony_id FROM asked WHERE exact
            UNION ALL
            SELECT asked.pk FROM asked CROSS JOIN LATERAL (
                SELECT 1 FROM search_segment e
                WHERE e.testimony_id = asked.pk AND {matches_row("e")}
                ORDER BY e.segment_id LIMIT 1
            ) AS one
            WHERE NOT asked.exact"""
        return Step("near", body, fenced=True)

    def per_step(self) -> Step:
        """``per``: the matches of each testimony searched that has any (where
        testimonies were asked, those of the sample), and which way it was
        found."""
        body = """
            SELECT c.testimony_id, c.hits, false AS dense FROM (
                SELECT testimony_id, count(*) AS hits FROM hit
                GROUP BY testimony_id
            ) AS c
            WHERE c.testimony_id IN (SELECT pk FROM scope)
            UNION ALL
            SELECT near.testimony_id, count(sample.segment_id), true
            FROM near LEFT JOIN sample USING (testimony_id)
            GROUP BY near.testimony_id"""
        return Step("per", body, fenced=True)

    def ranking_steps(self, offset: int, size: int) -> list[Step]:
        """From ``ranked`` to ``page``: the testimonies found, best first, and
        those of the page."""
        return [
            self.ranked_step(),
            self.best_step(),
            *self.metadata_steps(),
            self.found_step(),
            self.known_step(),
            self.page_step(offset, size),
        ]

    def ranked_step(self) -> Step:
        """``ranked``: the fixed sample of at most RANK_CANDIDATES ranked matches
        of the testimonies found, chosen by hash whatever the plan."""
        body = f"""
            SELECT testimony_id, segment_id, rank FROM (
                SELECT segment_id, testimony_id, rank FROM hit
                WHERE rank IS NOT NULL
                UNION ALL
                SELECT segment_id, testimony_id, rank FROM sample
                WHERE testimony_id IN (SELECT testimony_id FROM near)
            ) AS candidate
            WHERE testimony_id IN (SELECT testimony_id FROM per)
            ORDER BY hashint8(segment_id), segment_id
            LIMIT {RANK_CANDIDATES}"""
        return Step("ranked", body)

    def best_step(self) -> Step:
        """``best``: each ranked testimony's best rank and best segments, as many
        as a hit shows."""
        body = f"""
            SELECT testimony_id, max(rank) AS rank,
                   (array_agg(segment_id ORDER BY rank DESC, segment_id))
                       [1:{SEGMENTS_PER_HIT}] AS top
            FROM ranked GROUP BY testimony_id"""
        return Step("best", body)

    def metadata_steps(self) -> list[Step]:
        """``meta_hit`` and ``meta``: the testimonies whose metadata match, with
        their metadata rank; the index read once, the scope joined after."""
        body = f"""
            SELECT d.testimony_id, ts_rank(d.vector, {read_by("d")}) AS rank
            FROM search_testimony d
            WHERE {matches("d")}"""
        return [
            Step("meta_hit", body, fenced=True),
            Step(
                "meta",
                "SELECT * FROM meta_hit WHERE testimony_id IN (SELECT pk FROM scope)",
            ),
        ]

    def found_step(self) -> Step:
        """``found``: every testimony searched that matches, by a segment or by
        its metadata."""
        body = "SELECT testimony_id FROM per UNION SELECT testimony_id FROM meta"
        return Step("found", body)

    def known_step(self) -> Step:
        """``known``: what is known of each testimony found, gathered (each kind
        has one row a testimony at most) rather than joined: the number of rows
        the planner foresees for a step may be far too low, and a join planned
        for a handful of rows compares every pair."""
        body = """
            SELECT testimony_id, max(meta_rank) AS meta_rank,
                   max(best_rank) AS best_rank, max(top) AS top,
                   max(hits) AS hits, bool_or(dense) AS dense
            FROM (
                SELECT testimony_id, rank AS meta_rank, NULL::real AS best_rank,
                       NULL::bigint[] AS top, NULL::bigint AS hits,
                       NULL::boolean AS dense
                FROM meta
                UNION ALL
                SELECT testimony_id, NULL, rank, top, NULL, NULL FROM best
                UNION ALL
                SELECT testimony_id, NULL, NULL, NULL, hits, dense FROM per
            ) AS each_kind
            GROUP BY testimony_id"""
        return Step("known", body)

    def page_step(self, offset: int, size: int) -> Step:
        """``page``: the testimonies of the page, in order (score, matches,
        most recently published), with their place and best segments."""
        body = f"""
            SELECT * FROM (
                SELECT t.id,
                       coalesce(k.meta_rank, 0) + coalesce(k.best_rank, 0) AS score,
                       k.top, coalesce(k.dense, false) AS dense,
                       row_number() OVER (
                           ORDER BY coalesce(k.meta_rank, 0)
                                        + coalesce(k.best_rank, 0) DESC,
                                    coalesce(k.hits, 0) DESC,
                                    t.published_at DESC NULLS LAST, t.id DESC
                       ) AS place
                FROM known k JOIN testimonies_testimony t ON t.id = k.testimony_id
            ) AS ordered
            WHERE place > {int(offset)} AND place <= {int(offset) + int(size)}"""
        return Step("page", body, fenced=True)

    def passage_steps(self) -> list[Step]:
        """From ``short`` to ``line``: the passages each hit shows (the best
        ranked segments, then the first matches, each once) and their
        headlines, built for these alone."""
        return [
            self.short_step(),
            self.first_step(),
            self.passage_step(),
            self.shown_step(),
            self.line_step(),
        ]

    def short_step(self) -> Step:
        """``short``: the testimonies of the page with fewer ranked segments
        than a hit shows."""
        body = f"""
            SELECT id, dense FROM page
            WHERE coalesce(cardinality(top), 0) < {SEGMENTS_PER_HIT}"""
        return Step("short", body)

    def first_step(self) -> Step:
        """``first``: their first matching segments, from the index's matches
        or, where the testimony was asked, by an ordered lookup."""
        body = f"""
            SELECT testimony_id, segment_id, {SEGMENTS_PER_HIT} + n AS o
            FROM (
                SELECT hit.*, row_number() OVER (
                    PARTITION BY testimony_id ORDER BY segment_id
                ) AS n FROM hit
                WHERE testimony_id IN (SELECT id FROM short WHERE NOT dense)
            ) AS numbered
            WHERE n <= {SEGMENTS_PER_HIT}
            UNION ALL
            SELECT short.id, f.segment_id, {SEGMENTS_PER_HIT} + f.n
            FROM short CROSS JOIN LATERAL (
                SELECT e.segment_id, row_number() OVER (ORDER BY e.segment_id) AS n
                FROM search_segment e
                WHERE e.testimony_id = short.id AND {matches_row("e")}
                ORDER BY e.segment_id LIMIT {SEGMENTS_PER_HIT}
            ) AS f
            WHERE short.dense"""
        return Step("first", body)

    def passage_step(self) -> Step:
        """``passage``: the best ranked and the first segments, each once, in
        the order they are shown."""
        body = """
            SELECT testimony_id, segment_id, min(o) AS o FROM (
                SELECT page.id AS testimony_id, u.segment_id, u.o
                FROM page, unnest(page.top) WITH ORDINALITY AS u(segment_id, o)
                UNION ALL SELECT * FROM first
            ) AS both_kinds
            GROUP BY testimony_id, segment_id"""
        return Step("passage", body)

    def shown_step(self) -> Step:
        """``shown``: as many passages of each testimony as a hit shows."""
        body = f"""
            SELECT testimony_id, segment_id, o FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY testimony_id ORDER BY o
                ) AS n FROM passage
            ) AS numbered
            WHERE n <= {SEGMENTS_PER_HIT}"""
        return Step("shown", body)

    def line_step(self) -> Step:
        """``line``: each passage shown, with its headline.

        A headline's cost grows with the text it reads: it is built from a
        window of whole words around the first word that may match, and where
        the window holds no match after all, from the whole text. Each step
        once per passage (OFFSET 0 keeps the planner from copying its
        expression into every later use)."""
        body = f"""
            SELECT shown.testimony_id, shown.o, s.id, s.position, s.start,
                   s.speaker,
                   CASE WHEN strpos(windowed.headline, {_literal(MARK_OPEN)}) > 0
                        THEN windowed.headline
                        ELSE {headline("e", "s.public_text")}
                   END AS headline
            FROM shown
            JOIN testimonies_segment s ON s.id = shown.segment_id
            JOIN search_segment e ON e.segment_id = s.id
            CROSS JOIN LATERAL (
                SELECT CASE WHEN length(s.public_text) <= {WINDOW} THEN 0
                       ELSE coalesce(regexp_instr(s.public_text,
                                {read_by("e", "_near")}, 1, 1, 0, 'i'), 0)
                       END AS at
                OFFSET 0
            ) AS term
            CROSS JOIN LATERAL (
                SELECT substr(s.public_text,
                              greatest(1, term.at - {WINDOW_BEFORE}),
                              {WINDOW}) AS part,
                       term.at > {WINDOW_BEFORE} + 1 AS head_cut,
                       greatest(1, term.at - {WINDOW_BEFORE}) + {WINDOW}
                           <= length(s.public_text) AS tail_cut
                OFFSET 0
            ) AS cut
            CROSS JOIN LATERAL (
                SELECT CASE WHEN cut.head_cut
                            THEN substr(cut.part, strpos(cut.part, ' ') + 1)
                            ELSE cut.part END AS part
                OFFSET 0
            ) AS head
            CROSS JOIN LATERAL (
                SELECT CASE WHEN term.at = 0 THEN s.public_text
                            WHEN cut.tail_cut
                            THEN left(head.part, length(head.part)
                                      - strpos(reverse(head.part), ' '))
                            ELSE head.part END AS text
                OFFSET 0
            ) AS excerpt
            CROSS JOIN LATERAL (
                SELECT {headline("e", "excerpt.text")} AS headline OFFSET 0
            ) AS windowed"""
        return Step("line", body)

    def facets_step(self) -> Step:
        """``facet``: the facet counts of every testimony found (see
        ``facets.facet_statement``)."""
        sql, params = facet_statement("SELECT testimony_id FROM found")
        return Step("facet", sql, tuple(params))

    @staticmethod
    def hit_rows() -> str:
        """The page's testimonies, each an array of ``hit_columns``."""
        q = connection.ops.quote_name
        alias = {Testimony: "t", Narrator: "n"}
        values = ", ".join(
            f"{alias[model]}.{q(column)}" for model, _attname, column in hit_columns()
        )
        return (
            f"(SELECT json_agg(json_build_array({values})) FROM page"
            f" JOIN {q(Testimony._meta.db_table)} t ON t.id = page.id"
            f" JOIN {q(Narrator._meta.db_table)} n ON n.id = t.narrator_id)"
        )

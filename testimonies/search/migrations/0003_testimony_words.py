"""Every term of each testimony's indexed segments, once, with a text index
(PostgreSQL): which testimonies hold a word is then read from one entry per
testimony instead of from every matching segment.

The terms keep no positions (a testimony's segments are separate texts, and
phrases are found in segments), so the table stays small: about 4,000 terms a
testimony for two hours of speech.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = [
    """CREATE TABLE search_words (
        testimony_id bigint PRIMARY KEY REFERENCES testimonies_testimony (id)
            ON DELETE CASCADE,
        config regconfig NOT NULL,
        vector tsvector NOT NULL
    )""",
    # From the segments' entries the index already holds, in the testimony's
    # configuration.
    """INSERT INTO search_words (testimony_id, config, vector)
    SELECT t.id,
           CASE t.language WHEN 'fr' THEN 'archive_fr'::regconfig
                           WHEN 'en' THEN 'archive_en'::regconfig
                           ELSE 'archive_simple'::regconfig END,
           array_to_tsvector(array_agg(DISTINCT term.lexeme))
    FROM search_segment e
    JOIN testimonies_testimony t ON t.id = e.testimony_id
    CROSS JOIN LATERAL unnest(e.vector) AS term
    GROUP BY t.id, t.language""",
    "CREATE INDEX search_words_vector ON search_words USING gin (vector)"
    " WITH (fastupdate = off)",
    # The testimonies whose words meet a query, read from the text index. The
    # planner, which takes a match for a cheap test, would rather read the
    # few hundred rows of the table, each match then unpacking a testimony's
    # tens of kilobytes of words: that choice is taken away here.
    """CREATE FUNCTION search_words_holding(regconfig, tsquery)
    RETURNS SETOF bigint LANGUAGE sql STABLE SET enable_seqscan = off
    AS $$
        SELECT testimony_id FROM search_words WHERE config = $1 AND vector @@ $2
    $$""",
]
POSTGRESQL_DROP = [
    "DROP FUNCTION search_words_holding(regconfig, tsquery)",
    "DROP TABLE search_words",
]


def _run(statements):
    def run(apps, schema_editor):
        # SQLite's FTS5 index has no such table: nothing to do there.
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0002_sample_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WordsEntry",
                    fields=[
                        (
                            "testimony",
                            models.OneToOneField(
                                db_constraint=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                primary_key=True,
                                related_name="+",
                                serialize=False,
                                to="testimonies.testimony",
                            ),
                        ),
                    ],
                    options={"db_table": "search_words", "default_permissions": ()},
                ),
            ],
            database_operations=[
                migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_DROP)),
            ],
        ),
    ]

"""The search index: one layout per database engine, the same two tables in
Django's state (so that a flush empties them too)."""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # French and English stem and ignore accents; every other language is
    # only lower-cased and unaccented.
    # French stop words are dropped before their accents are: "à", "été" or
    # "déjà" unaccented would no longer be found in the stop list.
    "CREATE TEXT SEARCH DICTIONARY archive_french_stop"
    " (TEMPLATE = pg_catalog.simple, STOPWORDS = french, ACCEPT = false)",
    "CREATE TEXT SEARCH CONFIGURATION archive_fr (COPY = french)",
    "ALTER TEXT SEARCH CONFIGURATION archive_fr ALTER MAPPING FOR hword, hword_part,"
    " word WITH archive_french_stop, unaccent, french_stem",
    "CREATE TEXT SEARCH CONFIGURATION archive_en (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION archive_en ALTER MAPPING FOR hword, hword_part,"
    " word WITH unaccent, english_stem",
    "CREATE TEXT SEARCH CONFIGURATION archive_simple (COPY = simple)",
    "ALTER TEXT SEARCH CONFIGURATION archive_simple ALTER MAPPING FOR hword,"
    " hword_part, word WITH unaccent, simple",
    # Once a row is over PostgreSQL's 2 kB threshold (a long segment), its
    # vector is moved out of the row (toast_tuple_target), so that the rows a
    # match must visit to learn its testimony stay narrow. Shorter rows keep
    # their vector inline: PostgreSQL toasts nothing below that threshold.
    """CREATE TABLE search_segment (
        segment_id bigint PRIMARY KEY REFERENCES testimonies_segment (id)
            ON DELETE CASCADE,
        testimony_id bigint NOT NULL REFERENCES testimonies_testimony (id)
            ON DELETE CASCADE,
        config regconfig NOT NULL,
        vector tsvector NOT NULL
    ) WITH (toast_tuple_target = 128)""",
    "CREATE INDEX search_segment_testimony ON search_segment (testimony_id)",
    "CREATE INDEX search_segment_fr ON search_segment USING gin (vector)"
    " WHERE config = 'archive_fr'::regconfig",
    "CREATE INDEX search_segment_en ON search_segment USING gin (vector)"
    " WHERE config = 'archive_en'::regconfig",
    "CREATE INDEX search_segment_simple ON search_segment USING gin (vector)"
    " WHERE config = 'archive_simple'::regconfig",
    """CREATE TABLE search_testimony (
        testimony_id bigint PRIMARY KEY REFERENCES testimonies_testimony (id)
            ON DELETE CASCADE,
        config regconfig NOT NULL,
        vector tsvector NOT NULL
    )""",
    "CREATE INDEX search_testimony_vector ON search_testimony USING gin (vector)",
]
POSTGRESQL_DROP = [
    "DROP TABLE search_testimony",
    "DROP TABLE search_segment",
    "DROP TEXT SEARCH CONFIGURATION archive_simple",
    "DROP TEXT SEARCH CONFIGURATION archive_en",
    "DROP TEXT SEARCH CONFIGURATION archive_fr",
    "DROP TEXT SEARCH DICTIONARY archive_french_stop",
]

SQLITE = [
    # rowid is the segment's id; the table keeps its own copy of public text,
    # written by the services in the same transaction, for snippet().
    "CREATE VIRTUAL TABLE search_segment USING fts5("
    " public_text, testimony_id UNINDEXED,"
    " tokenize = 'unicode61 remove_diacritics 2')",
    # rowid is the testimony's id.
    "CREATE VIRTUAL TABLE search_testimony USING fts5("
    " title, summary, people, place,"
    " tokenize = 'unicode61 remove_diacritics 2')",
]
SQLITE_DROP = ["DROP TABLE search_testimony", "DROP TABLE search_segment"]

LAYOUTS = {
    "postgresql": (POSTGRESQL, POSTGRESQL_DROP),
    "sqlite": (SQLITE, SQLITE_DROP),
}


def _run(statements_of):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in LAYOUTS:
            raise RuntimeError(f"the search index has no layout for {vendor}")
        for statement in statements_of(LAYOUTS[vendor]):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [("testimonies", "0002_groups")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SegmentEntry",
                    fields=[
                        (
                            "segment",
                            models.OneToOneField(
                                db_constraint=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                primary_key=True,
                                related_name="+",
                                serialize=False,
                                to="testimonies.segment",
                            ),
                        ),
                    ],
                    options={"db_table": "search_segment", "default_permissions": ()},
                ),
                migrations.CreateModel(
                    name="TestimonyEntry",
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
                    options={
                        "db_table": "search_testimony",
                        "default_permissions": (),
                    },
                ),
            ],
            database_operations=[
                migrations.RunPython(
                    _run(lambda layout: layout[0]), _run(lambda layout: layout[1])
                ),
            ],
        ),
    ]

"""A fixed sample of the segments' vectors, indexed on its own (PostgreSQL), and
each testimony's entries in segment order; text indexes without pending lists.

The sample, one segment in 16 by a hash of its id (``postgres.SAMPLE_MASK``),
tells at little cost how widely a query's words are spread; the ordered index
lets a testimony be asked for its first matching segments and stop there.
With ``fastupdate`` on, a text index keeps new entries in a list that every
search reads through until it is merged (megabytes, after a bulk write): writes
here are a curator's, few and small, and a rebuild builds its indexes in bulk,
so entries go straight into the index.
"""

from django.db import migrations

CONFIGS = ("fr", "en", "simple")

TEXT_INDEXES = (*(f"search_segment_{c}" for c in CONFIGS), "search_testimony_vector")

POSTGRESQL = [
    "DROP INDEX search_segment_testimony",
    "CREATE INDEX search_segment_testimony ON search_segment"
    " (testimony_id, segment_id)",
    *(f"ALTER INDEX {name} SET (fastupdate = off)" for name in TEXT_INDEXES),
    *(
        f"CREATE INDEX search_segment_{c}_sample ON search_segment USING gin (vector)"
        " WITH (fastupdate = off)"
        f" WHERE config = 'archive_{c}'::regconfig"
        " AND (hashint8(segment_id) & 15) = 0"
        for c in CONFIGS
    ),
]
POSTGRESQL_DROP = [
    *(f"DROP INDEX search_segment_{c}_sample" for c in CONFIGS),
    *(f"ALTER INDEX {name} RESET (fastupdate)" for name in TEXT_INDEXES),
    "DROP INDEX search_segment_testimony",
    "CREATE INDEX search_segment_testimony ON search_segment (testimony_id)",
]


def _run(statements):
    def run(apps, schema_editor):
        # SQLite's FTS5 index has no such layout: nothing to do there.
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_DROP))]

"""A fixed sample of the segments' vectors, indexed on its own (PostgreSQL), and
each testimony's entries in segment order.

The sample, one segment in 16 by a hash of its id (``postgres.SAMPLE_MASK``),
tells at little cost how widely a query's words are spread; the ordered index
lets a testimony be asked for its first matching segments and stop there.
"""

from django.db import migrations

CONFIGS = ("fr", "en", "simple")

POSTGRESQL = [
    "DROP INDEX search_segment_testimony",
    "CREATE INDEX search_segment_testimony ON search_segment"
    " (testimony_id, segment_id)",
    *(
        f"CREATE INDEX search_segment_{c}_sample ON search_segment USING gin (vector)"
        f" WHERE config = 'archive_{c}'::regconfig"
        " AND (hashint8(segment_id) & 15) = 0"
        for c in CONFIGS
    ),
]
POSTGRESQL_DROP = [
    *(f"DROP INDEX search_segment_{c}_sample" for c in CONFIGS),
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

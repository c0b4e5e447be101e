"""The numbers of the index's shelves (PostgreSQL): see ``search.shelves``."""

from django.db import migrations

POSTGRESQL = ["CREATE SEQUENCE search_shelf_number"]
POSTGRESQL_DROP = [
    # The shelves first: the tables they inherit cannot be dropped before them.
    """DO $$
    DECLARE shelf regclass;
    BEGIN
        FOR shelf IN SELECT inhrelid::regclass FROM pg_inherits
                     WHERE inhparent IN ('search_segment'::regclass,
                                         'search_words'::regclass)
        LOOP
            EXECUTE 'DROP TABLE ' || shelf::text;
        END LOOP;
    END $$""",
    "DROP SEQUENCE search_shelf_number",
]


def _run(statements):
    def run(apps, schema_editor):
        # SQLite's FTS5 index takes large writes as they come: nothing to do there.
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0003_testimony_words")]

    operations = [migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_DROP))]

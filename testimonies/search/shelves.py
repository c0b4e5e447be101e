"""Shelves: large writes to the PostgreSQL search index, taken in bulk.

A text index with ``fastupdate`` off takes its entries one at a time: right
for a curator's edits, slow for an import of a thousand testimonies. Such a
write goes onto a *shelf* instead: a table of its own that inherits from
``search_segment`` (and one from ``search_words``), filled while it has no
index, then given every index and key of its parent, each built in bulk.

A shelf is made in the writer's transaction. Until that commits, no other
session sees it, and searches answer from the index as it was; if it fails,
the shelf goes with it. Adding a child to a table takes a SHARE UPDATE
EXCLUSIVE lock on it, which neither reads nor row writes wait for.

Searches read a parent and its shelves together, as PostgreSQL reads any table
with the tables that inherit from it, and every write of the services
(``DELETE``, ``INSERT`` into the parent) reaches them the same way. Past
``MAX_SHELVES``, the shelves of a table are folded into one, once the writer
has committed.
"""

import re

from django.db import connection, transaction

# The tables of the index that take shelves, each with the indexes and keys
# its migrations gave it.
TABLES = ("search_segment", "search_words")
# A write of at least this many segments goes onto a shelf.
SHELF_SEGMENTS = 5_000
# More shelves than this per table, and they are folded into one.
MAX_SHELVES = 8

_INDEX_RE = re.compile(
    r"^CREATE (?P<unique>UNIQUE )?INDEX (?P<name>\S+)"
    r" ON (?P<table>\S+) (?P<rest>USING .*)$"
)


def shelves(cursor, parent: str) -> list[str]:
    """The shelves of ``parent``, oldest first."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass ORDER BY c.oid",
        [parent],
    )
    return [row[0] for row in cursor.fetchall()]


def new_shelf(cursor, parent: str, select: str, params: list) -> str:
    """A new shelf of ``parent`` holding the rows of ``select`` (which names
    the parent's columns), with the parent's storage and none of its indexes
    yet (see ``dress``).

    The rows are written by ``CREATE TABLE ... AS``, which fills a new table
    in bulk (several times faster than ``INSERT ... SELECT``), and the table
    then joins its parent.
    """
    cursor.execute("SELECT nextval('search_shelf_number')")
    name = f"{parent}_shelf_{cursor.fetchone()[0]}"
    cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [parent])
    options = cursor.fetchone()[0]
    storage = f" WITH ({', '.join(options)})" if options else ""
    cursor.execute(f"CREATE TABLE {name}{storage} AS {select}", params)
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass"
        " AND attnum > 0 AND NOT attisdropped AND attnotnull ORDER BY attnum",
        [parent],
    )
    if required := [row[0] for row in cursor.fetchall()]:
        cursor.execute(
            f"ALTER TABLE {name} "
            + ", ".join(f"ALTER COLUMN {column} SET NOT NULL" for column in required)
        )
    cursor.execute(f"ALTER TABLE {name} INHERIT {parent}")
    return name


def columns(cursor, parent: str) -> list[str]:
    """The columns of ``parent``, in order."""
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass"
        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [parent],
    )
    return [row[0] for row in cursor.fetchall()]


def dress(cursor, parent: str, shelf: str) -> None:
    """Give ``shelf`` every index, primary key and foreign key of ``parent``,
    each built in bulk over the rows it now holds, and its statistics."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid), conindid FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('p', 'f')"
        " ORDER BY contype DESC",
        [parent],
    )
    constraints = cursor.fetchall()
    backing = {conindid for _name, _definition, conindid in constraints}
    cursor.execute(
        "SELECT pg_get_indexdef(indexrelid), indexrelid FROM pg_index"
        " WHERE indrelid = %s::regclass ORDER BY indexrelid",
        [parent],
    )
    for definition, oid in cursor.fetchall():
        if oid in backing:
            continue
        parts = _INDEX_RE.match(definition)
        if parts is None:
            raise RuntimeError(f"unexpected index definition: {definition}")
        name = parts["name"].removeprefix(parent)
        cursor.execute(
            f"CREATE {parts['unique'] or ''}INDEX {shelf}{name} ON {shelf} "
            f"{parts['rest']}"
        )
    for name, definition, _index in constraints:
        cursor.execute(
            f"ALTER TABLE {shelf} ADD CONSTRAINT {shelf}{name.removeprefix(parent)}"
            f" {definition}"
        )
    cursor.execute(f"ANALYZE {shelf}")


def fold_later() -> None:
    """Once the current transaction commits, fold the shelves if there are too
    many (in a transaction of their own)."""
    transaction.on_commit(fold)


def fold() -> None:
    """Fold each table's shelves into one where there are more than
    ``MAX_SHELVES``, and drop the empty ones."""
    with transaction.atomic(), connection.cursor() as cursor:
        for parent in TABLES:
            held = shelves(cursor, parent)
            if len(held) <= MAX_SHELVES:
                continue
            names = ", ".join(columns(cursor, parent))
            into = new_shelf(
                cursor,
                parent,
                " UNION ALL ".join(f"SELECT {names} FROM ONLY {s}" for s in held),
                [],
            )
            dress(cursor, parent, into)
            # Last, so that searches wait on these locks only until the commit.
            for shelf in held:
                cursor.execute(f"DROP TABLE {shelf}")


def drop_all(cursor) -> None:
    """Drop every shelf (their rows are gone or about to be written again)."""
    for parent in TABLES:
        for shelf in shelves(cursor, parent):
            cursor.execute(f"DROP TABLE {shelf}")

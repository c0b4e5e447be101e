"""Stored files that follow the transaction of the rows they were written for.

Files are not transactional: one written for rows that are then rolled back
would stay behind, unreferenced, and Django runs no hook on rollback. A file's
commit callback tells what became of its rows (see
``stored_files_follow_the_transaction``).
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction


class _KeptIfCommitted:
    """A stored file waiting on the transaction it was written for."""

    def __init__(self, storage, name: str) -> None:
        self.storage = storage
        self.name = name
        self.committed = False

    def __call__(self) -> None:
        self.committed = True


_WATCHED: ContextVar[list[_KeptIfCommitted] | None] = ContextVar(
    "files_watched", default=None
)


def discard_unless_committed(storage, name: str) -> None:
    """Have the stored file ``name`` deleted if its transaction rolls back,
    where a caller watches (``stored_files_follow_the_transaction``)."""
    kept = _KeptIfCommitted(storage, name)
    transaction.on_commit(kept)
    watched = _WATCHED.get()
    if watched is not None:
        watched.append(kept)


@contextmanager
def stored_files_follow_the_transaction():
    """Around a unit of work that writes files for rows (an admin page): at its
    end, a file whose rows were rolled back is deleted.

    Files are not transactional and Django runs no hook on rollback. A file's
    commit callback tells: run, the rows were committed; still waiting, an
    outer transaction decides later (the file stays); dropped unrun, the
    rows were rolled back.
    """
    watched: list[_KeptIfCommitted] = []
    token = _WATCHED.set(watched)
    try:
        yield
    finally:
        _WATCHED.reset(token)
        waiting = {id(callback) for _ids, callback, _robust in connection.run_on_commit}
        for kept in watched:
            if not kept.committed and id(kept) not in waiting:
                kept.storage.delete(kept.name)

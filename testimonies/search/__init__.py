"""The archive's search: one interface, a backend per database engine.

    results = search(query, Testimony.objects.visible_to(user), filters, page)

The queryset must already be limited by ``visible_to``: search never widens
it. The index holds public text only, and the services keep it exact in the
same transaction as every change (``index_testimonies`` and friends).
"""

from typing import TYPE_CHECKING

from django.db import connection

if TYPE_CHECKING:
    from .base import SearchBackend, SearchResults
    from .facets import Filters
    from .query import Query

# The app's package is imported before Django's models are ready: the names
# that need models are loaded on first use.
_LAZY = {
    "DECLARED_FACETS": "facets",
    "FACETS": "facets",
    "Facet": "facets",
    "FacetValue": "facets",
    "Filters": "facets",
    "PAGE_SIZE": "base",
    "TOTAL_CAP": "base",
    "SearchBackend": "base",
    "SearchResults": "base",
    "SegmentHit": "base",
    "Snippet": "base",
    "TestimonyHit": "base",
    "Query": "query",
    "parse": "query",
}

__all__ = [
    *_LAZY,
    "get_backend",
    "index_metadata",
    "index_segments",
    "index_testimonies",
    "remove_testimonies",
    "search",
    "sync_testimonies",
]


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_backend() -> "SearchBackend":
    """The backend for the default database's engine."""
    if connection.vendor == "postgresql":
        from .postgres import PostgresSearchBackend

        return PostgresSearchBackend()
    if connection.vendor == "sqlite":
        from .sqlite import SqliteSearchBackend

        return SqliteSearchBackend()
    raise NotImplementedError(f"no search backend for {connection.vendor}")


def search(
    query: "str | Query | None",
    testimonies,
    filters: "Filters | None" = None,
    page: int = 1,
    page_size: int = 20,
) -> "SearchResults":
    """Search the testimonies of a queryset already limited by ``visible_to``."""
    return get_backend().search(query, testimonies, filters, page, page_size)


def index_testimonies(testimony_ids) -> None:
    """Rewrite these testimonies' entries, or remove those the index keeps no more."""
    get_backend().index_testimonies(testimony_ids)


def sync_testimonies(testimony_ids) -> None:
    """Add or remove these testimonies where consent, status or requests changed."""
    get_backend().sync_testimonies(testimony_ids)


def index_segments(segment_ids) -> None:
    """Rewrite these segments' entries from their public text."""
    get_backend().index_segments(segment_ids)


def index_metadata(testimony_ids) -> None:
    """Rewrite these testimonies' metadata entries (title, names, themes, place)."""
    get_backend().index_metadata(testimony_ids)


def remove_testimonies(testimony_ids) -> None:
    """Remove every entry of these testimonies."""
    get_backend().remove_testimonies(testimony_ids)

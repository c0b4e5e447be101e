"""Measurements apart from the archive: a development app, never in production.

The synthetic corpus (``corpus``, its word tables in ``words``), the search
benchmark (``search``) and their commands, ``seed_corpus`` and
``benchmark_search``. The settings install the app in development
(``DJANGO_DEBUG``) or where ``ARCHIVE_BENCHMARKS`` asks for it; the import
benchmark, ``import_speed.py``, is a script of its own.
"""

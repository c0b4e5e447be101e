"""The search index's tables, as Django knows them.

Each engine lays the tables out its own way (see the migration): a table with a
``tsvector`` on PostgreSQL, an FTS5 virtual table on SQLite. Django knows only
their names, so that flushing a database empties them with the rest; they are
read and written by the backends alone, never through these models.
"""

from django.db import models


class SegmentEntry(models.Model):
    segment = models.OneToOneField(
        "testimonies.Segment",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        db_table = "search_segment"
        default_permissions = ()

    def __str__(self) -> str:
        return f"search entry of segment {self.pk}"


class TestimonyEntry(models.Model):
    testimony = models.OneToOneField(
        "testimonies.Testimony",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        db_table = "search_testimony"
        default_permissions = ()

    def __str__(self) -> str:
        return f"search entry of testimony {self.pk}"


class WordsEntry(models.Model):
    """Every term of a testimony's indexed segments, once (PostgreSQL only): it
    tells at little cost which testimonies hold a word somewhere."""

    testimony = models.OneToOneField(
        "testimonies.Testimony",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        db_table = "search_words"
        default_permissions = ()

    def __str__(self) -> str:
        return f"search words of testimony {self.pk}"

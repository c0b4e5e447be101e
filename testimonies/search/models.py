"""The search index's tables, as Django knows them.

Each engine lays the tables out its own way (see the migrations): tables with a
``tsvector`` on PostgreSQL, FTS5 virtual tables on SQLite. Django knows only
their names, so that flushing a database empties them with the rest; they are
read and written by the backends alone, never through these models.
"""

from django.db import models


def _entry_of(model: str) -> models.OneToOneField:
    """The key of an entry: the row it indexes, which the backends keep in step."""
    return models.OneToOneField(
        model,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )


class SegmentEntry(models.Model):
    segment = _entry_of("testimonies.Segment")

    class Meta:
        db_table = "search_segment"
        default_permissions = ()

    def __str__(self) -> str:
        return f"search entry of segment {self.pk}"


class TestimonyEntry(models.Model):
    testimony = _entry_of("testimonies.Testimony")

    class Meta:
        db_table = "search_testimony"
        default_permissions = ()

    def __str__(self) -> str:
        return f"search entry of testimony {self.pk}"


class WordsEntry(models.Model):
    """Every term of a testimony's indexed segments, once (PostgreSQL only): it
    tells at little cost which testimonies hold a word somewhere."""

    testimony = _entry_of("testimonies.Testimony")

    class Meta:
        db_table = "search_words"
        default_permissions = ()

    def __str__(self) -> str:
        return f"search words of testimony {self.pk}"

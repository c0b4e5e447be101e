"""The search's facets, each declared once: its name, label, filter and count.

A facet is what a visitor narrows a search by and sees counted beside the
results. ``Filters``, the search form, the results page, the statement that
counts the facets on both engines and the labels of the values counted all
read ``DECLARED_FACETS``: adding a facet is adding its declaration here (and,
where neither ``ByValue`` nor ``ByRelated`` can count it, the one SQL part that
does: the statement is the same on both engines).
"""

import functools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, make_dataclass
from typing import Any

from django.db import connection
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.expressions import Expression, RawSQL
from django.db.models.functions import ExtractYear
from django.utils.translation import get_language, get_language_info, gettext_lazy
from django.utils.translation import gettext as _

from ..models import Appearance, Episode, Narrator, Testimony
from ..querysets import offers_media_q


def media_available_q() -> Q:
    """A testimony offers media to those who see it: the archive's media rule."""
    return offers_media_q()


@dataclass(frozen=True)
class FacetValue:
    value: str | int | bool
    label: str
    count: int


# --- How a facet is counted -----------------------------------------------------
#
# The facets of the testimonies matched are counted in one statement (see
# ``facet_statement``): each testimony's own values are read once into ``base``,
# and each facet adds its rows of (facet, value, name_fr, name_en, n) to it.


@dataclass(frozen=True)
class ByValue:
    """Counted by a value each testimony has: its testimonies per value."""

    # The value, as an expression over a testimony (built when the statement is).
    value: Callable[[], Expression]

    def column(self, name: str) -> dict[str, Expression]:
        """What ``base`` holds of each testimony for this facet."""
        return {f"facet_{name}": self.value()}

    def rows(self, name: str) -> str:
        """The facet's counts, one row per value."""
        column = f"b.{connection.ops.quote_name(f'facet_{name}')}"
        return (
            f"SELECT '{name}' AS facet, CAST({column} AS TEXT) AS value,"
            " '' AS name_fr, '' AS name_en, count(*) AS n FROM base b GROUP BY 2"
        )


@dataclass(frozen=True)
class Link:
    """The rows that link a testimony (or its narrator) to the rows counted."""

    table: str  # quoted
    own: str  # its column of the testimony's (or the narrator's) id, quoted
    related: str  # its column of the related row's id, quoted
    related_table: str  # quoted


def many_to_many(model, name: str) -> Callable[[], Link]:
    """The link of a many-to-many field: its through table."""

    def link() -> Link:
        q = connection.ops.quote_name
        relation = model._meta.get_field(name)
        return Link(
            q(relation.remote_field.through._meta.db_table),
            q(relation.m2m_column_name()),
            q(relation.m2m_reverse_name()),
            q(relation.related_model._meta.db_table),
        )

    return link


def rows_of(model, own: str, related: str) -> Callable[[], Link]:
    """The link of a model whose rows hold two foreign keys (``own``, ``related``)."""

    def link() -> Link:
        q = connection.ops.quote_name
        target = model._meta.get_field(related).related_model
        return Link(
            q(model._meta.db_table),
            q(model._meta.get_field(own).column),
            q(model._meta.get_field(related).column),
            q(target._meta.db_table),
        )

    return link


@dataclass(frozen=True)
class ByRelated:
    """Counted by the related rows (job types, themes, ...) each testimony is
    linked to: the testimonies linked to each row, named after counting."""

    # The testimony's column the link starts from ("pk" or a foreign key).
    key: str
    link: Callable[[], Link]
    # The value and the two names, in SQL over the related row ``r``.
    value: str = "r.slug"
    names: tuple[str, str] = ("r.name_fr", "r.name_en")
    # More joins, where the value needs them (SQL after the related row's).
    joins: Callable[[], str] | None = None

    def column(self, name: str) -> dict[str, Expression]:
        # The testimony's own id is in ``base`` already.
        return {} if self.key == "pk" else {f"facet_{name}": F(self.key)}

    def rows(self, name: str) -> str:
        """The facet's counts, one row per related row.

        Counted by the related row's id, which alone is narrow to sort; its
        slug and names are joined to the few counts after. DISTINCT: a
        testimony may be linked to one row more than once (an episode it
        appears in twice)."""
        q = connection.ops.quote_name
        pk = f"b.{q('pk')}"
        key = pk if self.key == "pk" else f"b.{q(f'facet_{name}')}"
        link = self.link()
        name_fr, name_en = self.names
        return (
            f"SELECT '{name}' AS facet, {self.value} AS value, {name_fr} AS name_fr,"
            f" {name_en} AS name_en, c.n AS n FROM ("
            f"SELECT l.related AS id, count(DISTINCT {pk}) AS n FROM base b"
            f" JOIN (SELECT {link.own} AS own, {link.related} AS related"
            f" FROM {link.table}) AS l ON l.own = {key} GROUP BY 1) AS c"
            f" JOIN {link.related_table} r ON r.id = c.id"
            + (self.joins() if self.joins else "")
        )


def _series_of_episode() -> str:
    """The series ``se`` of the episode ``r``, whose slug an episode's value holds."""
    q = connection.ops.quote_name
    series = Episode._meta.get_field("series")
    return (
        f" JOIN {q(series.related_model._meta.db_table)} se"
        f" ON se.id = r.{q(series.column)}"
    )


# --- How a facet narrows a search -------------------------------------------------


def _by_job_type(testimonies: QuerySet, slugs: tuple[str, ...]) -> QuerySet:
    narrators = Narrator.objects.filter(job_types__slug__in=slugs)
    return testimonies.filter(narrator__in=narrators.values("pk"))


def _by_theme(testimonies: QuerySet, slugs: tuple[str, ...]) -> QuerySet:
    themed = Testimony.themes.through.objects.filter(theme__slug__in=slugs)
    return testimonies.filter(pk__in=themed.values("testimony_id"))


def _by_episode(testimonies: QuerySet, pairs: tuple[str, ...]) -> QuerySet:
    wanted = Q(pk__in=[])
    for pair in pairs:
        series, _sep, episode = pair.partition("/")
        wanted |= Q(episode__series__slug=series, episode__slug=episode)
    seen = Appearance.objects.filter(wanted)
    return testimonies.filter(pk__in=seen.values("testimony_id"))


def _by_country(testimonies: QuerySet, codes: tuple[str, ...]) -> QuerySet:
    return testimonies.filter(narrator__country__in=codes)


def _by_language(testimonies: QuerySet, codes: tuple[str, ...]) -> QuerySet:
    return testimonies.filter(language__in=codes)


def _by_decade(testimonies: QuerySet, decades: tuple[int, ...]) -> QuerySet:
    years = Q(pk__in=[])
    for decade in decades:
        years |= Q(recorded_on__year__gte=decade, recorded_on__year__lt=decade + 10)
    return testimonies.filter(years)


def _by_media(testimonies: QuerySet, wanted: bool) -> QuerySet:
    # Through the ids: negating the condition itself would also drop the
    # testimonies whose consent in force is unknown (NULL).
    available = Testimony.objects.filter(media_available_q()).values("pk")
    narrow = testimonies.filter if wanted else testimonies.exclude
    return narrow(pk__in=available)


# --- How a facet is read from the search page's address ------------------------------


def _values(given: list[str]) -> tuple[str, ...]:
    return tuple(given)


def _decades(given: list[str]) -> tuple[int, ...]:
    # isdecimal: exactly the digits int() reads (isdigit also takes "²").
    return tuple(int(value) for value in given if value.isdecimal())


# --- How a counted value is read and named ------------------------------------------


def _named(value: str, name_fr: str, name_en: str) -> str:
    """The related row's name in the active language, else the other one."""
    names = {"fr": name_fr, "en": name_en}
    return names.get((get_language() or "fr")[:2]) or name_fr or name_en or value


def _as_given(value: str, name_fr: str, name_en: str) -> str:
    return value


def _language_label(code: str, name_fr: str, name_en: str) -> str:
    try:
        return get_language_info(code)["name_local"]
    except KeyError:
        return code


def _decade(year: str) -> int:
    return int(year) // 10 * 10


def _decade_label(decade: int, name_fr: str, name_en: str) -> str:
    return _("%(decade)ss") % {"decade": decade}


def _with_media(value: str) -> bool:
    return value == "with"


def _media_label(with_media: bool, name_fr: str, name_en: str) -> str:
    return _("with media") if with_media else _("without media")


def _media_released() -> Expression:
    return Case(When(media_available_q(), then=Value("with")), default=Value("without"))


# --- The facets ------------------------------------------------------------------


@dataclass(frozen=True)
class Facet:
    """One facet of the search: how it is named, chosen, narrowed and counted."""

    # The filter's keyword (``Filters``) and the key of its counts.
    name: str
    label: str  # translatable: the heading of its values
    narrow: Callable[[QuerySet, Any], QuerySet]  # by the values chosen
    counted: ByValue | ByRelated
    # The search page's GET parameter, and how its values read (None: the page
    # offers no such filter).
    parameter: str | None = None
    parse: Callable[[list[str]], Any] = _values
    # What is chosen when nothing is: no value, or (a yes-or-no facet) None.
    nothing: Any = ()
    # A value counted (as text) as the filter takes it, and its label.
    read: Callable[[str], Any] = str
    value_label: Callable[[Any, str, str], str] = _as_given


DECLARED_FACETS: tuple[Facet, ...] = (
    Facet(
        "job_type",
        gettext_lazy("Job"),
        _by_job_type,
        ByRelated("narrator_id", many_to_many(Narrator, "job_types")),
        parameter="job_type",
        value_label=_named,
    ),
    Facet(
        "theme",
        gettext_lazy("Theme"),
        _by_theme,
        ByRelated("pk", many_to_many(Testimony, "themes")),
        parameter="theme",
        value_label=_named,
    ),
    Facet(
        "episode",
        gettext_lazy("Episode"),
        _by_episode,  # "series-slug/episode-slug"
        ByRelated(
            "pk",
            rows_of(Appearance, "testimony", "episode"),
            value="se.slug || '/' || r.slug",
            names=("r.title", "r.title"),
            joins=_series_of_episode,
        ),
        parameter="episode",
        value_label=_named,
    ),
    Facet(
        "country",
        gettext_lazy("Country"),
        _by_country,
        ByValue(lambda: F("narrator__country")),
        parameter="country",
    ),
    Facet(
        "language",
        gettext_lazy("Language"),
        _by_language,
        ByValue(lambda: F("language")),
        parameter="language",
        value_label=_language_label,
    ),
    Facet(
        "decade",
        gettext_lazy("Recorded in"),
        _by_decade,
        ByValue(lambda: ExtractYear("recorded_on")),
        parameter="decade",
        parse=_decades,
        read=_decade,
        value_label=_decade_label,
    ),
    Facet(
        "media",
        gettext_lazy("Media"),
        _by_media,
        ByValue(_media_released),
        nothing=None,
        read=_with_media,
        value_label=_media_label,
    ),
)
# The facets' names, in the order they are shown.
FACETS = tuple(facet.name for facet in DECLARED_FACETS)
BY_NAME = {facet.name: facet for facet in DECLARED_FACETS}


def _apply(self, testimonies: QuerySet) -> QuerySet:
    """Narrow a queryset of testimonies; every facet through a subquery."""
    for facet in DECLARED_FACETS:
        chosen = getattr(self, facet.name)
        # Nothing chosen is () or None; False (without media) is a choice.
        if chosen or chosen is False:
            testimonies = facet.narrow(testimonies, chosen)
    return testimonies


# One field per facet, named after it: Filters(job_type=("courier",), media=True).
Filters = make_dataclass(
    "Filters",
    [(facet.name, Any, field(default=facet.nothing)) for facet in DECLARED_FACETS],
    namespace={
        "__doc__": "Narrowing of a search; values within one facet are alternatives.",
        "apply": _apply,
    },
    frozen=True,
)
Filters.__module__ = __name__


# --- Counting -------------------------------------------------------------------

# Stands for the ids in the facet statement's parameters until it runs.
IDS = object()


@functools.cache
def facet_statement(ids_sql: str) -> tuple[str, tuple]:
    """The statement that counts every facet of the testimonies ``ids_sql`` lists.

    One statement, so a few dozen rows come back however many testimonies
    match. What each facet reads of a testimony (its values, the consent rule
    of media from the ORM) is read once into ``base``; each facet's rows
    are counted from there. Built once per ``ids_sql``.
    """
    ids = RawSQL(ids_sql, [IDS] if "%s" in ids_sql else [])
    columns = {}
    for facet in DECLARED_FACETS:
        columns.update(facet.counted.column(facet.name))
    base = (
        Testimony.objects.filter(pk__in=ids)
        .order_by()
        .annotate(**columns)
        .values("pk", *columns)
    )
    base_sql, base_params = base.query.sql_with_params()
    parts = [facet.counted.rows(facet.name) for facet in DECLARED_FACETS]
    statement = f"WITH base AS ({base_sql}) " + " UNION ALL ".join(parts)
    return statement, tuple(base_params)


def facet_values(rows: Iterable[tuple]) -> dict[str, list[FacetValue]]:
    """Facet values from (facet, value, name_fr, name_en, count) rows."""
    found: dict[str, Counter] = {name: Counter() for name in FACETS}
    labels: dict[tuple[str, object], str] = {}
    for name, counted, name_fr, name_en, count in rows:
        if counted in (None, "", "/"):
            continue
        facet = BY_NAME[name]
        value = facet.read(counted)
        labels[name, value] = facet.value_label(value, name_fr, name_en)
        found[name][value] += count
    return {
        name: sorted(
            (
                FacetValue(value, labels[name, value], count)
                for value, count in found[name].items()
                if count
            ),
            key=lambda v: (-v.count, str(v.value)),
        )
        for name in FACETS
    }

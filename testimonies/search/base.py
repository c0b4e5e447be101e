"""What every search backend shares: the results' shape, filters, facets, order.

A backend only finds and ranks segments and testimonies in its engine, and
writes its index; which testimonies may be seen comes from the queryset the
caller passes, already limited by ``visible_to``.
"""

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Concat, ExtractYear
from django.db.models.lookups import In
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _

from ..models import Appearance, Narrator, Segment, Testimony
from ..querysets import in_force
from .query import Query, parse

PAGE_SIZE = 20
# Totals are exact up to here; beyond it, the archive says "10,000+".
TOTAL_CAP = 10_000
SEGMENTS_PER_HIT = 3
# Marks around matched words in snippets: private-use characters, which the
# engines pass through and public text has no reason to hold.
MARK_OPEN = "\ue000"
MARK_CLOSE = "\ue001"
FACETS = ("job_type", "theme", "episode", "country", "language", "decade", "media")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Snippet:
    """Public text around the matched words, which are marked."""

    raw: str

    def html(self) -> SafeString:
        """Escaped text, the matched words in <mark>; the tags always balance."""
        parts, marked = [], False
        for piece in re.split(f"([{MARK_OPEN}{MARK_CLOSE}])", self.raw):
            if piece == MARK_OPEN:
                if not marked:
                    parts.append("<mark>")
                marked = True
            elif piece == MARK_CLOSE:
                if marked:
                    parts.append("</mark>")
                marked = False
            else:
                parts.append(escape(piece))
        if marked:
            parts.append("</mark>")
        return mark_safe("".join(parts))

    def text(self, open_mark: str = "[", close_mark: str = "]") -> str:
        return self.raw.replace(MARK_OPEN, open_mark).replace(MARK_CLOSE, close_mark)

    def marked(self) -> list[str]:
        """The marked words, in order."""
        words, rest = [], self.raw
        while MARK_OPEN in rest:
            rest = rest.split(MARK_OPEN, 1)[1]
            word, _, rest = rest.partition(MARK_CLOSE)
            words.append(word)
        return words

    def __html__(self) -> str:
        return self.html()

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class SegmentHit:
    segment_id: int
    position: int
    start: float
    speaker: str
    snippet: Snippet

    @property
    def speaker_label(self) -> str:
        return Segment.Speaker(self.speaker).label


@dataclass(frozen=True)
class TestimonyHit:
    testimony: Testimony
    score: float
    segments: list[SegmentHit]


@dataclass(frozen=True)
class FacetValue:
    value: str | int | bool
    label: str
    count: int


@dataclass(frozen=True)
class Filters:
    """Narrowing of a search; values within one facet are alternatives."""

    job_type: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    episode: tuple[str, ...] = ()  # "series-slug/episode-slug"
    country: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    decade: tuple[int, ...] = ()
    media: bool | None = None

    def apply(self, testimonies: QuerySet) -> QuerySet:
        """Narrow a queryset of testimonies; every facet through a subquery."""
        if self.job_type:
            narrators = Narrator.objects.filter(job_types__slug__in=self.job_type)
            testimonies = testimonies.filter(narrator__in=narrators.values("pk"))
        if self.theme:
            themed = Testimony.themes.through.objects.filter(theme__slug__in=self.theme)
            testimonies = testimonies.filter(pk__in=themed.values("testimony_id"))
        if self.episode:
            wanted = Q(pk__in=[])
            for pair in self.episode:
                series, _, episode = pair.partition("/")
                wanted |= Q(episode__series__slug=series, episode__slug=episode)
            seen = Appearance.objects.filter(wanted)
            testimonies = testimonies.filter(pk__in=seen.values("testimony_id"))
        if self.country:
            testimonies = testimonies.filter(narrator__country__in=self.country)
        if self.language:
            testimonies = testimonies.filter(language__in=self.language)
        if self.decade:
            years = Q(pk__in=[])
            for decade in self.decade:
                years |= Q(
                    recorded_on__year__gte=decade, recorded_on__year__lt=decade + 10
                )
            testimonies = testimonies.filter(years)
        if self.media is not None:
            # Through the ids: negating the condition itself would also drop the
            # testimonies whose consent in force is unknown (NULL).
            available = Testimony.objects.filter(media_available_q()).values("pk")
            narrow = testimonies.filter if self.media else testimonies.exclude
            testimonies = narrow(pk__in=available)
        return testimonies


def media_available_q() -> Q:
    """A testimony has media and its consent in force releases some of it."""
    return ~Q(media="") & Q(In(in_force("media"), ("audio_video", "audio")))


@dataclass
class SearchResults:
    query: Query
    total: int
    total_capped: bool
    page: int
    page_size: int
    hits: list[TestimonyHit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)

    @property
    def total_display(self) -> str:
        """The total as people read it: exact, or "10,000+" beyond the cap."""
        return f"{TOTAL_CAP:,}+" if self.total_capped else f"{self.total:,}"

    @property
    def total_json(self) -> int | str:
        return f"{TOTAL_CAP}+" if self.total_capped else self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def recency_order() -> list:
    """The order of a listing without words: most recently published first."""
    return [F("published_at").desc(nulls_last=True), F("pk").desc()]


class SearchBackend:
    """One engine's index and queries; subclassed per database vendor."""

    vendor = ""

    # --- writing the index --------------------------------------------------

    def index_testimonies(self, testimony_ids: Iterable[int]) -> None:
        """(Re)write the entries of these testimonies, or remove them where the
        index keeps no text for them (see ``searchable``)."""
        ids = sorted(set(testimony_ids))
        if not ids:
            return
        self.remove_testimonies(ids)
        kept = list(
            Testimony.objects.searchable()
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        if kept:
            self._write_metadata(metadata_documents(kept))
            self._write_segments(kept)

    def sync_testimonies(self, testimony_ids: Iterable[int]) -> None:
        """Add or remove these testimonies where what the index keeps of them
        has changed (consent, status, requests); their text is unchanged."""
        self._sync(testimony_ids)

    def _sync(self, testimony_ids: Iterable[int]) -> list[int]:
        """Add and remove as ``sync_testimonies``; returns the ids that were
        held and still are."""
        ids = sorted(set(testimony_ids))
        if not ids:
            return []
        kept = set(
            Testimony.objects.searchable()
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        present = self._present(ids)
        if gone := sorted(present - kept):
            self.remove_testimonies(gone)
        if new := sorted(kept - present):
            self.index_testimonies(new)
        return sorted(kept & present)

    def _present(self, testimony_ids: list[int]) -> set[int]:
        """Which of these testimonies the index holds (each has a metadata entry)."""
        raise NotImplementedError

    def index_segments(self, segment_ids: Iterable[int]) -> None:
        """Rewrite the entries of these segments from their public text."""
        ids = sorted(set(segment_ids))
        if not ids:
            return
        self._remove_segments(ids)
        owners = dict(Segment.objects.filter(pk__in=ids).values_list("pk", "testimony"))
        kept = set(
            Testimony.objects.searchable()
            .filter(pk__in=set(owners.values()))
            .values_list("pk", flat=True)
        )
        present = self._present(sorted(kept))
        # A testimony the index does not hold yet is written whole.
        if new := sorted(kept - present):
            self.index_testimonies(new)
        if rows := [pk for pk, owner in owners.items() if owner in present]:
            self._write_segment_rows(sorted(rows))

    def index_metadata(self, testimony_ids: Iterable[int]) -> None:
        """Rewrite the testimony-level entries (title, names, themes, place) of
        testimonies whose segments are unchanged."""
        if changed := self._sync(testimony_ids):
            self._remove_metadata(changed)
            self._write_metadata(metadata_documents(changed))

    def remove_testimonies(self, testimony_ids: Iterable[int]) -> None:
        raise NotImplementedError

    def rebuild(self, progress: Progress | None = None, batch: int = 50) -> int:
        """Empty the index and write it again from public text; returns the
        number of segments indexed."""
        self._clear()
        ids = list(
            Testimony.objects.searchable().order_by("pk").values_list("pk", flat=True)
        )
        for offset in range(0, len(ids), batch):
            chunk = ids[offset : offset + batch]
            self._write_metadata(metadata_documents(chunk))
            self._write_segments(chunk)
            if progress:
                progress(len(chunk))
        self.refresh_statistics()
        return self.count_segments()

    def refresh_statistics(self) -> None:
        """Let the engine's planner learn the index's new shape after a bulk write."""

    def _write_metadata(self, documents: list["MetadataDocument"]) -> None:
        raise NotImplementedError

    def _write_segments(self, testimony_ids: list[int]) -> None:
        raise NotImplementedError

    def _write_segment_rows(self, segment_ids: list[int]) -> None:
        raise NotImplementedError

    def _remove_segments(self, segment_ids: list[int]) -> None:
        raise NotImplementedError

    def _remove_metadata(self, testimony_ids: list[int]) -> None:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError

    def count_segments(self) -> int:
        raise NotImplementedError

    def entries(self) -> dict:
        """What the index holds, comparable with ``expected_entries``."""
        raise NotImplementedError

    def expected_entries(self) -> dict:
        """What the index should hold, computed afresh from public text."""
        raise NotImplementedError

    def analyse(self, text: str, language: str) -> list[str]:
        """The terms this engine indexes for ``text`` in ``language`` (stop words
        give none), in order of first appearance."""
        raise NotImplementedError

    # --- searching ----------------------------------------------------------

    def search(
        self,
        query: str | Query | None,
        testimonies: QuerySet,
        filters: Filters | None = None,
        page: int = 1,
        page_size: int = PAGE_SIZE,
        facets: bool = True,
    ) -> SearchResults:
        """Search within ``testimonies`` (already limited by ``visible_to``)."""
        parsed = query if isinstance(query, Query) else parse(query)
        page = max(1, int(page))
        scope = (filters or Filters()).apply(testimonies).order_by()
        counted = None
        if parsed.finds_nothing:
            ranked: list[Ranked] = []
        elif parsed.is_empty:
            ranked = [
                Ranked(pk, 0.0)
                for pk in scope.order_by(*recency_order()).values_list("pk", flat=True)
            ]
        else:
            ranked, counted = self._rank_and_count(parsed, scope, facets)
        if facets and counted is None:
            counted = self.facet_counts([r.pk for r in ranked])
        offset = (page - 1) * page_size
        shown = ranked[offset : offset + page_size]
        return SearchResults(
            query=parsed,
            total=min(len(ranked), TOTAL_CAP),
            total_capped=len(ranked) > TOTAL_CAP,
            page=page,
            page_size=page_size,
            hits=self._hits(parsed, shown),
            facets=counted or {},
        )

    def _rank(self, query: Query, scope: QuerySet) -> list["Ranked"]:
        """Every matching testimony in ``scope``, best first, with its score."""
        raise NotImplementedError

    def _rank_and_count(
        self, query: Query, scope: QuerySet, facets: bool
    ) -> tuple[list["Ranked"], dict[str, list[FacetValue]] | None]:
        """Rank, and count the facets where the engine does both at once."""
        return self._rank(query, scope), None

    def _best_segments(
        self, query: Query, shown: list["Ranked"]
    ) -> dict[int, list[SegmentHit]]:
        """For each testimony shown, its best matching segments with snippets."""
        raise NotImplementedError

    # A subquery listing ids given as one parameter, whatever their number.
    ids_sql = ""

    def ids_param(self, ids: list[int]):
        """The parameter ``ids_sql`` reads the ids from."""
        raise NotImplementedError

    def facet_counts(self, testimony_ids: list[int]) -> dict[str, list[FacetValue]]:
        """How many of these testimonies have each facet value."""
        if not testimony_ids:
            return facet_values([])
        statement, params = facet_statement(self.ids_sql)
        value = self.ids_param(testimony_ids)
        with connection.cursor() as cursor:
            cursor.execute(statement, [value if p is _IDS else p for p in params])
            return facet_values(cursor.fetchall())

    def _hits(self, query: Query, shown: list["Ranked"]) -> list[TestimonyHit]:
        if not shown:
            return []
        found = (
            Testimony.objects.select_related("narrator")
            # Identities are never needed here: not even decrypted.
            .defer(*(f"narrator__{name}" for name in Narrator.PRIVATE_FIELDS))
            .in_bulk([r.pk for r in shown])
        )
        segments = self._best_segments(query, shown) if not query.is_empty else {}
        return [
            TestimonyHit(found[r.pk], r.score, segments.get(r.pk, []))
            for r in shown
            if r.pk in found
        ]


class Ranked(NamedTuple):
    """A matching testimony, its score, and (where the engine knows them) the
    ids of its best segments, best first."""

    pk: int
    score: float
    segments: tuple[int, ...] = ()


# --- What the index holds of a testimony ---------------------------------------


@dataclass(frozen=True)
class MetadataDocument:
    """A testimony's public metadata, weighted A (most) to D (least)."""

    testimony_id: int
    language: str
    title: str
    summary: str
    people: str  # public name, job types, themes
    place: str


def metadata_documents(testimony_ids: Sequence[int]) -> list[MetadataDocument]:
    """The public metadata the index holds for these testimonies."""
    testimonies = (
        Testimony.objects.filter(pk__in=testimony_ids)
        .select_related("narrator")
        .prefetch_related("themes", "narrator__job_types")
        .order_by("pk")
    )
    documents = []
    for t in testimonies:
        narrator = t.narrator
        names = []
        # An anonymous narrator's public name is an internal label: never indexed.
        if narrator.identity != Narrator.Identity.ANONYMOUS:
            names.append(narrator.public_name)
        names += [n for j in narrator.job_types.all() for n in (j.name_fr, j.name_en)]
        names += [n for th in t.themes.all() for n in (th.name_fr, th.name_en)]
        documents.append(
            MetadataDocument(
                testimony_id=t.pk,
                language=t.language,
                title=t.title,
                summary=t.summary,
                people=" ; ".join(n for n in names if n),
                place=t.place,
            )
        )
    return documents


# --- Facets -------------------------------------------------------------------


def _language_label(code: str) -> str:
    try:
        return get_language_info(code)["name_local"]
    except KeyError:
        return code


def _decade_label(decade: int) -> str:
    return _("%(decade)ss") % {"decade": decade}


# Stands for the ids in the facet statement's parameters until it runs.
_IDS = object()


@functools.cache
def facet_statement(ids_sql: str) -> tuple[str, tuple]:
    """The statement that counts every facet of the testimonies ``ids_sql`` lists.

    One statement, so a few dozen rows come back however many testimonies
    match; built by the ORM once, since building it costs more than running it.
    """
    ids = RawSQL(ids_sql, [_IDS] if "%s" in ids_sql else [])
    matched = Testimony.objects.filter(pk__in=ids).order_by()
    text = CharField()

    def counted(facet: str, value, name_fr=None, name_en=None, rows=matched):
        return (
            rows.annotate(
                facet=Value(facet, output_field=text),
                value=Cast(value, output_field=text),
                name_fr=Cast(name_fr or Value(""), output_field=text),
                name_en=Cast(name_en or Value(""), output_field=text),
            )
            .values("facet", "value", "name_fr", "name_en")
            .annotate(n=Count("pk", distinct=True))
        )

    parts = [
        counted("language", F("language")),
        counted("country", F("narrator__country")),
        counted("decade", ExtractYear("recorded_on")),
        counted(
            "job_type",
            F("narrator__job_types__slug"),
            F("narrator__job_types__name_fr"),
            F("narrator__job_types__name_en"),
        ),
        counted("theme", F("themes__slug"), F("themes__name_fr"), F("themes__name_en")),
        counted(
            "episode",
            Concat(
                F("appearances__episode__series__slug"),
                Value("/"),
                F("appearances__episode__slug"),
                output_field=text,
            ),
            F("appearances__episode__title"),
            F("appearances__episode__title"),
        ),
        counted("media", Value("all")),
        counted("media", Value("with"), rows=matched.filter(media_available_q())),
    ]
    union = parts[0].union(*parts[1:], all=True)
    statement, params = union.query.sql_with_params()
    return statement, tuple(params)


def facet_values(rows) -> dict[str, list[FacetValue]]:
    """Facet values from (facet, value, name_fr, name_en, count) rows."""
    language = (get_language() or "fr")[:2]
    found: dict[str, Counter] = {name: Counter() for name in FACETS}
    labels: dict[tuple[str, object], str] = {}
    media = {"all": 0, "with": 0}
    for facet, value, name_fr, name_en, count in rows:
        if facet == "media":
            media[value] += count
            continue
        if value in (None, "", "/"):
            continue
        if facet == "decade":
            value = int(value) // 10 * 10
            labels[facet, value] = _decade_label(value)
        elif facet == "language":
            labels[facet, value] = _language_label(value)
        elif facet == "country":
            labels[facet, value] = value
        else:
            names = {"fr": name_fr, "en": name_en}
            labels[facet, value] = names.get(language) or name_fr or name_en or value
        found[facet][value] += count
    found["media"][True] = media["with"]
    found["media"][False] = media["all"] - media["with"]
    labels["media", True] = _("with media")
    labels["media", False] = _("without media")
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

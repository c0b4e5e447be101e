"""What every search backend shares: the results' shape, the order, the facets'
counting (the facets themselves are declared in ``facets``).

A backend only finds and ranks segments and testimonies in its engine, and
writes its index; which testimonies may be seen comes from the queryset the
caller passes, already limited by ``visible_to``.
"""

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import F, Field, QuerySet
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..models import Narrator, Segment, Testimony
from .facets import (
    DECLARED_FACETS,
    IDS,
    Facet,
    FacetValue,
    Filters,
    facet_statement,
    facet_values,
)
from .query import Query, parse

PAGE_SIZE = 20
# Totals are exact up to here; beyond it, the archive says "10,000+".
TOTAL_CAP = 10_000
SEGMENTS_PER_HIT = 3
# What a hit shows of its testimony (the rest is loaded only if asked for).
# Never a narrator's identity: it is not even read.
HIT_FIELDS = (
    "slug",
    "title",
    "language",
    "place",
    "recorded_on",
    "summary",
    "narrator__identity",
    "narrator__public_name",
    "narrator__descriptor_fr",
    "narrator__descriptor_en",
)
# Marks around matched words in snippets: private-use characters, which the
# engines pass through and public text has no reason to hold.
MARK_OPEN = "\ue000"
MARK_CLOSE = "\ue001"

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
        """The total as people read it in the active language: exact, or
        "10 000+" ("10,000+" in English) beyond the cap."""
        shown = number_format(
            TOTAL_CAP if self.total_capped else self.total, force_grouping=True
        )
        return f"{shown}+" if self.total_capped else shown

    @property
    def total_json(self) -> int | str:
        return f"{TOTAL_CAP}+" if self.total_capped else self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def by_facet(self) -> list[tuple[Facet, list[FacetValue]]]:
        """Each facet declared, with its values counted here, in the order shown."""
        return [(facet, self.facets.get(facet.name, [])) for facet in DECLARED_FACETS]


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
        """Empty the index and write it again from public text, in one
        transaction (a failure leaves it as it was); returns the number of
        segments indexed."""
        with transaction.atomic():
            self._clear()
            ids = list(
                Testimony.objects.searchable()
                .order_by("pk")
                .values_list("pk", flat=True)
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
        offset = (page - 1) * page_size
        if parsed.finds_nothing:
            found = Page(0, [], {}, None)
        elif parsed.is_empty:
            found = self._listing(scope, offset, page_size)
        else:
            found = self._page(parsed, scope, offset, page_size, facets)
        if facets and found.facets is None:
            found.facets = self.facet_counts(found.matched or [])
        return SearchResults(
            query=parsed,
            total=min(found.total, TOTAL_CAP),
            total_capped=found.total > TOTAL_CAP,
            page=page,
            page_size=page_size,
            hits=self._hits(found),
            facets=found.facets or {},
        )

    def _listing(self, scope: QuerySet, offset: int, size: int) -> "Page":
        """Without words: every testimony of ``scope``, most recent first."""
        ids = list(scope.order_by(*recency_order()).values_list("pk", flat=True))
        shown = [Ranked(pk, 0.0) for pk in ids[offset : offset + size]]
        return Page(len(ids), shown, {}, None, matched=ids)

    def _page(
        self, query: Query, scope: QuerySet, offset: int, size: int, facets: bool
    ) -> "Page":
        """One page of the testimonies that match, with the total, the passages
        shown and (where the engine counts them at once) the facets; here the
        facets are left to ``search``, which counts them over ``matched``."""
        ranked = self._rank(query, scope)
        shown = ranked[offset : offset + size]
        return Page(
            len(ranked),
            shown,
            self._best_segments(query, shown),
            None,
            matched=[r.pk for r in ranked],
        )

    def _rank(self, query: Query, scope: QuerySet) -> list["Ranked"]:
        """Every matching testimony in ``scope``, best first, with its score."""
        raise NotImplementedError

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
            cursor.execute(statement, [value if p is IDS else p for p in params])
            return facet_values(cursor.fetchall())

    def _hits(self, found: "Page") -> list[TestimonyHit]:
        if not found.shown:
            return []
        testimonies = found.testimonies
        if testimonies is None:
            testimonies = {
                testimony.pk: testimony
                for testimony in Testimony.objects.select_related("narrator")
                .only(*HIT_FIELDS)
                .filter(pk__in=[r.pk for r in found.shown])
                .order_by()
            }
        return [
            TestimonyHit(testimonies[r.pk], r.score, found.segments.get(r.pk, []))
            for r in found.shown
            if r.pk in testimonies
        ]


def hit_columns() -> list[tuple[type, str, str]]:
    """What a hit loads, as (model, field attname, column of its table), the
    testimony's primary key and narrator first, then ``HIT_FIELDS``."""
    columns = [(Testimony, "id", "id"), (Testimony, "narrator_id", "narrator_id")]
    columns.append((Narrator, "id", "id"))
    for name in HIT_FIELDS:
        owner, _sep, attribute = name.rpartition("__")
        model = Narrator if owner == "narrator" else Testimony
        field = model._meta.get_field(attribute)
        columns.append((model, field.attname, field.column))
    return columns


@functools.cache
def _hit_layout() -> tuple[int, dict[type, tuple[list[str], list[tuple[int, Field]]]]]:
    """How a row of ``hit_columns`` is read: its width, and for each model a
    hit loads, its loaded attnames in the order of its concrete fields, and for
    each the row's index and the field reading it."""
    columns = hit_columns()
    layout = {}
    for model in (Testimony, Narrator):
        at = {a: i for i, (m, a, _c) in enumerate(columns) if m is model}
        names = [f.attname for f in model._meta.concrete_fields if f.attname in at]
        reads = [(at[a], model._meta.get_field(a)) for a in names]
        layout[model] = (names, reads)
    return len(columns), layout


def hits_from_rows(rows) -> dict[int, Testimony]:
    """Testimonies (with their narrators) from rows of ``hit_columns`` values,
    as JSON gives them back: each value is read by its own field."""
    width, layout = _hit_layout()
    db = connection.alias
    testimonies = {}
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a hit row has {len(row)} values, not {width}")
        loaded = {}
        for model, (names, reads) in layout.items():
            values = [
                None if row[i] is None else reader.to_python(row[i])
                for i, reader in reads
            ]
            loaded[model] = model.from_db(db, names, values)
        testimony = loaded[Testimony]
        testimony.narrator = loaded[Narrator]
        testimonies[testimony.pk] = testimony
    return testimonies


class Ranked(NamedTuple):
    """A matching testimony and its score."""

    pk: int
    score: float


@dataclass
class Page:
    """What a backend found for one page of results."""

    total: int
    shown: list[Ranked]
    segments: dict[int, list[SegmentHit]]
    facets: dict[str, list[FacetValue]] | None
    # Every matching testimony, where facets are still to be counted.
    matched: list[int] | None = None
    # The testimonies shown (``HIT_FIELDS`` loaded), where the engine read them.
    testimonies: dict[int, Testimony] | None = None


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

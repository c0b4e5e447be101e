"""What the public pages read, each from ``visible_to(user)`` and public text only.

Listings (the home page, themes, job types, episodes, narrators) are searches
without words over the visible testimonies, so that their counts and order are
the search's own, in a constant number of queries.
"""

from dataclasses import dataclass

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse

from . import search
from .media.plan import ready_rendition
from .models import (
    Appearance,
    ConsentRecord,
    Episode,
    JobType,
    Narrator,
    Rendition,
    Segment,
    Testimony,
    Theme,
)
from .querysets import media_offer_for
from .timecodes import timecode

RECENT = 6


def visible(user):
    """The testimonies ``user`` may see, with what a card shows of them."""
    return Testimony.objects.visible_to(user)


def home(user) -> dict:
    """The most recently published testimonies, and the ways in: job types,
    themes and episodes, each with how many visible testimonies it holds."""
    results = search.search("", visible(user), page_size=RECENT)
    return {"recent": results, "ways_in": results.facets}


def listing(user, filters: search.Filters, page: int, within=None):
    """One page of the visible testimonies that ``filters`` keep."""
    return search.search(
        "", within if within is not None else visible(user), filters, page
    )


def theme_page(user, slug: str, page: int) -> dict:
    theme = get_object_or_404(Theme, slug=slug)
    return {
        "theme": theme,
        "children": list(theme.children.all()),
        "results": listing(user, search.Filters(theme=(slug,)), page),
    }


def job_type_page(user, slug: str, page: int) -> dict:
    job_type = get_object_or_404(JobType, slug=slug)
    return {
        "job_type": job_type,
        "results": listing(user, search.Filters(job_type=(slug,)), page),
    }


def episode_page(user, series: str, episode: str, page: int) -> dict:
    found = get_object_or_404(
        Episode.objects.select_related("series"), series__slug=series, slug=episode
    )
    appearances = (
        Appearance.objects.filter(episode=found, testimony__in=visible(user))
        .select_related("testimony")
        .order_by("start", "pk")
    )
    return {
        "episode": found,
        "appearances": list(appearances),
        "results": listing(
            user, search.Filters(episode=(f"{series}/{episode}",)), page
        ),
    }


def narrator_page(user, slug: str, page: int) -> dict:
    """A named or pseudonymous narrator's visible testimonies; a narrator with
    none, or an anonymous one, has no page at all."""
    narrator = get_object_or_404(
        Narrator.objects.exclude(identity=Narrator.Identity.ANONYMOUS).only(
            "slug",
            "public_name",
            "identity",
            "descriptor_fr",
            "descriptor_en",
            "country",
            "region",
        ),
        slug=slug,
    )
    theirs = visible(user).filter(narrator=narrator)
    results = listing(user, search.Filters(), page, within=theirs)
    if not results.total:
        raise Http404
    return {"narrator": narrator, "results": results}


@dataclass(frozen=True)
class Line:
    """A segment as the page shows it: its anchor (the address of the passage),
    its time, its speaker, and its bounds as the player reads them."""

    segment: Segment
    anchor: str
    time: str
    speaker: str
    start: str
    end: str


@dataclass(frozen=True)
class TestimonyPage:
    testimony: Testimony
    segments: list[Segment]
    appearances: list[Appearance]
    media_offer: str
    # The ready rendition of the current state, where the offer is not none.
    rendition: Rendition | None = None

    @property
    def media_url(self) -> str | None:
        """The media view's address, where there is a rendition to play."""
        if self.rendition is None:
            return None
        return reverse("testimonies:media", kwargs={"slug": self.testimony.slug})

    @property
    def media_preparing(self) -> bool:
        """Media is offered, but its rendition of the current state is not
        ready yet: the page says so instead of showing a player."""
        return (
            self.media_offer != ConsentRecord.MediaRelease.NONE
            and self.rendition is None
        )

    @property
    def lines(self) -> list[Line]:
        """Each segment with its anchor ``t=M:SS`` (``t=H:MM:SS``): the address
        of a passage is its time, so that a link to it reads as one and works
        without scripts. Two segments starting in the same second: the first
        has the time, the next its position too. Worked out here once, so that
        a two-hour transcript renders quickly."""
        speakers = {value: str(label) for value, label in Segment.Speaker.choices}
        seen: set[str] = set()
        lines = []
        for segment in self.segments:
            time = timecode(segment.start)
            anchor = f"t={time}"
            if anchor in seen:
                anchor = f"{anchor}-{segment.position}"
            seen.add(anchor)
            lines.append(
                Line(
                    segment,
                    anchor,
                    time,
                    speakers.get(segment.speaker, segment.speaker),
                    repr(float(segment.start)),
                    repr(float(segment.end)),
                )
            )
        return lines


def testimony_page(user, slug: str) -> TestimonyPage:
    """A visible testimony with its transcript in public text, its episodes and
    the media its visitor may get; 404 for any other, as for one that does not
    exist."""
    testimony = get_object_or_404(
        visible(user)
        .select_related("narrator")
        .prefetch_related(
            "themes",
            "narrator__job_types",
            Prefetch(
                "appearances",
                queryset=Appearance.objects.select_related("episode__series").order_by(
                    "start", "pk"
                ),
            ),
            Prefetch(
                "segments",
                queryset=Segment.objects.only(
                    "testimony_id", "position", "start", "end", "speaker", "public_text"
                ).order_by("position"),
            ),
        ),
        slug=slug,
    )
    offer = media_offer_for(testimony, user)
    rendition = None
    if offer != ConsentRecord.MediaRelease.NONE:
        rendition = ready_rendition(testimony)
    return TestimonyPage(
        testimony=testimony,
        segments=list(testimony.segments.all()),
        appearances=list(testimony.appearances.all()),
        media_offer=offer,
        rendition=rendition,
    )

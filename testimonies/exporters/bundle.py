"""Export of the archive as a `testimony-bundle/1` document
(docs/design.md, "The bundle format").

The full export is a staff backup: everything, private fields included, so that
importing it into an empty database gives the same archive. The public export
holds only what the public tier may see, and is itself a valid bundle: of the
media, the public rendition of the current state, where one is ready.
"""

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import PurePosixPath

from django.db.models import Prefetch
from django.utils import timezone

from ..media.plan import ready_rendition
from ..models import (
    ConsentRecord,
    JobType,
    Narrator,
    NarratorRequest,
    Redaction,
    Segment,
    Series,
    Testimony,
    Theme,
)
from ..querysets import hiding_request_kinds, in_force

FORMAT = "testimony-bundle/1"
_PLAIN_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,5}")


def _put(target: dict, key: str, value) -> None:
    """Write optional values only when set: the format has no nulls."""
    if value not in (None, "", [], {}):
        target[key] = value


def _translated(fr: str, en: str) -> dict:
    return {lang: text for lang, text in (("fr", fr), ("en", en)) if text}


def _date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def _seconds(value: float | None):
    # Whole seconds stay integers in JSON, so that a round trip is exact.
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def media_file_name(testimony: Testimony) -> str:
    """Where a testimony's recording is written beside the bundle: named after
    the testimony, whose slug is permanent, so that a backup restored and
    exported again names it the same (the stored name is the server's own)."""
    return _named_after(testimony, testimony.media.name)


def public_media_file_name(testimony: Testimony, rendition) -> str:
    """The public copy is named after its testimony too."""
    return _named_after(testimony, rendition.name)


def _named_after(testimony: Testimony, stored: str) -> str:
    suffix = PurePosixPath(stored).suffix
    name = testimony.slug + (suffix if _PLAIN_SUFFIX.fullmatch(suffix) else "")
    return f"media/{testimony.slug}/{name}"


# The format has no narrator requests: a pending pause or withdrawal travels as
# a consent record that holds publication, so that a restored backup fails closed.
HELD_NOTE = (
    "Added by the export: a pause or withdrawal request of the narrator was "
    "pending. Publication stays held until a curator records consent again."
)


class BundleExporter:
    def __init__(self, *, public: bool) -> None:
        self.public = public
        self.held_slugs: list[str] = []
        self._held_narrators = set(
            NarratorRequest.objects.filter(
                status=NarratorRequest.Status.PENDING,
                kind__in=hiding_request_kinds(),
                narrator__isnull=False,
            ).values_list("narrator_id", flat=True)
        )

    def testimonies(self) -> Iterable[Testimony]:
        # The consent in force and the media offered, by the access rule's own
        # queries: the full history below is only the record of what was given.
        queryset = (
            Testimony.objects.visible_to(None) if self.public else Testimony.objects
        )
        return (
            queryset.with_media_offer()
            .annotate(
                scope_in_force=in_force("scope"),
                release_in_force=in_force("media"),
                given_in_force=in_force("given_on"),
            )
            .select_related("narrator")
            .prefetch_related(
                "themes",
                # The history in the order recorded, oldest first.
                Prefetch(
                    "consent_records",
                    queryset=ConsentRecord.objects.newest_first().reverse(),
                ),
                Prefetch("appearances__episode__series"),
                Prefetch(
                    "segments",
                    queryset=Segment.objects.order_by("position").prefetch_related(
                        Prefetch(
                            "redactions", queryset=Redaction.objects.order_by("pk")
                        )
                    ),
                ),
            )
            .order_by("slug")
        )

    def export(self) -> dict:
        testimonies = list(self.testimonies())
        narrators = self.narrators(testimonies)
        document: dict = {"format": FORMAT}
        document["job_types"] = [
            self.job_type(j) for j in JobType.objects.order_by("slug")
        ]
        document["themes"] = [
            self.theme(t)
            for t in Theme.objects.select_related("parent").order_by("slug")
        ]
        document["series"] = [
            self.series(s)
            for s in Series.objects.prefetch_related("episodes").order_by("slug")
        ]
        document["narrators"] = [self.narrator(n, key) for n, key in narrators.values()]
        keys = {pk: key for pk, (_n, key) in narrators.items()}
        document["testimonies"] = [
            self.testimony(t, keys[t.narrator_id]) for t in testimonies
        ]
        return document

    def job_type(self, job_type: JobType) -> dict:
        item = {
            "slug": job_type.slug,
            "name": {"fr": job_type.name_fr, "en": job_type.name_en},
        }
        _put(
            item,
            "description",
            _translated(job_type.description_fr, job_type.description_en),
        )
        _put(item, "isco", job_type.isco)
        return item

    def theme(self, theme: Theme) -> dict:
        item = {"slug": theme.slug, "name": {"fr": theme.name_fr, "en": theme.name_en}}
        _put(item, "parent", theme.parent.slug if theme.parent else None)
        return item

    def series(self, series: Series) -> dict:
        item = {"slug": series.slug, "title": series.title}
        _put(item, "broadcaster", series.broadcaster)
        _put(item, "url", series.url)
        _put(
            item,
            "description",
            _translated(series.description_fr, series.description_en),
        )
        episodes = []
        for episode in sorted(series.episodes.all(), key=lambda e: e.number):
            entry = {
                "slug": episode.slug,
                "number": episode.number,
                "title": episode.title,
            }
            _put(entry, "broadcast_on", _date(episode.broadcast_on))
            _put(entry, "duration", _seconds(episode.duration))
            _put(entry, "url", episode.url)
            _put(
                entry, "synopsis", _translated(episode.synopsis_fr, episode.synopsis_en)
            )
            episodes.append(entry)
        item["episodes"] = episodes
        return item

    def narrators(
        self, testimonies: list[Testimony]
    ) -> dict[int, tuple[Narrator, str]]:
        """Narrators to export, with the key each is exported under."""
        if self.public:
            ids = {t.narrator_id for t in testimonies}
            chosen = Narrator.objects.filter(pk__in=ids)
        else:
            chosen = Narrator.objects.all()
        chosen = list(chosen.prefetch_related("job_types").order_by("key"))
        if self.public:
            # Internal keys can carry a name; the public export numbers narrators.
            return {n.pk: (n, f"narrator-{i}") for i, n in enumerate(chosen, start=1)}
        return {n.pk: (n, n.key) for n in chosen}

    def narrator(self, narrator: Narrator, key: str) -> dict:
        anonymous = narrator.identity == Narrator.Identity.ANONYMOUS
        public_name = narrator.public_name
        if self.public and anonymous:
            public_name = narrator.descriptor_fr or narrator.descriptor_en or key
        item = {"key": key, "public_name": public_name, "identity": narrator.identity}
        _put(
            item,
            "descriptor",
            _translated(narrator.descriptor_fr, narrator.descriptor_en),
        )
        item["job_types"] = sorted(j.slug for j in narrator.job_types.all())
        _put(item, "country", narrator.country)
        _put(item, "region", narrator.region)
        _put(item, "birth_decade", narrator.birth_decade)
        if not self.public:
            _put(item, "reference_code_hash", narrator.reference_code_hash)
            _put(item, "sensitive_terms", list(narrator.sensitive_terms or []))
            private: dict = {}
            _put(private, "legal_name", narrator.legal_name)
            _put(private, "contact", narrator.contact)
            _put(private, "notes", narrator.private_notes)
            _put(item, "private", private)
        return item

    def testimony(self, testimony: Testimony, narrator_key: str) -> dict:
        item = {
            "slug": testimony.slug,
            "title": testimony.title,
            "narrator": narrator_key,
            "language": testimony.language,
        }
        _put(item, "recorded_on", _date(testimony.recorded_on))
        _put(item, "place", testimony.place)
        _put(item, "interviewer", testimony.interviewer)
        _put(item, "summary", testimony.summary)
        item["themes"] = sorted(t.slug for t in testimony.themes.all())
        _put(item, "content_warnings", list(testimony.content_warnings or []))
        item["status"] = testimony.status
        _put(item, "published_at", _datetime(testimony.published_at))
        if self.public:
            item["consent"] = [
                {
                    "scope": testimony.scope_in_force,
                    "media": testimony.release_in_force,
                    "given_on": _date(testimony.given_in_force),
                }
            ]
        else:
            _put(item, "embargo_until", _datetime(testimony.embargo_until))
            item["consent"] = [self.consent(c) for c in testimony.consent_records.all()]
            if testimony.narrator_id in self._held_narrators:
                item["consent"].append(self.held(testimony.given_in_force))
                self.held_slugs.append(testimony.slug)
        if self.public:
            rendition = self.public_rendition(testimony)
            if rendition is not None:
                media = {
                    "path": public_media_file_name(testimony, rendition),
                    "kind": rendition.kind,
                }
                _put(media, "duration", _seconds(rendition.duration))
                item["media"] = media
        elif testimony.media:
            media = {"path": media_file_name(testimony), "kind": testimony.media_kind}
            _put(media, "duration", _seconds(testimony.media_duration))
            item["media"] = media
        item["appearances"] = [
            self.appearance(a)
            for a in sorted(testimony.appearances.all(), key=lambda a: (a.start, a.pk))
        ]
        segments = list(testimony.segments.all())
        item["segments"] = [
            {
                "start": _seconds(s.start),
                "end": _seconds(s.end),
                "speaker": s.speaker,
                "text": s.public_text if self.public else s.text,
            }
            for s in segments
        ]
        if not self.public:
            item["redactions"] = [
                self.redaction(index, r)
                for index, s in enumerate(segments)
                for r in s.redactions.all()
            ]
            _put(item, "curator_notes", testimony.curator_notes)
        else:
            item["redactions"] = []
        return item

    def public_rendition(self, testimony: Testimony):
        """What the public may get of the media: the ready rendition of its
        current state where the media rule offers some (never the original,
        whose redacted words are still audible); until it is made, nothing."""
        if not testimony.media or (
            testimony.media_offer == ConsentRecord.MediaRelease.NONE
        ):
            return None
        return ready_rendition(testimony)

    def held(self, given_in_force: date | None) -> dict:
        today = timezone.localdate()
        given_on = max(today, given_in_force) if given_in_force else today
        return {
            "scope": ConsentRecord.Scope.ARCHIVE,
            "media": ConsentRecord.MediaRelease.NONE,
            "given_on": _date(given_on),
            "note": HELD_NOTE,
        }

    def consent(self, record: ConsentRecord) -> dict:
        item = {
            "scope": record.scope,
            "media": record.media,
            "given_on": _date(record.given_on),
        }
        _put(item, "note", record.note)
        return item

    def appearance(self, appearance) -> dict:
        episode = appearance.episode
        item = {
            "episode": f"{episode.series.slug}/{episode.slug}",
            "start": _seconds(appearance.start),
            "end": _seconds(appearance.end),
        }
        _put(item, "note", appearance.note)
        return item

    def redaction(self, index: int, redaction: Redaction) -> dict:
        item = {
            "segment": index,
            "start": redaction.start,
            "end": redaction.end,
            "reason": redaction.reason,
            "label": redaction.label,
        }
        _put(item, "note", redaction.note)
        # Unset, the segment's range is silenced: the format says so by omission.
        _put(item, "media_start", _seconds(redaction.media_start))
        _put(item, "media_end", _seconds(redaction.media_end))
        return item


def bundle_export(*, public: bool = False) -> dict:
    """The archive as a bundle document; ``public`` keeps only what anyone may see."""
    return BundleExporter(public=public).export()


def bundle_export_with_report(*, public: bool = False) -> tuple[dict, list[str]]:
    """The document, and the slugs held back because of a pending request."""
    exporter = BundleExporter(public=public)
    return exporter.export(), exporter.held_slugs

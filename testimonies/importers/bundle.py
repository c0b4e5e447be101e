"""Import of a `testimony-bundle/1` document: all or nothing
(docs/design.md, "The bundle format")."""

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from .. import gate, search
from ..media import storage as media_storage
from ..media.commits import discard_unless_committed
from ..media.probe import MediaRefused
from ..models import (
    Appearance,
    ConsentRecord,
    Episode,
    JobType,
    Narrator,
    Redaction,
    Segment,
    Series,
    Testimony,
    Theme,
    hash_reference_code,
)
from ..redaction import Span, default_label, public_text
from .validate import BundleError, load_bundle_json, validate_bundle


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    def __str__(self) -> str:
        def fmt(bucket: dict[str, int]) -> str:
            return ", ".join(f"{n} {kind}" for kind, n in bucket.items()) or "nothing"

        return f"created {fmt(self.created)}; reused {fmt(self.reused)}"


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _translated(data: dict, key: str) -> tuple[str, str]:
    value = data.get(key) or {}
    return value.get("fr", ""), value.get("en", "")


def batched(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _SegmentRow(NamedTuple):
    position: int
    start: float
    end: float
    speaker: str
    text: str
    public_text: str


SEGMENT_FIELDS = (
    "testimony",
    "position",
    "start",
    "end",
    "speaker",
    "text",
    "public_text",
)


def insert_segment_rows(rows: list[tuple]) -> None:
    """Insert segments as plain rows in ``SEGMENT_FIELDS`` order: the bulk of
    any bundle (and of a seeded corpus), so the hot path.

    Model instances cost more than the database itself here: the rows go by
    ``COPY`` on PostgreSQL, and elsewhere by a portable INSERT run with
    executemany.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(Segment._meta.get_field(f).column) for f in SEGMENT_FIELDS
    )
    table = quote(Segment._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: the rows streamed in one command, several times faster.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(SEGMENT_FIELDS))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _segment_ids(testimony_ids: set[int]) -> dict[tuple[int, int], int]:
    ids: dict[tuple[int, int], int] = {}
    for chunk in batched(sorted(testimony_ids), 500):
        stored = Segment.objects.filter(testimony_id__in=chunk)
        for pk, testimony_id, position in stored.values_list(
            "pk", "testimony_id", "position"
        ):
            ids[testimony_id, position] = pk
    return ids


def _known(cache: dict, stored, key: str, path: str, what: str):
    """An entry of the bundle, or else of the database, by its slug or key."""
    if key not in cache:
        # The query runs only for what the bundle does not define itself.
        found = stored.first()
        if found is None:
            raise BundleError(path, f"unknown {what} {key!r}")
        cache[key] = found
    return cache[key]


def safe_media_path(base_dir: Path, relative: str, path: str) -> Path:
    """The media file named by a bundle, refusing anything outside its folder."""
    candidate = Path(relative)
    if (
        candidate.is_absolute()
        or relative.startswith(("/", "\\"))
        # "." has no parts at all; it is refused below, as no file.
        or (candidate.parts and ":" in candidate.parts[0])
    ):
        raise BundleError(
            path, f"media path {relative!r} must be relative to the bundle"
        )
    if any(part == ".." for part in candidate.parts):
        raise BundleError(path, f"media path {relative!r} leaves the bundle's folder")
    try:
        base = base_dir.resolve()
        current = base
        for part in candidate.parts:
            current = current / part
            if current.is_symlink():
                raise BundleError(
                    path, f"media path {relative!r} goes through a symbolic link"
                )
        inside = current.resolve().is_relative_to(base)
        is_file = current.is_file()
    except OSError as error:
        # A name too long for the file system, a folder that cannot be read ...
        # The reason only: the error's own text would show the server's folders.
        reason = error.strerror or type(error).__name__
        raise BundleError(
            path, f"media path {relative!r} cannot be read: {reason}"
        ) from error
    if not inside:
        raise BundleError(path, f"media path {relative!r} leaves the bundle's folder")
    if not is_file:
        raise BundleError(path, f"media file {relative!r} not found beside the bundle")
    return current


class _Importer:
    def __init__(self, data: dict, base_dir: Path | None, now: datetime) -> None:
        self.data = data
        self.base_dir = base_dir
        self.now = now
        self.report = ImportReport()
        self.job_types: dict[str, JobType] = {}
        self.themes: dict[str, Theme] = {}
        self.episodes: dict[str, Episode] = {}
        self.narrators: dict[str, Narrator] = {}
        self.saved_files: list[str] = []

    # -- taxonomy --------------------------------------------------------

    def job_type(self, slug: str, path: str) -> JobType:
        return _known(
            self.job_types, JobType.objects.filter(slug=slug), slug, path, "job type"
        )

    def theme(self, slug: str, path: str) -> Theme:
        return _known(self.themes, Theme.objects.filter(slug=slug), slug, path, "theme")

    def import_job_types(self) -> None:
        for i, item in enumerate(self.data.get("job_types", [])):
            path = f"job_types[{i}]"
            name_fr, name_en = _translated(item, "name")
            description_fr, description_en = _translated(item, "description")
            values = {
                "name_fr": name_fr,
                "name_en": name_en,
                "description_fr": description_fr,
                "description_en": description_en,
                "isco": item.get("isco", ""),
            }
            stored = JobType.objects.filter(slug=item["slug"]).first()
            if stored is not None:
                _compare_translated(path, "job type", stored, values)
                self.report.count(self.report.reused, "job types")
            else:
                stored = JobType.objects.create(slug=item["slug"], **values)
                self.report.count(self.report.created, "job types")
            self.job_types[item["slug"]] = stored

    def import_themes(self) -> None:
        items = self.data.get("themes", [])
        pending_parents: list[tuple[Theme, str, str]] = []
        for i, item in enumerate(items):
            path = f"themes[{i}]"
            name_fr, name_en = _translated(item, "name")
            stored = Theme.objects.filter(slug=item["slug"]).first()
            if stored is not None:
                _compare_translated(
                    path, "theme", stored, {"name_fr": name_fr, "name_en": name_en}
                )
                stored_parent = stored.parent.slug if stored.parent_id else None
                if stored_parent != item.get("parent"):
                    raise BundleError(
                        f"{path}.parent",
                        f"differs from the stored theme ({item.get('parent')!r} in the "
                        f"bundle, {stored_parent!r} stored); nothing is overwritten",
                    )
                self.report.count(self.report.reused, "themes")
            else:
                stored = Theme.objects.create(
                    slug=item["slug"], name_fr=name_fr, name_en=name_en
                )
                self.report.count(self.report.created, "themes")
                if item.get("parent"):
                    pending_parents.append((stored, item["parent"], f"{path}.parent"))
            self.themes[item["slug"]] = stored
        for theme, parent_slug, path in pending_parents:
            parent = self.theme(parent_slug, path)
            if theme.would_cycle(parent):
                raise BundleError(
                    path, f"theme {theme.slug!r} would be its own ancestor"
                )
            theme.parent = parent
            theme.save(update_fields=["parent"])

    def import_series(self) -> None:
        for i, item in enumerate(self.data.get("series", [])):
            path = f"series[{i}]"
            description_fr, description_en = _translated(item, "description")
            values = {
                "title": item["title"],
                "broadcaster": item.get("broadcaster", ""),
                "url": item.get("url", ""),
                "description_fr": description_fr,
                "description_en": description_en,
            }
            series = Series.objects.filter(slug=item["slug"]).first()
            if series is not None:
                _compare_translated(path, "series", series, values)
                self.report.count(self.report.reused, "series")
            else:
                series = Series.objects.create(slug=item["slug"], **values)
                self.report.count(self.report.created, "series")
            stored_episodes = {e.slug: e for e in series.episodes.all()}
            numbers = {e.number: e.slug for e in stored_episodes.values()}
            for j, episode_item in enumerate(item.get("episodes", [])):
                episode_path = f"{path}.episodes[{j}]"
                synopsis_fr, synopsis_en = _translated(episode_item, "synopsis")
                values = {
                    "number": episode_item["number"],
                    "title": episode_item["title"],
                    "broadcast_on": _date(episode_item.get("broadcast_on")),
                    "duration": episode_item.get("duration"),
                    "url": episode_item.get("url", ""),
                    "synopsis_fr": synopsis_fr,
                    "synopsis_en": synopsis_en,
                }
                episode = stored_episodes.get(episode_item["slug"])
                if episode is not None:
                    _compare_translated(episode_path, "episode", episode, values)
                    self.report.count(self.report.reused, "episodes")
                else:
                    other = numbers.get(values["number"])
                    if other is not None:
                        raise BundleError(
                            f"{episode_path}.number",
                            f"episode number {values['number']} is already taken by "
                            f"{series.slug}/{other}",
                        )
                    episode = Episode.objects.create(
                        series=series, slug=episode_item["slug"], **values
                    )
                    numbers[episode.number] = episode.slug
                    self.report.count(self.report.created, "episodes")
                self.episodes[f"{series.slug}/{episode.slug}"] = episode

    def episode(self, ref: str, path: str) -> Episode:
        series_slug, episode_slug = ref.split("/", 1)
        stored = Episode.objects.filter(series__slug=series_slug, slug=episode_slug)
        return _known(self.episodes, stored, ref, path, "episode")

    # -- narrators -------------------------------------------------------

    def import_narrators(self) -> None:
        for i, item in enumerate(self.data.get("narrators", [])):
            path = f"narrators[{i}]"
            descriptor_fr, descriptor_en = _translated(item, "descriptor")
            private = item.get("private", {})
            if "reference_code" in item:
                code_key = "reference_code"
                code_hash = hash_reference_code(item["reference_code"])
            else:
                code_key = "reference_code_hash"
                code_hash = item.get("reference_code_hash", "")
            values = {
                "public_name": item["public_name"],
                "identity": item["identity"],
                "descriptor_fr": descriptor_fr,
                "descriptor_en": descriptor_en,
                "country": item.get("country", ""),
                "region": item.get("region", ""),
                "birth_decade": item.get("birth_decade"),
                "sensitive_terms": item.get("sensitive_terms", []),
                "legal_name": private.get("legal_name", ""),
                "contact": private.get("contact", ""),
                "private_notes": private.get("notes", ""),
                "reference_code_hash": code_hash,
            }
            job_types = [
                self.job_type(slug, f"{path}.job_types[{k}]")
                for k, slug in enumerate(item.get("job_types", []))
            ]
            narrator = Narrator.objects.filter(key=item["key"]).first()
            if narrator is not None:
                _compare_narrator(path, narrator, values, job_types, code_key)
                self.report.count(self.report.reused, "narrators")
            else:
                if (
                    code_hash
                    and Narrator.objects.filter(reference_code_hash=code_hash).exists()
                ):
                    raise BundleError(
                        f"{path}.{code_key}",
                        "this reference code belongs to another narrator",
                    )
                narrator = Narrator.objects.create(key=item["key"], **values)
                narrator.job_types.set(job_types)
                self.report.count(self.report.created, "narrators")
            self.narrators[item["key"]] = narrator

    def narrator(self, key: str, path: str) -> Narrator:
        return _known(
            self.narrators, Narrator.objects.filter(key=key), key, path, "narrator"
        )

    # -- testimonies -----------------------------------------------------

    def import_testimonies(self) -> None:
        items = self.data.get("testimonies", [])
        slugs = [item["slug"] for item in items]
        taken = set(
            Testimony.objects.filter(slug__in=slugs).values_list("slug", flat=True)
        )
        self.testimony_ids: list[int] = []
        self.theme_links: list = []
        # In the order of the bundle: the last of a testimony's is in force.
        self.consent_records: list[ConsentRecord] = []
        self.published_media: list[tuple[str, Testimony, Narrator]] = []
        segments: list[tuple] = []
        # (testimony id, segment position, its redactions), inserted once the
        # segments have their ids.
        redactions: list[tuple[int, int, list[Redaction]]] = []
        for i, item in enumerate(items):
            path = f"testimonies[{i}]"
            if item["slug"] in taken:
                raise BundleError(
                    f"{path}.slug",
                    f"a testimony {item['slug']!r} already exists; "
                    "nothing is overwritten",
                )
            self.import_testimony(path, item, segments, redactions)
        Testimony.themes.through.objects.bulk_create(self.theme_links, batch_size=2000)
        ConsentRecord.objects.bulk_create(self.consent_records, batch_size=2000)
        self.check_media_releases()
        insert_segment_rows(segments)
        segment_ids = _segment_ids({row[0] for row in segments})
        rows: list[Redaction] = []
        for testimony_id, position, items_of_segment in redactions:
            for redaction in items_of_segment:
                redaction.segment_id = segment_ids[testimony_id, position]
                rows.append(redaction)
        Redaction.objects.bulk_create(rows, batch_size=2000)
        # In the import's transaction: a refused bundle leaves the index as it was.
        search.index_testimonies(self.testimony_ids)

    def check_media_releases(self) -> None:
        """The gate's media rule for each published testimony with a recording,
        against the release in force as the archive reads it once recorded."""
        for path, testimony, narrator in self.published_media:
            consent = testimony.consent_in_force()
            hits = gate.media_hits(
                testimony, narrator, consent.media if consent else None
            )
            if hits:
                raise BundleError(f"{path}.status", gate.refusal_text(hits))

    def import_testimony(
        self,
        path: str,
        item: dict,
        all_segments: list[tuple],
        all_redactions: list[tuple[int, int, list[Redaction]]],
    ) -> None:
        narrator = self.narrator(item["narrator"], f"{path}.narrator")
        themes = [
            self.theme(slug, f"{path}.themes[{k}]")
            for k, slug in enumerate(item["themes"])
        ]
        language = item["language"]

        # Public text of every segment, from its redactions, before anything is written.
        # Each segment's redactions in the order listed, with their labels.
        spans: dict[int, list[tuple[dict, str]]] = {}
        for red in item.get("redactions", []):
            label = red.get("label") or default_label(red["reason"], language)
            spans.setdefault(red["segment"], []).append((red, label))
        segment_rows: list[_SegmentRow] = []
        for position, seg in enumerate(item.get("segments", [])):
            reds = spans.get(position, [])
            text = seg["text"]
            if reds:
                shown = public_text(
                    text,
                    [Span(r["start"], r["end"], label) for r, label in reds],
                )
            else:
                shown = text
            segment_rows.append(
                _SegmentRow(
                    position, seg["start"], seg["end"], seg["speaker"], text, shown
                )
            )

        status = item["status"]
        published_at = _datetime(item.get("published_at"))
        if status == Testimony.Status.PUBLISHED and published_at is None:
            published_at = self.now
        testimony = Testimony(
            slug=item["slug"],
            title=item["title"],
            narrator=narrator,
            language=language,
            recorded_on=_date(item.get("recorded_on")),
            place=item.get("place", ""),
            interviewer=item.get("interviewer", ""),
            summary=item.get("summary", ""),
            content_warnings=item.get("content_warnings", []),
            status=status,
            published_at=published_at,
            embargo_until=_datetime(item.get("embargo_until")),
            curator_notes=item.get("curator_notes", ""),
        )
        if status == Testimony.Status.PUBLISHED:
            # The same gate as every other path to publication.
            hits = gate.hits_in(
                testimony,
                narrator,
                [a.get("note", "") for a in item.get("appearances", [])],
                [(s.position, s.start, s.public_text) for s in segment_rows],
            )
            if hits:
                raise BundleError(f"{path}.status", gate.refusal_text(hits))
        media = item.get("media")
        if media:
            self.take_in_media(testimony, media, f"{path}.media")
        # Resolved in the document's order: after status and media, which
        # come before appearances in a testimony.
        appearances = [
            (self.episode(a["episode"], f"{path}.appearances[{k}].episode"), a)
            for k, a in enumerate(item.get("appearances", []))
        ]
        self.check_media_ranges(testimony, item, path)
        testimony.save()
        self.testimony_ids.append(testimony.pk)
        # Written for all testimonies at once (see ``import_testimonies``).
        self.theme_links.extend(
            Testimony.themes.through(testimony_id=testimony.pk, theme_id=theme.pk)
            for theme in themes
        )
        self.consent_records.extend(
            ConsentRecord(
                testimony=testimony,
                scope=c["scope"],
                media=c["media"],
                given_on=_date(c["given_on"]),
                note=c.get("note", ""),
            )
            for c in item["consent"]
        )
        if status == Testimony.Status.PUBLISHED and testimony.media:
            # Checked once the consent records are written (see
            # ``check_media_releases``).
            self.published_media.append((path, testimony, narrator))
        Appearance.objects.bulk_create(
            Appearance(
                testimony=testimony,
                episode=episode,
                start=a["start"],
                end=a["end"],
                note=a.get("note", ""),
            )
            for episode, a in appearances
        )
        all_segments.extend((testimony.pk, *row) for row in segment_rows)
        for position, reds in spans.items():
            all_redactions.append(
                (
                    testimony.pk,
                    position,
                    [
                        Redaction(
                            start=r["start"],
                            end=r["end"],
                            reason=r["reason"],
                            label=label,
                            media_start=r.get("media_start"),
                            media_end=r.get("media_end"),
                            note=r.get("note", ""),
                        )
                        for r, label in reds
                    ],
                )
            )
        self.report.count(self.report.created, "testimonies")
        self.report.created["segments"] = self.report.created.get("segments", 0) + len(
            segment_rows
        )

    def take_in_media(self, testimony: Testimony, media: dict, path: str) -> None:
        """Probe and store the recording beside the bundle, as the admin's
        upload is: what it is and how long it lasts are read from it."""
        relative = media["path"]
        source = self.media_source(relative, f"{path}.path")
        try:
            ingested = media_storage.ingest(source)
        except MediaRefused as refused:
            reason = " ".join(str(message) for message in refused.messages)
            raise BundleError(
                f"{path}.path", f"media file {relative!r} is refused: {reason}"
            ) from refused
        self.saved_files.append(ingested.name)
        probed = ingested.probed
        if probed.kind != media["kind"]:
            raise BundleError(
                f"{path}.kind",
                f"declared {media['kind']!r}, but media file {relative!r} is "
                f"{probed.kind!r}: the kind is read from its streams",
            )
        declared = media.get("duration")
        if declared is not None and abs(declared - probed.duration) > (
            DURATION_TOLERANCE
        ):
            raise BundleError(
                f"{path}.duration",
                f"declared {_show_seconds(declared)} s, but media file "
                f"{relative!r} lasts {_show_seconds(probed.duration)} s",
            )
        testimony.media.name = ingested.name
        testimony.media_kind = probed.kind
        testimony.media_duration = probed.duration
        testimony.media_sha256 = probed.sha256
        testimony.media_size = probed.size

    def check_media_ranges(self, testimony: Testimony, item: dict, path: str) -> None:
        """Silenced ranges lie within the recording as it was read."""
        duration = testimony.media_duration
        if duration is None:
            return
        for k, red in enumerate(item.get("redactions", [])):
            end = red.get("media_end")
            if end is not None and end > duration:
                raise BundleError(
                    f"{path}.redactions[{k}].media_end",
                    f"beyond the end of the recording ({_show_seconds(end)} > "
                    f"{_show_seconds(duration)} s)",
                )

    def media_source(self, relative: str, path: str) -> Path:
        if self.base_dir is None:
            raise BundleError(
                path, "media needs the bundle's folder; import from a file"
            )
        return safe_media_path(self.base_dir, relative, path)

    def run(self) -> ImportReport:
        self.import_job_types()
        self.import_themes()
        self.import_series()
        self.import_narrators()
        self.import_testimonies()
        return self.report


# How far a declared duration may stand from the one read from the media:
# beyond it, the bundle names another recording than the file it carries.
DURATION_TOLERANCE = 1.0  # seconds


def _show_seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _compare_translated(path: str, what: str, stored, values: dict) -> None:
    # Bundle field names for the error: name_fr -> name.fr
    for name, value in values.items():
        current = getattr(stored, name)
        if current != value and not (current in ("", None) and value in ("", None)):
            base, _sep, language = name.rpartition("_")
            shown = f"{base}.{language}" if language in ("fr", "en") else name
            raise BundleError(
                f"{path}.{shown}",
                f"differs from the stored {what} ({value!r} in the bundle, "
                f"{current!r} stored); nothing is overwritten",
            )


def _compare_narrator(
    path: str, narrator: Narrator, values: dict, job_types: list, code_key: str
) -> None:
    bundle_names = {
        "descriptor_fr": "descriptor.fr",
        "descriptor_en": "descriptor.en",
        "legal_name": "private.legal_name",
        "contact": "private.contact",
        "private_notes": "private.notes",
        # The code in clear or its hash: the key the bundle gave it under.
        "reference_code_hash": code_key,
    }
    for name, value in values.items():
        current = getattr(narrator, name)
        if isinstance(value, str):
            current = current or ""
        if current != value:
            shown = bundle_names.get(name, name)
            secret = name in (
                "legal_name",
                "contact",
                "private_notes",
                "reference_code_hash",
            )
            detail = "" if secret else f" ({value!r} in the bundle, {current!r} stored)"
            raise BundleError(
                f"{path}.{shown}",
                f"differs from the stored narrator{detail}; nothing is overwritten",
            )
    stored_slugs = sorted(narrator.job_types.values_list("slug", flat=True))
    if stored_slugs != sorted(j.slug for j in job_types):
        raise BundleError(
            f"{path}.job_types",
            f"differs from the stored narrator ({sorted(j.slug for j in job_types)} in "
            f"the bundle, {stored_slugs} stored); nothing is overwritten",
        )


def bundle_import(
    *, data: dict, base_dir: Path | None = None, now: datetime | None = None
) -> ImportReport:
    """Import a parsed bundle in one transaction; any error changes nothing."""
    validate_bundle(data)
    importer = _Importer(data, base_dir, now or timezone.now())
    try:
        with transaction.atomic():
            report = importer.run()
            # Within an outer transaction, one that rolls back later does too
            # (see media.commits).
            for name in importer.saved_files:
                discard_unless_committed(media_storage.originals(), name)
            return report
    except BaseException:
        # Media files are not transactional: take back what was written.
        for name in importer.saved_files:
            media_storage.originals().delete(name)
        raise


def bundle_import_file(
    path: str | os.PathLike, *, now: datetime | None = None
) -> ImportReport:
    """Import a bundle from a file; media paths are relative to its folder."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except OSError as error:
        raise BundleError("$", f"cannot read {source}: {error.strerror}") from error
    return bundle_import(data=load_bundle_json(raw), base_dir=source.parent, now=now)

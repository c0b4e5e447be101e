"""Export of the archive as a bundle: a faithful backup, and a public copy that
holds nothing the public may not see (docs/design.md, "The bundle format")."""

import io
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from archive.settings import media_storages
from testimonies.exporters.bundle import bundle_export
from testimonies.gate import fold
from testimonies.importers.bundle import bundle_import, bundle_import_file
from testimonies.importers.validate import SCHEMA_PATH, validate_bundle
from testimonies.management.commands import export_bundle as export_command
from testimonies.management.commands.seed_demo import DEMO_BUNDLE
from testimonies.media.plan import rendition_plan
from testimonies.models import (
    Appearance,
    ConsentRecord,
    Episode,
    IdentityAccess,
    JobType,
    Narrator,
    NarratorRequest,
    Redaction,
    Segment,
    Series,
    Testimony,
    Theme,
)
from testimonies.querysets import Tier
from testimonies.redaction import default_label
from tests.media.signals import recording_bytes

from ..media.archive import stored_rendition

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)
LATER = datetime(2025, 1, 1, tzinfo=UTC)
# Real recordings, a second long: the importer reads what each file is.
VIDEO = recording_bytes("video")
OTHER_VIDEO = recording_bytes("video", seed=1)
PRIVATE_KEYS = {
    "private",
    "reference_code",
    "reference_code_hash",
    "sensitive_terms",
    "curator_notes",
    "embargo_until",
}


def demo_bundle() -> dict:
    return json.loads(DEMO_BUNDLE.read_text("utf-8"))


def rich_bundle() -> dict:
    """The demo and every optional field the format has: media, a theme's
    grandparent, an episode with all its fields, times that are not whole."""
    data = demo_bundle()
    data["job_types"].append(
        {"slug": "annotator", "name": {"fr": "Annotatrice", "en": "Annotator"}}
    )
    data["themes"].append(
        {
            "slug": "platform-cooperatives",
            "name": {"fr": "Coopératives de plateforme", "en": "Platform co-ops"},
            "parent": "cooperatives",
        }
    )
    data["series"][0]["episodes"][0].update(
        broadcast_on="2020-02-11",
        duration=1498.75,
        url="https://www.france.tv/slash/invisibles/episode-1",
        synopsis={"fr": "Les livreurs.", "en": "The couriers."},
    )
    data["series"].append(
        {
            "slug": "autre-serie",
            "title": "Une autre série",
            "episodes": [{"slug": "pilote", "number": 1, "title": "Pilote"}],
        }
    )
    data["narrators"] += [
        {
            "key": "ines",
            "public_name": "Nour",
            "identity": "pseudonym",
            "descriptor": {"fr": "une annotatrice", "en": "an annotator"},
            "job_types": ["annotator", "micro-tasker"],
            "country": "MA",
            "region": "Casablanca-Settat",
            "birth_decade": 2000,
            "reference_code_hash": "sha256:" + "ab" * 32,
            "sensitive_terms": ["Hexaclic", "Projet Tamaris"],
            "private": {
                "legal_name": "Inès Valcourt-Ruiz",
                "contact": "ines.vr@example.org\n+212 6 12 34 56 78",
                "notes": "Met at the Casablanca workshop; prefers e-mail.",
            },
        },
        {
            "key": "sans-temoignage",
            "public_name": "Sans témoignage",
            "identity": "anonymous",
            "job_types": [],
        },
    ]
    data["testimonies"] += [
        {
            "slug": "une-voix-enregistree",
            "title": "Une voix enregistrée",
            "narrator": "ines",
            "language": "fr",
            "recorded_on": "2023-04-05",
            "place": "Casablanca",
            "interviewer": "L'équipe de l'archive",
            "summary": "Un témoignage fictif, avec une vidéo.",
            "themes": ["data-automation", "platform-cooperatives"],
            "content_warnings": ["fatigue", "surveillance"],
            "status": "published",
            "published_at": "2024-03-01T08:00:00.125000+01:00",
            "embargo_until": "2024-04-01T00:00:00Z",
            "consent": [
                {
                    "scope": "research",
                    "media": "none",
                    "given_on": "2023-04-05",
                    "note": "Premier accord.",
                },
                {
                    "scope": "public",
                    "media": "audio_video",
                    "given_on": "2023-04-05",
                    "note": "Accord élargi.",
                },
            ],
            "media": {"path": "media/ines.mp4", "kind": "video", "duration": 1},
            "appearances": [
                {"episode": "invisibles/episode-1", "start": 12.25, "end": 30.5},
                {
                    "episode": "autre-serie/pilote",
                    "start": 100.125,
                    "end": 100.125,
                    "note": "Un plan bref.",
                },
            ],
            "segments": [
                {
                    "start": 0.125,
                    "end": 3.5,
                    "speaker": "interviewer",
                    "text": "Pour qui travailliez-vous ?",
                },
                {
                    "start": 3.5,
                    "end": 17.333,
                    "speaker": "narrator",
                    "text": "Pour Hexaclic, sur le Projet Tamaris, avec Yasmine.",
                },
                {
                    "start": 17.333,
                    "end": 20,
                    "speaker": "other",
                    "text": "(rires)",
                },
            ],
            "redactions": [
                {
                    "segment": 1,
                    "start": 5,
                    "end": 13,
                    "reason": "employer",
                    "label": "[plateforme]",
                    "note": "Nom de l'entreprise.",
                    # Placed by a curator in the recording (a second long).
                    "media_start": 0.25,
                    "media_end": 0.875,
                },
                # Overlapping: merged under the label of the first.
                {"segment": 1, "start": 22, "end": 36, "reason": "other"},
                {"segment": 1, "start": 29, "end": 50, "reason": "third_party"},
            ],
            "curator_notes": "Relu deux fois.",
        },
        {
            "slug": "un-son-sans-image",
            "title": "Un son sans image",
            "narrator": "ines",
            "language": "en",
            "themes": [],
            "status": "published",
            "consent": [
                {"scope": "public", "media": "audio", "given_on": "2023-05-01"}
            ],
            "media": {"path": "media/sans-image.mp4", "kind": "video"},
            "appearances": [],
            "segments": [
                {"start": 0, "end": 2.5, "speaker": "narrator", "text": "Hello."}
            ],
            "redactions": [],
        },
        {
            "slug": "retire-du-site",
            "title": "Retiré du site",
            "narrator": "ines",
            "language": "fr",
            "themes": ["trauma"],
            "status": "retired",
            "published_at": "2022-01-01T00:00:00Z",
            "consent": [
                {"scope": "public", "media": "audio", "given_on": "2021-12-01"},
                {"scope": "archive", "media": "none", "given_on": "2023-01-01"},
            ],
            "appearances": [],
            "segments": [],
            "redactions": [],
        },
    ]
    return data


def write_rich_bundle(folder: Path) -> Path:
    (folder / "media").mkdir(parents=True)
    # The demo's own recordings travel with it, as its bundle names them.
    for recording in (DEMO_BUNDLE.parent / "media").iterdir():
        (folder / "media" / recording.name).write_bytes(recording.read_bytes())
    (folder / "media" / "ines.mp4").write_bytes(VIDEO)
    (folder / "media" / "sans-image.mp4").write_bytes(OTHER_VIDEO)
    path = folder / "bundle.json"
    path.write_text(json.dumps(rich_bundle(), ensure_ascii=False), "utf-8")
    return path


def wipe_archive() -> None:
    """An empty archive again: every table of the domain, and the media storage."""
    for model in (
        Redaction,
        Segment,
        Appearance,
        ConsentRecord,
        NarratorRequest,
        IdentityAccess,
        Testimony,
        Narrator,
        Episode,
        Series,
        JobType,
    ):
        model.objects.all().delete()
    Theme.objects.update(parent=None)
    Theme.objects.all().delete()
    root = Path(settings.MEDIA_ROOT)
    shutil.rmtree(root)
    root.mkdir()


def keys_anywhere(node) -> set[str]:
    if isinstance(node, dict):
        found = set(node)
        for value in node.values():
            found |= keys_anywhere(value)
        return found
    if isinstance(node, list):
        return set().union(*(keys_anywhere(v) for v in node)) if node else set()
    return set()


def occurs(term: str, text: str) -> bool:
    """A whole-word occurrence, whatever the case and accents."""
    pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, fold(term).split())) + r"(?!\w)"
    return re.search(pattern, fold(text)) is not None


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media-root"
    settings.MEDIA_ROOT = str(root)
    settings.STORAGES = {**settings.STORAGES, **media_storages({}, root)}
    root.mkdir()
    return root


def probed_duration(slug: str) -> float:
    """The duration read from a testimony's recording when it was taken in."""
    return Testimony.objects.get(slug=slug).media_duration


@pytest.fixture
def demo_archive(media_root):
    bundle_import_file(DEMO_BUNDLE, now=NOW)
    return demo_bundle()


@pytest.fixture
def rich_archive(tmp_path, media_root):
    bundle_import_file(write_rich_bundle(tmp_path / "source"), now=NOW)
    return rich_bundle()


# --- The full export: a backup ---------------------------------------------------


def test_full_export_imported_into_an_empty_archive_exports_the_same_document(
    tmp_path, rich_archive
):
    first = bundle_export(public=False)
    backup = tmp_path / "backup" / "bundle.json"
    backup.parent.mkdir()
    call_command("export_bundle", str(backup), stdout=io.StringIO())
    assert json.loads(backup.read_text("utf-8")) == first

    wipe_archive()
    assert Testimony.objects.count() == 0
    bundle_import_file(backup, now=LATER)
    second = bundle_export(public=False)

    assert second == first
    # The document is not trivially equal: it holds what the source held.
    assert len(first["testimonies"]) == len(rich_archive["testimonies"])
    assert len(first["narrators"]) == len(rich_archive["narrators"])
    rich = next(t for t in second["testimonies"] if t["slug"] == "une-voix-enregistree")
    # Named after the testimony, whose slug is permanent: the stored name is
    # the server's, new at each import.
    assert rich["media"] == {
        "path": "media/une-voix-enregistree/une-voix-enregistree.mp4",
        "kind": "video",
        "duration": probed_duration("une-voix-enregistree"),
    }
    assert rich["media"]["duration"] == pytest.approx(1, abs=0.1)
    assert rich["embargo_until"] == "2024-04-01T00:00:00Z"
    assert rich["published_at"] == "2024-03-01T07:00:00.125000Z"
    # A placed range travels; an unplaced one is left out (its segment's).
    placed, *unplaced = rich["redactions"]
    assert (placed["media_start"], placed["media_end"]) == (0.25, 0.875)
    assert unplaced and not any(
        "media_start" in r or "media_end" in r for r in unplaced
    )
    with Testimony.objects.get(slug="une-voix-enregistree").media.open("rb") as media:
        assert media.read() == VIDEO


def test_full_export_is_a_valid_bundle_by_the_validator_and_the_schema(rich_archive):
    document = bundle_export(public=False)

    validate_bundle(document)
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)


def test_full_export_writes_every_default_out(rich_archive):
    document = bundle_export(public=False)

    published = next(
        t for t in document["testimonies"] if t["slug"] == "un-son-sans-image"
    )
    # The time of import, given to a published testimony that had none.
    assert published["published_at"] == "2024-06-01T12:30:15.250000Z"
    for testimony in document["testimonies"]:
        for redaction in testimony["redactions"]:
            assert redaction["label"]
    ines = next(n for n in document["narrators"] if n["key"] == "ines")
    assert ines["reference_code_hash"] == "sha256:" + "ab" * 32
    karim = next(n for n in document["narrators"] if n["key"] == "karim-b")
    assert "reference_code" not in karim
    assert karim["reference_code_hash"].startswith("sha256:")
    assert karim["private"]["legal_name"] == "Nordine Haddouche"


def test_full_export_gives_back_the_demos_segments_and_redactions(demo_archive):
    document = bundle_export(public=False)

    exported = {t["slug"]: t for t in document["testimonies"]}
    assert set(exported) == {t["slug"] for t in demo_archive["testimonies"]}
    for original in demo_archive["testimonies"]:
        testimony = exported[original["slug"]]
        assert testimony["segments"] == original["segments"]
        expected = [
            {
                **redaction,
                "label": redaction.get("label")
                or default_label(redaction["reason"], original["language"]),
            }
            for redaction in original["redactions"]
        ]
        assert testimony["redactions"] == expected


def test_a_pending_pause_travels_as_held_consent_so_a_restore_stays_closed(
    tmp_path, demo_archive
):
    anonymous = AnonymousUser()
    visible = Testimony.objects.visible_to(anonymous).select_related("narrator")
    paused = visible.first()
    NarratorRequest.objects.create(
        narrator=paused.narrator,
        reference_code_hash=paused.narrator.reference_code_hash,
        kind=NarratorRequest.Kind.PAUSE,
    )
    assert not Testimony.objects.visible_to(anonymous).filter(pk=paused.pk).exists()

    document = bundle_export(public=False)
    held = next(t for t in document["testimonies"] if t["slug"] == paused.slug)
    assert held["consent"][-1]["scope"] == "archive"
    # Written with its recordings, as a backup is, and restored from there.
    backup = tmp_path / "backup" / "bundle.json"
    backup.parent.mkdir()
    call_command("export_bundle", str(backup), stdout=io.StringIO())
    wipe_archive()
    bundle_import_file(backup)

    restored = Testimony.objects.get(slug=paused.slug)
    assert restored.status == Testimony.Status.PUBLISHED
    assert not Testimony.objects.visible_to(anonymous).filter(pk=restored.pk).exists()
    assert bundle_export(public=False) == document


# --- The public export -----------------------------------------------------------


def test_public_export_holds_only_the_testimonies_the_public_may_see(demo_archive):
    document = bundle_export(public=True)

    slugs = {t["slug"] for t in document["testimonies"]}
    visible = set(
        Testimony.objects.visible_to(AnonymousUser()).values_list("slug", flat=True)
    )
    assert slugs == visible
    assert 0 < len(slugs) < Testimony.objects.count()
    assert all(t["status"] == "published" for t in document["testimonies"])


def test_public_export_has_no_private_field_anywhere(rich_archive):
    document = bundle_export(public=True)

    assert not keys_anywhere(document) & PRIVATE_KEYS
    for testimony in document["testimonies"]:
        assert len(testimony["consent"]) == 1
        assert "note" not in testimony["consent"][0]
        assert testimony["redactions"] == []


def test_public_export_keeps_the_consent_in_force(rich_archive):
    document = bundle_export(public=True)

    for item in document["testimonies"]:
        latest = Testimony.objects.get(slug=item["slug"]).consent_in_force()
        assert item["consent"] == [
            {
                "scope": latest.scope,
                "media": latest.media,
                "given_on": latest.given_on.isoformat(),
            }
        ]


def test_public_export_gives_public_text_only(demo_archive):
    document = bundle_export(public=True)

    for item in document["testimonies"]:
        stored = Segment.objects.filter(testimony__slug=item["slug"]).order_by(
            "position"
        )
        assert [s["text"] for s in item["segments"]] == [s.public_text for s in stored]


def test_nothing_private_or_redacted_occurs_in_the_public_export(rich_archive):
    full = bundle_export(public=False)
    public = bundle_export(public=True)
    text = json.dumps(public, ensure_ascii=False)

    secrets = []
    for narrator in full["narrators"]:
        private = narrator.get("private", {})
        secrets += narrator.get("sensitive_terms", [])
        secrets += [private.get("contact", ""), private.get("notes", "")]
        if narrator["identity"] != "named":
            legal_name = private.get("legal_name", "")
            secrets += [legal_name, *re.findall(r"[^\W\d_]{3,}", legal_name)]
        if narrator["identity"] == "anonymous":
            # The internal label of an anonymous narrator is never shown.
            secrets.append(narrator["public_name"])
        secrets.append(narrator.get("reference_code_hash", ""))
    shown = {t["slug"] for t in public["testimonies"]}
    for testimony in full["testimonies"]:
        secrets.append(testimony.get("curator_notes", ""))
        secrets += [c.get("note", "") for c in testimony["consent"]]
        if testimony["slug"] not in shown:
            continue
        for redaction in testimony["redactions"]:
            segment = testimony["segments"][redaction["segment"]]["text"]
            hidden = segment[redaction["start"] : redaction["end"]]
            # A word hidden here but said again, unredacted, elsewhere in the
            # same segment is not a leak; only the hidden occurrences count.
            outside = segment[: redaction["start"]] + "\0" + segment[redaction["end"] :]
            if len(hidden.strip()) >= 4 and hidden not in outside:
                secrets.append(hidden)
    secrets = [s for s in secrets if s.strip()]
    assert len(secrets) > 50
    leaks = [s for s in secrets if occurs(s, text)]
    assert leaks == []


def test_anonymous_narrators_are_shown_by_their_descriptor(demo_archive):
    document = bundle_export(public=True)

    anonymous = [n for n in document["narrators"] if n["identity"] == "anonymous"]
    assert anonymous
    for narrator in anonymous:
        assert narrator["public_name"] == narrator["descriptor"]["fr"]


def test_public_export_numbers_narrators_instead_of_their_keys(demo_archive):
    document = bundle_export(public=True)

    keys = [n["key"] for n in document["narrators"]]
    assert keys == [f"narrator-{i}" for i in range(1, len(keys) + 1)]
    assert not set(keys) & set(Narrator.objects.values_list("key", flat=True))
    assert {t["narrator"] for t in document["testimonies"]} == set(keys)
    # Only the narrators of what is shown.
    assert len(keys) == len(
        {
            Testimony.objects.get(slug=t["slug"]).narrator_id
            for t in document["testimonies"]
        }
    )


def made_renditions():
    """Ready public renditions of every testimony's current state (their files
    stand-ins): what process_media would leave."""
    for testimony in Testimony.objects.exclude(media=""):
        Testimony.objects.filter(pk=testimony.pk).update(media_sha256="a" * 64)
        testimony.refresh_from_db()
        if rendition_plan(testimony) is not None:
            stored_rendition(
                testimony, b"public rendition of " + testimony.slug.encode()
            )


def test_public_export_carries_media_only_where_the_release_allows(rich_archive):
    # Until its public rendition is made, no media is exported: never the original.
    before = {t["slug"]: t for t in bundle_export(public=True)["testimonies"]}
    assert "media" not in before["une-voix-enregistree"]
    made_renditions()

    document = bundle_export(public=True)

    exported = {t["slug"]: t for t in document["testimonies"]}
    # Named after the testimony: the source file's name ("ines.mp4") may carry
    # the narrator's.
    assert exported["une-voix-enregistree"]["media"] == {
        "path": "media/une-voix-enregistree/une-voix-enregistree.mp4",
        "kind": "video",
        "duration": 6,
    }
    # Released as audio only, a video is heard as its sound alone.
    assert exported["un-son-sans-image"]["media"] == {
        "path": "media/un-son-sans-image/un-son-sans-image.ogg",
        "kind": "audio",
        "duration": 6,
    }
    assert "retire-du-site" not in exported


def test_public_export_is_a_valid_bundle_that_imports_into_an_empty_archive(
    demo_archive,
):
    document = bundle_export(public=True)
    validate_bundle(document)
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    wipe_archive()

    bundle_import(data=document, now=LATER)

    slugs = {t["slug"] for t in document["testimonies"]}
    assert set(Testimony.objects.values_list("slug", flat=True)) == slugs
    assert (
        set(
            Testimony.objects.visible_to_tier(Tier.PUBLIC).values_list(
                "slug", flat=True
            )
        )
        == slugs
    )
    assert bundle_export(public=True) == document


# --- Any transcript ---------------------------------------------------------------

SECRETS = ("Zorvex", "Quillane", "Brunmarck")
FILLER = (
    "on",
    "cliquait",
    "la",
    "nuit",
    "pour",
    "trois",
    "euros",
    "—",
    "et",
    "l'appli",
)


@st.composite
def transcripts(draw):
    """Segments at any finite times, every secret word under a redaction that
    may reach past it, and redactions that overlap or touch."""
    segments, redactions, clock = [], [], 0.0
    for index in range(draw(st.integers(1, 4))):
        words = draw(
            st.lists(st.sampled_from(FILLER + SECRETS), min_size=1, max_size=9)
        )
        text = " ".join(words)
        spans = []
        at = 0
        for word in words:
            if word in SECRETS:
                start = at - draw(st.integers(0, at))
                end = at + len(word) + draw(st.integers(0, len(text) - at - len(word)))
                spans.append((start, end))
            at += len(word) + 1
        for _ in range(draw(st.integers(0, 2))):
            start = draw(st.integers(0, len(text) - 1))
            spans.append((start, draw(st.integers(start + 1, len(text)))))
        for start, end in draw(st.permutations(spans)):
            redaction = {
                "segment": index,
                "start": start,
                "end": end,
                "reason": draw(st.sampled_from(("person", "employer", "other"))),
            }
            label = draw(st.sampled_from((None, "[retiré]", "[x]")))
            if label:
                redaction["label"] = label
            if draw(st.booleans()):
                silenced_from = draw(st.floats(0, 1e6))
                redaction["media_start"] = silenced_from
                redaction["media_end"] = draw(
                    st.floats(silenced_from, 2e6, exclude_min=True)
                )
            redactions.append(redaction)
        clock += draw(st.floats(0, 1e6, allow_nan=False, allow_infinity=False))
        length = draw(st.floats(0, 1e4, allow_nan=False, allow_infinity=False))
        segments.append(
            {
                "start": clock,
                "end": clock + length,
                "speaker": draw(st.sampled_from(("narrator", "interviewer", "other"))),
                "text": text,
            }
        )
    return segments, redactions


def transcript_bundle(segments: list, redactions: list) -> dict:
    return {
        "format": "testimony-bundle/1",
        "narrators": [
            {
                "key": "n",
                "public_name": "N.",
                "identity": "pseudonym",
                "job_types": [],
                "sensitive_terms": list(SECRETS),
            }
        ],
        "testimonies": [
            {
                "slug": "t",
                "title": "T",
                "narrator": "n",
                "language": "fr",
                "themes": [],
                "status": "published",
                "consent": [
                    {"scope": "public", "media": "none", "given_on": "2024-01-01"}
                ],
                "appearances": [],
                "segments": segments,
                "redactions": redactions,
            }
        ],
    }


@pytest.mark.django_db
@hypothesis_settings(max_examples=60)
@given(transcript=transcripts())
def test_any_transcript_exports_as_imported_and_its_secrets_never_go_public(
    media_root, transcript
):
    segments, redactions = transcript
    with transaction.atomic():
        bundle_import(data=transcript_bundle(segments, redactions), now=NOW)

        full = bundle_export(public=False)["testimonies"][0]
        public = json.dumps(bundle_export(public=True), ensure_ascii=False)

        assert full["segments"] == segments
        by_segment = sorted(redactions, key=lambda r: r["segment"])
        assert full["redactions"] == [
            {"label": default_label(r["reason"], "fr"), **r} for r in by_segment
        ]
        assert '"t"' in public  # the testimony is public ...
        for secret in SECRETS:  # ... and not one of its hidden words
            assert secret not in public
        transaction.set_rollback(True)


# --- The command -----------------------------------------------------------------


def test_export_command_writes_the_file_atomically(tmp_path, rich_archive):
    target = tmp_path / "out" / "archive.json"
    target.parent.mkdir()
    out = io.StringIO()

    call_command("export_bundle", str(target), stdout=out)

    assert json.loads(target.read_text("utf-8")) == bundle_export(public=False)
    assert sorted(p.name for p in target.parent.iterdir()) == ["archive.json", "media"]
    assert not list(target.parent.rglob("*.partial"))
    copied = target.parent / "media/une-voix-enregistree/une-voix-enregistree.mp4"
    assert copied.read_bytes() == VIDEO
    assert "(full backup, private fields included)" in out.getvalue()


def test_export_command_public_says_so_and_copies_only_released_media(
    tmp_path, rich_archive
):
    target = tmp_path / "out" / "public.json"
    target.parent.mkdir()
    out = io.StringIO()

    made_renditions()
    call_command("export_bundle", str(target), "--public", stdout=out)

    assert "(public)" in out.getvalue()
    assert json.loads(target.read_text("utf-8")) == bundle_export(public=True)
    copied = sorted(
        str(p.relative_to(target.parent))
        for p in target.parent.rglob("*")
        if p.is_file()
    )
    assert copied == [
        # The demo's recordings released to the public (the research-only
        # one stays out), then the two of the rich bundle's own.
        "media/a-solicitor-in-dublin/a-solicitor-in-dublin.ogg",
        "media/ce-que-les-images-laissent/ce-que-les-images-laissent.ogg",
        "media/livrer-sous-la-pluie/livrer-sous-la-pluie.ogg",
        "media/un-son-sans-image/un-son-sans-image.ogg",
        "media/une-voix-enregistree/une-voix-enregistree.mp4",
        "public.json",
    ]
    # The public renditions, never the originals.
    video = target.parent / "media/une-voix-enregistree/une-voix-enregistree.mp4"
    assert video.read_bytes() == b"public rendition of une-voix-enregistree"


def test_public_export_command_names_the_media_left_out_until_made(
    tmp_path, rich_archive
):
    target = tmp_path / "public.json"
    out = io.StringIO()
    call_command("export_bundle", str(target), "--public", stdout=out)
    assert not (tmp_path / "media").exists()
    assert (
        "The public renditions of a-solicitor-in-dublin, ce-que-les-images-laissent, "
        "livrer-sous-la-pluie, un-son-sans-image, une-voix-enregistree are not ready"
    ) in out.getvalue()
    made_renditions()
    out = io.StringIO()
    call_command("export_bundle", str(target), "--public", stdout=out)
    assert "not ready" not in out.getvalue()


def test_failed_export_leaves_no_partial_file_and_the_old_one_intact(
    tmp_path, rich_archive, monkeypatch
):
    target = tmp_path / "archive.json"
    target.write_text('{"format": "testimony-bundle/1"}\n', "utf-8")

    def unserialisable(*, public):
        document = {"format": "testimony-bundle/1", "testimonies": [], "x": object()}
        return document, []

    monkeypatch.setattr(export_command, "bundle_export_with_report", unserialisable)

    with pytest.raises(TypeError):
        call_command("export_bundle", str(target), stdout=io.StringIO())

    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["archive.json"]
    assert target.read_text("utf-8") == '{"format": "testimony-bundle/1"}\n'


def test_export_command_refuses_a_missing_folder(tmp_path, rich_archive):
    with pytest.raises(CommandError, match="no such folder"):
        call_command("export_bundle", str(tmp_path / "nowhere" / "a.json"))

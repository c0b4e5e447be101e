"""Import of testimony bundles: all or nothing, by the format's rules
(docs/design.md, "The bundle format")."""

import copy
import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from archive.settings import media_storages
from testimonies import gate
from testimonies.importers.bundle import (
    bundle_import,
    bundle_import_file,
    safe_media_path,
)
from testimonies.importers.validate import BundleError
from testimonies.management.commands.seed_demo import DEMO_BUNDLE
from testimonies.media import storage
from testimonies.models import (
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
)
from tests.media.signals import recording_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NOW = datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
ARCHIVE_MODELS = (
    JobType,
    Theme,
    Series,
    Episode,
    Narrator,
    Testimony,
    ConsentRecord,
    Appearance,
    Segment,
    Redaction,
)
KARIM_CODE = "Q5RZ-NNBX-W9ZM-MATD"
CAMILLE_CODE = "CS3V-5TJ2-R5QM-KHPB"
# Real recordings, a second long: the importer reads what each file is.
AUDIO = recording_bytes("audio")
VOICE = recording_bytes("audio", seed=1)
VIDEO = recording_bytes("video")


def code_hash(code: str) -> str:
    clear = code.replace("-", "").replace(" ", "").upper()
    return "sha256:" + hashlib.sha256(clear.encode()).hexdigest()


# --- Bundles -------------------------------------------------------------------


def existing_bundle() -> dict:
    """What the archive already holds before each malformed bundle arrives."""
    return {
        "format": "testimony-bundle/1",
        "job_types": [
            {
                "slug": "courier",
                "name": {"fr": "Livreur à vélo", "en": "Bike courier"},
                "isco": "9331",
            },
            {
                "slug": "content-moderator",
                "name": {"fr": "Modérateur de contenus", "en": "Content moderator"},
            },
        ],
        "themes": [
            {"slug": "organising", "name": {"fr": "S'organiser", "en": "Organising"}},
            {
                "slug": "unions",
                "name": {"fr": "Syndicats", "en": "Unions"},
                "parent": "organising",
            },
            {"slug": "trauma", "name": {"fr": "Traumatisme", "en": "Trauma"}},
        ],
        "series": [
            {
                "slug": "invisibles",
                "title": "Invisibles — Les travailleurs du clic",
                "broadcaster": "France TV Slash",
                "episodes": [
                    {"slug": "episode-1", "number": 1, "title": "Épisode 1"},
                    {
                        "slug": "episode-2",
                        "number": 2,
                        "title": "Épisode 2",
                        "duration": 1500.5,
                    },
                ],
            }
        ],
        "narrators": [
            {
                "key": "karim-b",
                "public_name": "Karim B.",
                "identity": "pseudonym",
                "job_types": ["courier"],
                "country": "FR",
                "region": "Nouvelle-Aquitaine",
                "reference_code": KARIM_CODE,
                "sensitive_terms": ["Livrello", "Steeve"],
                "private": {
                    "legal_name": "Nordine Haddouche",
                    "contact": "06 39 98 41 27",
                },
            }
        ],
        "testimonies": [
            {
                "slug": "livrer-sous-la-pluie",
                "title": "Livrer sous la pluie",
                "narrator": "karim-b",
                "language": "fr",
                "themes": ["unions"],
                "status": "published",
                "published_at": "2020-03-02T10:00:00Z",
                "consent": [
                    {"scope": "public", "media": "audio", "given_on": "2020-01-10"}
                ],
                "media": {"path": "media/pluie.mp3", "kind": "audio"},
                "appearances": [],
                "segments": [
                    {
                        "start": 0,
                        "end": 12.5,
                        "speaker": "narrator",
                        "text": "Je livrais pour Livrello, dix heures par jour.",
                    }
                ],
                "redactions": [
                    {"segment": 0, "start": 16, "end": 24, "reason": "employer"}
                ],
            }
        ],
    }


def incoming_bundle() -> dict:
    """A valid bundle on top of the existing one: every reused entry as stored,
    a new job type, theme, episode and narrator, and two testimonies, the first
    with an audio file beside the bundle."""
    data = existing_bundle()
    data["job_types"].append(
        {
            "slug": "micro-tasker",
            "name": {"fr": "Micro-travailleur", "en": "Micro-tasker"},
        }
    )
    data["themes"].append(
        {"slug": "data-automation", "name": {"fr": "Données", "en": "Data"}}
    )
    data["series"][0]["episodes"].append(
        {
            "slug": "episode-3",
            "number": 3,
            "title": "Épisode 3",
            "broadcast_on": "2020-02-14",
            "duration": 1380,
            "url": "https://www.france.tv/slash/invisibles/",
            "synopsis": {"fr": "Les modérateurs.", "en": "The moderators."},
        }
    )
    data["narrators"].append(
        {
            "key": "camille-r",
            "public_name": "Camille R.",
            "identity": "pseudonym",
            "descriptor": {"fr": "une modératrice", "en": "a moderator"},
            "job_types": ["content-moderator", "micro-tasker"],
            "country": "FR",
            "region": "Île-de-France",
            "birth_decade": 1990,
            "reference_code": CAMILLE_CODE,
            "sensitive_terms": ["Veritask"],
            "private": {
                "legal_name": "Aurélien Dumoulinet",
                "contact": "a.dumoulinet@example.org",
                "notes": "Fictional person.",
            },
        }
    )
    data["testimonies"] = [
        {
            "slug": "la-pluie-encore",
            "title": "La pluie, encore",
            "narrator": "karim-b",
            "language": "fr",
            "themes": ["unions", "data-automation"],
            "status": "published",
            "consent": [
                {"scope": "public", "media": "audio", "given_on": "2024-01-10"}
            ],
            "media": {"path": "media/voix.mp3", "kind": "audio", "duration": 1},
            "appearances": [
                {"episode": "invisibles/episode-3", "start": 12, "end": 40}
            ],
            "segments": [
                {"start": 0, "end": 4, "speaker": "interviewer", "text": "Et après ?"},
                {
                    "start": 4,
                    "end": 9.25,
                    "speaker": "narrator",
                    "text": "Steeve m'a montré comment tenir.",
                },
            ],
            "redactions": [
                {"segment": 1, "start": 0, "end": 6, "reason": "third_party"}
            ],
        },
        {
            "slug": "les-images",
            "title": "Les images qui restent",
            "narrator": "camille-r",
            "language": "fr",
            "place": "Île-de-France",
            "summary": "Une modératrice raconte ses nuits.",
            "themes": ["trauma"],
            "content_warnings": ["violence"],
            "status": "published",
            "published_at": "2024-02-01T09:00:00+01:00",
            "consent": [
                {"scope": "research", "media": "none", "given_on": "2023-12-01"},
                {"scope": "public", "media": "none", "given_on": "2024-01-20"},
            ],
            "appearances": [
                {
                    "episode": "invisibles/episode-1",
                    "start": 100,
                    "end": 130.5,
                    "note": "Même métier.",
                }
            ],
            "segments": [
                {
                    "start": 0,
                    "end": 10,
                    "speaker": "narrator",
                    "text": "Chez Veritask, on modérait la nuit.",
                },
                {
                    "start": 10,
                    "end": 20,
                    "speaker": "narrator",
                    "text": "Les images restaient.",
                },
                {
                    "start": 20,
                    "end": 30,
                    "speaker": "narrator",
                    "text": "J'ai fini par partir.",
                },
            ],
            "redactions": [
                {
                    "segment": 0,
                    "start": 5,
                    "end": 13,
                    "reason": "employer",
                    "label": "[employeur]",
                }
            ],
        },
    ]
    return data


def write_bundle(folder: Path, data: dict | bytes, name: str = "bundle.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
    return path


def put_media(folder: Path, relative: str, content: bytes = AUDIO) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def stored_files() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def stored_as(*slugs: str) -> list[str]:
    """Where the recordings of these testimonies are kept: the originals' folder."""
    return sorted(
        f"originals/{Testimony.objects.get(slug=slug).media.name}" for slug in slugs
    )


def snapshot() -> dict:
    """Every row of the archive's tables and every stored media file."""
    state: dict = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in ARCHIVE_MODELS
    }
    state["narrator job types"] = list(
        Narrator.job_types.through.objects.order_by("pk").values()
    )
    state["testimony themes"] = list(
        Testimony.themes.through.objects.order_by("pk").values()
    )
    state["files"] = stored_files()
    return state


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ARCHIVE_MODELS}


@pytest.fixture
def media_root(settings, tmp_path):
    """Media storages of this test's own."""
    root = tmp_path / "media-root"
    settings.MEDIA_ROOT = str(root)
    settings.STORAGES = {**settings.STORAGES, **media_storages({}, root)}
    root.mkdir()
    return root


@pytest.fixture
def existing(tmp_path, media_root):
    folder = tmp_path / "existing"
    put_media(folder, "media/pluie.mp3")
    bundle_import_file(write_bundle(folder, existing_bundle()), now=NOW)
    return existing_bundle()


def masked(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Public text as the policy words it, computed here code point by code
    point: each run of redacted code points (spans that overlap or touch make
    one run) is replaced by the label of the span that starts first in it, the
    first listed among those that start together."""
    covered = {offset for start, end, _label in spans for offset in range(start, end)}
    pieces, offset = [], 0
    while offset < len(text):
        if offset not in covered:
            pieces.append(text[offset])
            offset += 1
            continue
        run_start = offset
        while offset in covered:
            offset += 1
        first = min(
            (start, index)
            for index, (start, _end, _label) in enumerate(spans)
            if run_start <= start < offset
        )
        pieces.append(spans[first[1]][2])
    return "".join(pieces)


@pytest.fixture
def demo() -> dict:
    return json.loads(DEMO_BUNDLE.read_text("utf-8"))


# --- The demo bundle -----------------------------------------------------------


def test_demo_bundle_imports_every_entry_it_holds(demo, media_root):
    report = bundle_import_file(DEMO_BUNDLE, now=NOW)

    testimonies = demo["testimonies"]
    assert counts() == {
        "JobType": len(demo["job_types"]),
        "Theme": len(demo["themes"]),
        "Series": len(demo["series"]),
        "Episode": sum(len(s["episodes"]) for s in demo["series"]),
        "Narrator": len(demo["narrators"]),
        "Testimony": len(testimonies),
        "ConsentRecord": sum(len(t["consent"]) for t in testimonies),
        "Appearance": sum(len(t["appearances"]) for t in testimonies),
        "Segment": sum(len(t["segments"]) for t in testimonies),
        "Redaction": sum(len(t["redactions"]) for t in testimonies),
    }
    assert report.created["testimonies"] == len(testimonies)
    assert report.created["segments"] == Segment.objects.count()
    assert report.reused == {}


def test_demo_segments_store_their_text_with_the_redactions_applied(demo, media_root):
    bundle_import_file(DEMO_BUNDLE, now=NOW)

    for item in demo["testimonies"]:
        segments = list(
            Segment.objects.filter(testimony__slug=item["slug"]).order_by("position")
        )
        assert [s.text for s in segments] == [s["text"] for s in item["segments"]]
        for segment in segments:
            spans = [
                (r.start, r.end, r.label) for r in segment.redactions.order_by("pk")
            ]
            assert segment.public_text == masked(segment.text, spans)
    # Overlapping spans merge under the label of the one that starts first.
    merged = Segment.objects.get(
        testimony__slug="ce-que-les-images-laissent", position=3
    )
    assert "[projet interne]" in merged.public_text
    assert "Orchidée" not in merged.public_text
    assert "Saint-Ouen" not in merged.public_text


def test_redacted_words_are_absent_from_the_public_text(demo, media_root):
    bundle_import_file(DEMO_BUNDLE, now=NOW)

    segment = Segment.objects.get(testimony__slug="livrer-sous-la-pluie", position=9)
    assert "Steeve Mbala" in segment.text
    assert "Steeve Mbala" not in segment.public_text
    assert "[collègue]" in segment.public_text


def test_label_defaults_by_reason_and_the_testimony_language(demo, media_root):
    bundle_import_file(DEMO_BUNDLE, now=NOW)

    french = Redaction.objects.get(
        segment__testimony__slug="livrer-sous-la-pluie", segment__position=1
    )
    english = Redaction.objects.get(
        segment__testimony__slug="a-solicitor-in-dublin",
        segment__position=9,
    )
    assert (french.reason, french.label) == ("person", "[nom retiré]")
    assert (english.reason, english.label) == ("person", "[name removed]")
    assert "[nom retiré]" in french.segment.public_text
    assert "[name removed]" in english.segment.public_text
    given = Redaction.objects.get(
        segment__testimony__slug="livrer-sous-la-pluie", start=203
    )
    assert given.label == "[plateforme]"


def test_published_testimony_without_published_at_gets_the_time_of_import(
    demo, tmp_path, media_root
):
    published = demo["testimonies"][0]
    assert published["status"] == "published"
    del published["published_at"]

    bundle_import(data=demo, base_dir=DEMO_BUNDLE.parent, now=NOW)

    assert Testimony.objects.get(slug=published["slug"]).published_at == NOW
    kept = demo["testimonies"][1]
    assert Testimony.objects.get(
        slug=kept["slug"]
    ).published_at == datetime.fromisoformat(kept["published_at"])
    draft = next(t for t in demo["testimonies"] if t["status"] == "draft")
    assert Testimony.objects.get(slug=draft["slug"]).published_at is None


def test_testimony_job_types_are_its_narrators(demo, media_root):
    bundle_import_file(DEMO_BUNDLE, now=NOW)

    narrators = {n["key"]: n for n in demo["narrators"]}
    for item in demo["testimonies"]:
        testimony = Testimony.objects.get(slug=item["slug"])
        assert sorted(testimony.narrator.job_types.values_list("slug", flat=True)) == (
            sorted(narrators[item["narrator"]]["job_types"])
        )
    couriers = Testimony.objects.filter(narrator__job_types__slug="courier")
    assert {t.narrator.key for t in couriers} == {
        n["key"] for n in demo["narrators"] if "courier" in n["job_types"]
    }


def test_reference_code_is_stored_only_as_its_sha256_hash(demo, media_root):
    bundle_import_file(DEMO_BUNDLE, now=NOW)

    karim = Narrator.objects.get(key="karim-b")
    assert karim.reference_code_hash == code_hash(KARIM_CODE)
    assert karim.reference_code_hash.startswith("sha256:")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Narrator._meta.db_table}")
        raw = repr(cursor.fetchall())
    for narrator in demo["narrators"]:
        code = narrator["reference_code"]
        assert code not in raw
        assert code.replace("-", "") not in raw


def test_legal_identity_is_encrypted_at_rest(demo, media_root):
    bundle_import_file(DEMO_BUNDLE, now=NOW)

    table = Narrator._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key, legal_name, contact, private_notes FROM {table} ORDER BY key"
        )
        rows = cursor.fetchall()
    assert len(rows) == len(demo["narrators"])
    private = {n["key"]: n["private"] for n in demo["narrators"]}
    for key, legal_name, contact, notes in rows:
        assert legal_name.startswith("gAAAA")  # a Fernet token
        assert private[key]["legal_name"] not in legal_name
        assert private[key]["contact"] not in contact
        assert private[key]["notes"][:20] not in notes
    # Read through the model, it is the plaintext again.
    karim = Narrator.objects.get(key="karim-b")
    assert karim.legal_name == "Nordine Haddouche"


# --- Media ---------------------------------------------------------------------


SERVER_NAME = re.compile(r"[0-9a-f]{32}\.wav")


def test_media_beside_the_bundle_is_stored_with_its_testimony(tmp_path, existing):
    folder = tmp_path / "incoming"
    put_media(folder, "media/voix.mp3", VOICE)

    bundle_import_file(write_bundle(folder, incoming_bundle()), now=NOW)

    testimony = Testimony.objects.get(slug="la-pluie-encore")
    # Under a name of the server's, after the container read (WAV, whatever
    # the file was called), in the originals' storage.
    assert SERVER_NAME.fullmatch(testimony.media.name)
    assert storage.originals().exists(testimony.media.name)
    assert (testimony.media_kind, testimony.media_duration) == ("audio", 1.0)
    assert testimony.media_sha256 == hashlib.sha256(VOICE).hexdigest()
    assert testimony.media_size == len(VOICE)
    with testimony.media.open("rb") as stored:
        assert stored.read() == VOICE
    # Without a duration in the bundle, the one read from the media is stored.
    earlier = Testimony.objects.get(slug="livrer-sous-la-pluie")
    assert SERVER_NAME.fullmatch(earlier.media.name)
    assert earlier.media_duration == 1.0
    assert Testimony.objects.get(slug="les-images").media.name == ""


def test_stored_media_of_an_earlier_testimony_is_deleted_when_a_later_one_fails(
    tmp_path, existing, monkeypatch
):
    folder = tmp_path / "incoming"
    put_media(folder, "media/voix.mp3")
    data = incoming_bundle()
    data["testimonies"][1]["place"] = "Veritask, Saint-Denis"
    seen_while_importing: list[list[str]] = []
    hits_in = gate.hits_in

    def spy(*args):
        seen_while_importing.append(stored_files())
        return hits_in(*args)

    monkeypatch.setattr(gate, "hits_in", spy)
    before = snapshot()

    with pytest.raises(BundleError) as caught:
        bundle_import_file(write_bundle(folder, data), now=NOW)

    assert caught.value.path == "testimonies[1].status"
    # The first testimony's file was written before the second one failed ...
    assert len(seen_while_importing[-1]) == len(before["files"]) + 1
    # ... and taken back with everything else.
    assert not Testimony.objects.filter(slug="la-pluie-encore").exists()
    assert snapshot() == before


def test_media_never_overwrites_a_file_already_in_the_storage(
    tmp_path, existing, monkeypatch
):
    # The server's next name is already taken (a random name met twice).
    taken = "0" * 32 + ".wav"
    monkeypatch.setattr(storage, "server_name", lambda extension: taken)
    stale = Path(settings.MEDIA_ROOT) / "originals" / taken
    stale.write_bytes(b"left by someone else")
    folder = tmp_path / "incoming"
    put_media(folder, "media/voix.mp3", VOICE)

    bundle_import_file(write_bundle(folder, incoming_bundle()), now=NOW)

    media = Testimony.objects.get(slug="la-pluie-encore").media
    assert media.name != taken
    assert media.name.startswith("0" * 32 + "_")
    with media.open("rb") as stored:
        assert stored.read() == VOICE
    assert stale.read_bytes() == b"left by someone else"


def test_media_over_the_size_limit_is_refused_and_nothing_is_kept(
    tmp_path, existing, settings
):
    settings.ARCHIVE_MEDIA_MAX_BYTES = len(VOICE) - 1
    folder = tmp_path / "incoming"
    put_media(folder, "media/voix.mp3", VOICE)
    before = snapshot()

    with pytest.raises(BundleError) as caught:
        bundle_import_file(write_bundle(folder, incoming_bundle()), now=NOW)

    assert caught.value.path == "testimonies[0].media.path"
    assert "media file 'media/voix.mp3' is refused: The file is too large" in (
        caught.value.message
    )
    assert str(len(VOICE)) in caught.value.message
    assert snapshot() == before


def test_a_silenced_range_is_stored_with_its_redaction(tmp_path, existing):
    folder = tmp_path / "incoming"
    put_media(folder, "media/voix.mp3", VOICE)
    data = incoming_bundle()
    data["testimonies"][0]["redactions"][0].update(media_start=0.25, media_end=1)

    bundle_import_file(write_bundle(folder, data), now=NOW)

    placed = Redaction.objects.get(segment__testimony__slug="la-pluie-encore")
    assert (placed.media_start, placed.media_end) == (0.25, 1.0)
    assert placed.media_range() == (0.25, 1.0)
    # Without them, a redaction silences its segment's whole range.
    unplaced = Redaction.objects.filter(segment__testimony__slug="les-images")[0]
    assert (unplaced.media_start, unplaced.media_end) == (None, None)
    assert unplaced.media_range() == (unplaced.segment.start, unplaced.segment.end)


def test_a_long_file_name_is_stored_under_a_short_name_of_the_servers(
    tmp_path, existing
):
    folder = tmp_path / "incoming"
    relative = "media/" + "v" * 240 + ".mp3"
    put_media(folder, relative)
    data = incoming_bundle()
    data["testimonies"][0]["media"]["path"] = relative

    bundle_import_file(write_bundle(folder, data), now=NOW)

    assert SERVER_NAME.fullmatch(
        Testimony.objects.get(slug="la-pluie-encore").media.name
    )


def test_media_needs_the_bundles_folder(existing):
    before = snapshot()

    with pytest.raises(BundleError) as caught:
        bundle_import(data=incoming_bundle(), now=NOW)

    assert caught.value.path == "testimonies[0].media.path"
    assert "import from a file" in caught.value.message
    assert snapshot() == before


@pytest.mark.parametrize(
    "relative",
    ["media/voix.mp3", "./media/voix.mp3", "media/./voix.mp3"],
)
def test_safe_media_path_accepts_files_inside_the_folder(tmp_path, relative):
    expected = put_media(tmp_path, "media/voix.mp3")

    assert safe_media_path(tmp_path, relative, "p").samefile(expected)


# --- Malformed bundles ---------------------------------------------------------


class Case(NamedTuple):
    mutate: object  # (data, folder, outside) -> bytes | None
    path: str
    message: str
    absent: tuple[str, ...] = ()


def change(*keys, value):
    """A mutation setting one value of the incoming bundle."""

    def mutate(data, folder, outside):
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return mutate


def t1(**fields):
    """A mutation of the second testimony, after a valid first one."""

    def mutate(data, folder, outside):
        data["testimonies"][1].update(fields)

    return mutate


def append_theme_cycle(data, folder, outside):
    data["themes"] += [
        {"slug": "cycle-a", "name": {"fr": "A", "en": "A"}, "parent": "cycle-b"},
        {"slug": "cycle-b", "name": {"fr": "B", "en": "B"}, "parent": "cycle-a"},
    ]


def new_episode_takes_a_stored_number(data, folder, outside):
    episodes = data["series"][0]["episodes"]
    # Episode 1 is stored but left out of this bundle: only the database knows.
    del episodes[0]
    episodes[-1]["number"] = 1


def second_narrator_with_a_taken_hash(data, folder, outside):
    data["narrators"].append(
        {
            "key": "someone-else",
            "public_name": "Quelqu'un",
            "identity": "pseudonym",
            "job_types": [],
            "reference_code_hash": code_hash(CAMILLE_CODE),
        }
    )


def legal_name_in_a_segment(data, folder, outside):
    # Case and accents do not hide a part of the legal name.
    data["testimonies"][1]["segments"][2]["text"] = "On m'appelait AURELIEN, là-bas."


def gate_refusal_before_an_unknown_episode(data, folder, outside):
    # Two faults in one testimony: status comes before appearances in it.
    legal_name_in_a_segment(data, folder, outside)
    data["testimonies"][1]["appearances"] = [
        {"episode": "night-shifts/no-such-episode", "start": 1, "end": 2}
    ]


def label_reintroduces_a_sensitive_term(data, folder, outside):
    data["testimonies"][1]["redactions"][0]["label"] = "[Veritask]"


def public_name_holds_the_legal_name(data, folder, outside):
    data["narrators"][1]["public_name"] = "Camille Dumoulinet"


def media_link(data, folder, outside):
    (folder / "media").mkdir(parents=True, exist_ok=True)
    (folder / "media" / "link.mp3").symlink_to(outside / "secret.mp3")
    data["testimonies"][0]["media"]["path"] = "media/link.mp3"


def media_folder_link(data, folder, outside):
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    data["testimonies"][0]["media"]["path"] = "linked/secret.mp3"


def media_absolute(data, folder, outside):
    # Absolute, even though it names the very file beside the bundle.
    data["testimonies"][0]["media"]["path"] = str(folder / "media" / "voix.mp3")


def silenced(start, end, *, testimony=0):
    """A mutation giving the testimony's first redaction a silenced range;
    None leaves that end out."""

    def mutate(data, folder, outside):
        redaction = data["testimonies"][testimony]["redactions"][0]
        for key, value in (("media_start", start), ("media_end", end)):
            if value is not None:
                redaction[key] = value

    return mutate


def silenced_beyond_the_probed_recording(data, folder, outside):
    # The bundle declares no duration: the one read from the file holds.
    del data["testimonies"][0]["media"]["duration"]
    silenced(0.25, 1.5)(data, folder, outside)


def media_not_a_recording(data, folder, outside):
    put_media(folder, "media/notes.mp3", b"ID3\x03\x00 words, not sound")
    data["testimonies"][0]["media"]["path"] = "media/notes.mp3"


def media_cut_off(data, folder, outside):
    put_media(folder, "media/cut.wav", AUDIO[: len(AUDIO) // 2])
    data["testimonies"][0]["media"]["path"] = "media/cut.wav"


def media_video_declared_audio(data, folder, outside):
    put_media(folder, "media/film.mp4", VIDEO)
    data["testimonies"][0]["media"]["path"] = "media/film.mp4"


def media_audio_declared_video(data, folder, outside):
    data["testimonies"][0]["media"]["kind"] = "video"


def nan_in_a_segment(data, folder, outside):
    data["testimonies"][1]["segments"][0]["start"] = float("nan")
    return json.dumps(data).encode()


def invalid_utf8(data, folder, outside):
    text = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    return text.replace(b"Les images restaient", b"Les images \xe9taient", 1)


def unknown_key_deep_inside(data, folder, outside):
    data["testimonies"][1]["redactions"][0]["colour"] = "black"


def redaction_beyond_the_text(data, folder, outside):
    data["testimonies"][1]["redactions"][0]["end"] = 40


def both_reference_codes(data, folder, outside):
    data["narrators"][1]["reference_code_hash"] = code_hash(CAMILLE_CODE)


def empty_file(data, folder, outside):
    return b""


BEYOND_FLOATS = "1" + "0" * 400  # in the JSON text; 10**400 > 1.8e308
SHOWN_BEYOND_FLOATS = "1" + "0" * 56 + "..."
LONG_MEDIA_PATH = "media/" + "v" * 300 + ".mp3"


def raw_number(*keys, text):
    """A mutation writing `text` verbatim as one number of the JSON document."""

    def mutate(data, folder, outside):
        change(*keys, value="@@NUMBER@@")(data, folder, outside)
        return json.dumps(data).replace('"@@NUMBER@@"', text).encode()

    return mutate


CASES = {
    # Entries the database holds, and their copies in the bundle
    "gate-refusal-reported-before-a-later-unknown-episode": Case(
        gate_refusal_before_an_unknown_episode,
        "testimonies[1].status",
        "publication refused",
    ),
    "testimony-slug-exists": Case(
        t1(slug="livrer-sous-la-pluie"),
        "testimonies[1].slug",
        "a testimony 'livrer-sous-la-pluie' already exists; nothing is overwritten",
    ),
    "unknown-narrator": Case(
        t1(narrator="nobody"),
        "testimonies[1].narrator",
        "unknown narrator 'nobody'",
    ),
    "unknown-theme": Case(
        t1(themes=["trauma", "nowhere"]),
        "testimonies[1].themes[1]",
        "unknown theme 'nowhere'",
    ),
    "unknown-job-type-of-a-narrator": Case(
        change("narrators", 1, "job_types", value=["content-moderator", "astronaut"]),
        "narrators[1].job_types[1]",
        "unknown job type 'astronaut'",
    ),
    "unknown-episode": Case(
        t1(appearances=[{"episode": "invisibles/episode-9", "start": 1, "end": 2}]),
        "testimonies[1].appearances[0].episode",
        "unknown episode 'invisibles/episode-9'",
    ),
    "reused-job-type-name-differs": Case(
        change("job_types", 0, "name", "fr", value="Coursier"),
        "job_types[0].name.fr",
        "differs from the stored job type ('Coursier' in the bundle, "
        "'Livreur à vélo' stored)",
    ),
    "reused-job-type-isco-differs": Case(
        change("job_types", 0, "isco", value="9332"),
        "job_types[0].isco",
        "differs from the stored job type",
    ),
    "reused-theme-name-differs": Case(
        change("themes", 2, "name", "en", value="Traumas"),
        "themes[2].name.en",
        "differs from the stored theme",
    ),
    "reused-theme-parent-differs": Case(
        change("themes", 1, "parent", value="trauma"),
        "themes[1].parent",
        "differs from the stored theme ('trauma' in the bundle, 'organising' stored)",
    ),
    "reused-series-title-differs": Case(
        change("series", 0, "title", value="Invisibles"),
        "series[0].title",
        "differs from the stored series",
    ),
    "reused-episode-number-differs": Case(
        change("series", 0, "episodes", 1, "number", value=5),
        "series[0].episodes[1].number",
        "differs from the stored episode (5 in the bundle, 2 stored)",
    ),
    "new-episode-takes-a-stored-number": Case(
        new_episode_takes_a_stored_number,
        "series[0].episodes[1].number",
        "episode number 1 is already taken by invisibles/episode-1",
    ),
    "reused-narrator-public-name-differs": Case(
        change("narrators", 0, "public_name", value="Karim"),
        "narrators[0].public_name",
        "differs from the stored narrator ('Karim' in the bundle, 'Karim B.' stored)",
    ),
    "reused-narrator-legal-name-differs": Case(
        change("narrators", 0, "private", "legal_name", value="Nordine Haddou"),
        "narrators[0].private.legal_name",
        "differs from the stored narrator; nothing is overwritten",
        absent=("Nordine", "Haddou"),
    ),
    "reused-narrator-reference-code-differs": Case(
        change("narrators", 0, "reference_code", value="AAAA-BBBB-CCCC-DDDD"),
        "narrators[0].reference_code",
        "differs from the stored narrator; nothing is overwritten",
        absent=("AAAA", "sha256"),
    ),
    "reused-narrator-job-types-differ": Case(
        change("narrators", 0, "job_types", value=["courier", "micro-tasker"]),
        "narrators[0].job_types",
        "differs from the stored narrator",
    ),
    "reference-code-of-another-narrator": Case(
        # Karim's code, written differently: the same code all the same.
        change("narrators", 1, "reference_code", value="q5rz nnbx w9zm matd"),
        "narrators[1].reference_code",
        "this reference code belongs to another narrator",
        absent=("karim",),
    ),
    "reference-code-hash-taken-in-the-same-bundle": Case(
        second_narrator_with_a_taken_hash,
        "narrators[2].reference_code_hash",
        "this reference code belongs to another narrator",
    ),
    "theme-parent-cycle": Case(
        append_theme_cycle,
        "themes[5].parent",
        "theme 'cycle-b' would be its own ancestor",
    ),
    "new-theme-with-an-unknown-parent": Case(
        change("themes", 3, "parent", value="nowhere"),
        "themes[3].parent",
        "unknown theme 'nowhere'",
    ),
    # The publication gate, on the second testimony
    "gate-legal-name-part-in-a-segment": Case(
        legal_name_in_a_segment,
        "testimonies[1].status",
        "segments[2] (at 20 s), offset 14: legal name",
        absent=("Aurélien", "AURELIEN", "Dumoulinet"),
    ),
    "gate-email-in-summary": Case(
        t1(summary="Écrire à camille.r@example.net pour la joindre."),
        "testimonies[1].status",
        "summary, offset 9: e-mail address 'camille.r@example.net'",
    ),
    "gate-phone-in-title": Case(
        t1(title="Appelez le 06 12 34 56 78"),
        "testimonies[1].status",
        "title, offset 11: phone number '06 12 34 56 78'",
    ),
    "gate-sensitive-term-in-place": Case(
        t1(place="Veritask, Saint-Denis"),
        "testimonies[1].status",
        "place, offset 0: sensitive term 'Veritask'",
    ),
    "gate-legal-name-in-a-pseudonyms-public-name": Case(
        public_name_holds_the_legal_name,
        "testimonies[1].status",
        "narrator.public_name, offset 8: legal name",
        absent=("Dumoulinet",),
    ),
    "gate-sensitive-term-in-an-appearance-note": Case(
        t1(
            appearances=[
                {
                    "episode": "invisibles/episode-1",
                    "start": 1,
                    "end": 2,
                    "note": "veritask",
                }
            ]
        ),
        "testimonies[1].status",
        "appearances[0].note, offset 0: sensitive term 'veritask'",
    ),
    "gate-sensitive-term-brought-back-by-a-label": Case(
        label_reintroduces_a_sensitive_term,
        "testimonies[1].status",
        "segments[0] (at 0 s), offset 6: sensitive term 'Veritask'",
    ),
    # Media beside the bundle (the first testimony, whose own file is valid)
    "media-path-leaves-the-folder": Case(
        change("testimonies", 0, "media", "path", value="../outside/secret.mp3"),
        "testimonies[0].media.path",
        "media path '../outside/secret.mp3' leaves the bundle's folder",
    ),
    "media-path-absolute": Case(
        media_absolute,
        "testimonies[0].media.path",
        "must be relative to the bundle",
    ),
    "media-path-through-a-file-link": Case(
        media_link,
        "testimonies[0].media.path",
        "media path 'media/link.mp3' goes through a symbolic link",
    ),
    "media-path-through-a-folder-link": Case(
        media_folder_link,
        "testimonies[0].media.path",
        "media path 'linked/secret.mp3' goes through a symbolic link",
    ),
    "media-file-missing": Case(
        change("testimonies", 0, "media", "path", value="media/absent.mp3"),
        "testimonies[0].media.path",
        "media file 'media/absent.mp3' not found beside the bundle",
    ),
    "media-path-is-the-folder-itself": Case(
        change("testimonies", 0, "media", "path", value="."),
        "testimonies[0].media.path",
        "media file '.' not found beside the bundle",
    ),
    "silenced-beyond-the-declared-duration": Case(
        silenced(0.5, 1.25),
        "testimonies[0].redactions[0].media_end",
        "beyond the media's duration (1.25 > 1)",
    ),
    "silenced-beyond-the-recording-read": Case(
        silenced_beyond_the_probed_recording,
        "testimonies[0].redactions[0].media_end",
        "beyond the end of the recording (1.5 > 1 s)",
    ),
    "silenced-range-ending-before-it-starts": Case(
        silenced(0.75, 0.25),
        "testimonies[0].redactions[0].media_end",
        "must be after media_start (0.25 <= 0.75)",
    ),
    "silenced-range-start-alone": Case(
        silenced(0.25, None),
        "testimonies[0].redactions[0].media_start",
        'needs "media_end" beside it',
    ),
    "silenced-range-end-alone": Case(
        silenced(None, 0.5, testimony=1),
        "testimonies[1].redactions[0].media_end",
        'needs "media_start" beside it',
    ),
    "media-not-a-recording": Case(
        media_not_a_recording,
        "testimonies[0].media.path",
        "media file 'media/notes.mp3' is refused: The file is not an audio or "
        "video recording that can be read.",
    ),
    "media-cut-off": Case(
        media_cut_off,
        "testimonies[0].media.path",
        "media file 'media/cut.wav' is refused: The file is cut off",
    ),
    "media-video-declared-audio": Case(
        media_video_declared_audio,
        "testimonies[0].media.kind",
        "declared 'audio', but media file 'media/film.mp4' is 'video'",
    ),
    "media-audio-declared-video": Case(
        media_audio_declared_video,
        "testimonies[0].media.kind",
        "declared 'video', but media file 'media/voix.mp3' is 'audio'",
    ),
    "media-duration-other-than-the-files": Case(
        change("testimonies", 0, "media", "duration", value=2.5),
        "testimonies[0].media.duration",
        "declared 2.5 s, but media file 'media/voix.mp3' lasts 1 s",
    ),
    # What the file itself holds
    "json-with-nan": Case(
        nan_in_a_segment,
        "testimonies[1].segments[0].start",
        "NaN is not allowed",
    ),
    "invalid-utf8": Case(invalid_utf8, "$", "not valid UTF-8 at line"),
    "empty-file": Case(empty_file, "$", "invalid JSON at line 1, column 1"),
    "unknown-key-deep-inside": Case(
        unknown_key_deep_inside,
        "testimonies[1].redactions[0]",
        'unknown key "colour"',
    ),
    "wrong-format": Case(
        change("format", value="testimony-bundle/2"),
        "format",
        'must be "testimony-bundle/1"',
    ),
    "redaction-beyond-the-text": Case(
        redaction_beyond_the_text,
        "testimonies[1].redactions[0].end",
        "beyond the segment's text (40 > 35)",
    ),
    "both-reference-codes": Case(
        both_reference_codes,
        "narrators[1]",
        '"reference_code" and "reference_code_hash" cannot both be given',
    ),
    # A narrator that is not an object, integers the database cannot store and
    # reference codes that normalise to too little
    "narrator-not-an-object": Case(
        change("narrators", 1, value="camille-r"),
        "narrators[1]",
        'must be an object, not "camille-r"',
    ),
    "narrator-null": Case(
        change("narrators", 1, value=None),
        "narrators[1]",
        "must be an object, not null",
    ),
    "birth-decade-beyond-float-range": Case(
        raw_number("narrators", 1, "birth_decade", text=BEYOND_FLOATS),
        "narrators[1].birth_decade",
        f"must be at most 2100, not {SHOWN_BEYOND_FLOATS}",
    ),
    "episode-number-beyond-float-range": Case(
        raw_number("series", 0, "episodes", 2, "number", text=BEYOND_FLOATS),
        "series[0].episodes[2].number",
        f"must be at most 2147483647, not {SHOWN_BEYOND_FLOATS}",
    ),
    "episode-number-beyond-its-column": Case(
        change("series", 0, "episodes", 2, "number", value=2**31),
        "series[0].episodes[2].number",
        "must be at most 2147483647, not 2147483648",
    ),
    "redaction-segment-beyond-float-range": Case(
        raw_number("testimonies", 1, "redactions", 0, "segment", text=BEYOND_FLOATS),
        "testimonies[1].redactions[0].segment",
        f"must be at most 2147483647, not {SHOWN_BEYOND_FLOATS}",
    ),
    "redaction-start-beyond-float-range": Case(
        raw_number("testimonies", 1, "redactions", 0, "start", text=BEYOND_FLOATS),
        "testimonies[1].redactions[0].start",
        f"must be at most 2147483647, not {SHOWN_BEYOND_FLOATS}",
    ),
    "redaction-end-beyond-float-range": Case(
        raw_number("testimonies", 1, "redactions", 0, "end", text=BEYOND_FLOATS),
        "testimonies[1].redactions[0].end",
        f"must be at most 2147483647, not {SHOWN_BEYOND_FLOATS}",
    ),
    "reference-code-a-dash": Case(
        change("narrators", 1, "reference_code", value="\u2014"),
        "narrators[1].reference_code",
        "must hold at least 16 letters or digits once spaces and dashes are removed",
    ),
    "reference-code-of-15-characters-on-a-reused-narrator": Case(
        # Refused before it is compared with the stored narrator's.
        change("narrators", 0, "reference_code", value="Q5RZ-NNBX-W9ZM-MAT"),
        "narrators[0].reference_code",
        "must hold at least 16 letters or digits once spaces and dashes are removed",
        absent=("Q5RZ",),
    ),
    "reference-code-with-full-stops": Case(
        change("narrators", 1, "reference_code", value="CS3V.5TJ2.R5QM.KHPB"),
        "narrators[1].reference_code",
        "must hold only letters or digits once spaces and dashes are removed",
        absent=("CS3V",),
    ),
    "media-path-with-a-name-too-long-for-the-file-system": Case(
        change("testimonies", 0, "media", "path", value=LONG_MEDIA_PATH),
        "testimonies[0].media.path",
        f"media path {LONG_MEDIA_PATH!r} cannot be read: File name too long",
    ),
}


def test_incoming_bundle_is_valid_on_top_of_the_existing_one(tmp_path, existing):
    """The control for the malformed cases: each fails by its one change only."""
    folder = tmp_path / "incoming"
    put_media(folder, "media/voix.mp3")

    report = bundle_import_file(write_bundle(folder, incoming_bundle()), now=NOW)

    assert report.reused == {
        "job types": 2,
        "themes": 3,
        "series": 1,
        "episodes": 2,
        "narrators": 1,
    }
    assert report.created["testimonies"] == 2
    assert Testimony.objects.get(slug="la-pluie-encore").published_at == NOW
    assert stored_files() == stored_as("la-pluie-encore", "livrer-sous-la-pluie")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_malformed_bundle_names_its_first_bad_value_and_changes_nothing(
    case, tmp_path, existing
):
    folder = tmp_path / "incoming"
    outside = tmp_path / "outside"
    put_media(folder, "media/voix.mp3")
    put_media(outside, "secret.mp3", VOICE)
    data = incoming_bundle()
    raw = case.mutate(data, folder, outside)
    path = write_bundle(folder, data if raw is None else raw)
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        call_command("import_bundle", str(path))

    error = caught.value.__cause__
    assert isinstance(error, BundleError)
    assert error.path == case.path
    assert case.message in error.message
    for secret in case.absent:
        assert secret.lower() not in error.message.lower()
    assert str(caught.value) == f"{path}: {error}; nothing was imported"
    assert snapshot() == before


def test_enough_distinct_malformed_bundles_are_checked():
    assert len(CASES) >= 25
    assert len({(case.path, case.message) for case in CASES.values()}) == len(CASES)


def test_missing_bundle_file_is_refused_by_the_command(tmp_path, existing):
    before = snapshot()
    missing = tmp_path / "nowhere" / "bundle.json"

    with pytest.raises(CommandError) as caught:
        call_command("import_bundle", str(missing))

    assert str(caught.value).startswith(f"{missing}: $: cannot read {missing}")
    assert str(caught.value).endswith("; nothing was imported")
    assert snapshot() == before


def test_import_reports_what_it_created_and_reused(tmp_path, existing):
    folder = tmp_path / "incoming"
    put_media(folder, "media/voix.mp3")

    report = bundle_import_file(write_bundle(folder, incoming_bundle()), now=NOW)

    assert report.created["testimonies"] == 2
    assert report.reused == {
        "job types": 2,
        "themes": 3,
        "series": 1,
        "episodes": 2,
        "narrators": 1,
    }


def test_import_command_prints_its_report(tmp_path, existing, capsys):
    folder = tmp_path / "incoming"
    put_media(folder, "media/voix.mp3")
    path = write_bundle(folder, incoming_bundle())

    call_command("import_bundle", str(path))

    out = capsys.readouterr().out
    assert str(path) in out
    # The counts of the report, each beside what it counts.
    assert re.search(r"\b2 testimonies\b", out)
    assert re.search(r"\b3 themes\b", out)


def test_import_command_exits_non_zero_on_a_malformed_file(tmp_path):
    # Refused before the database is reached: the subprocess's own database
    # (not this test's) is never touched.
    data = incoming_bundle()
    data["format"] = "testimony-bundle/2"
    path = write_bundle(tmp_path, data)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}

    result = subprocess.run(
        [sys.executable, "manage.py", "import_bundle", str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert f"CommandError: {path}: format: must be " in result.stderr
    assert "nothing was imported" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_nothing_of_a_valid_first_testimony_is_kept_when_the_second_fails(
    tmp_path, existing
):
    folder = tmp_path / "incoming"
    put_media(folder, "media/voix.mp3")
    data = incoming_bundle()
    data["testimonies"][1]["themes"] = ["nowhere"]
    before = counts()

    with pytest.raises(BundleError) as caught:
        bundle_import_file(write_bundle(folder, data), now=NOW)

    assert caught.value.path == "testimonies[1].themes[0]"
    assert counts() == before
    assert not Testimony.objects.filter(slug="la-pluie-encore").exists()
    assert not Narrator.objects.filter(key="camille-r").exists()
    assert not JobType.objects.filter(slug="micro-tasker").exists()
    assert not Episode.objects.filter(slug="episode-3").exists()
    assert stored_files() == stored_as("livrer-sous-la-pluie")


def test_a_bundle_imported_twice_is_refused_the_second_time(tmp_path, existing):
    before = snapshot()

    with pytest.raises(BundleError) as caught:
        bundle_import_file(
            write_bundle(tmp_path / "again", copy.deepcopy(existing)), now=NOW
        )

    assert caught.value.path == "testimonies[0].slug"
    assert snapshot() == before


def test_safe_media_path_refuses_a_name_too_long_for_the_file_system(tmp_path):
    put_media(tmp_path, "media/voix.mp3")

    with pytest.raises(BundleError) as caught:
        safe_media_path(tmp_path, LONG_MEDIA_PATH, "testimonies[0].media.path")

    assert str(caught.value) == (
        f"testimonies[0].media.path: media path {LONG_MEDIA_PATH!r} "
        "cannot be read: File name too long"
    )


def test_the_largest_storable_integers_are_stored(tmp_path, existing):
    folder = tmp_path / "incoming"
    put_media(folder, "media/voix.mp3")
    data = incoming_bundle()
    data["series"][0]["episodes"][2]["number"] = 2**31 - 1
    data["narrators"][1]["birth_decade"] = 2100

    bundle_import_file(write_bundle(folder, data), now=NOW)

    assert Episode.objects.get(slug="episode-3").number == 2**31 - 1
    assert Narrator.objects.get(key="camille-r").birth_decade == 2100

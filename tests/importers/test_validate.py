import copy
import json
import pickle

import pytest
from jsonschema import Draft202012Validator

from testimonies.importers import validate
from testimonies.importers.validate import (
    BundleError,
    load_bundle_json,
    validate_bundle,
)

# 37 code points, 38 bytes: redaction offsets count code points.
SEGMENT_1_TEXT = "Chez Falcon, on regardait des vidéos."


def valid_bundle() -> dict:
    return {
        "format": "testimony-bundle/1",
        "job_types": [
            {
                "slug": "courier",
                "name": {"fr": "Livreur", "en": "Courier"},
                "description": {"fr": "Livre des repas à vélo."},
                "isco": "9331",
            },
            {
                "slug": "content-moderator",
                "name": {"fr": "Modérateur de contenus", "en": "Content moderator"},
                "isco": "4229",
            },
        ],
        "themes": [
            # A parent defined later in the bundle is fine.
            {
                "slug": "unions",
                "name": {"fr": "Syndicats", "en": "Unions"},
                "parent": "organising",
            },
            {"slug": "organising", "name": {"fr": "S'organiser", "en": "Organising"}},
            {"slug": "trauma", "name": {"fr": "Traumatisme", "en": "Trauma"}},
        ],
        "series": [
            {
                "slug": "night-shifts",
                "title": "Night shifts",
                "broadcaster": "A broadcaster",
                "url": "https://example.org/night-shifts/",
                "description": {"fr": "Une série.", "en": "A series."},
                "episodes": [
                    {
                        "slug": "episode-1",
                        "number": 1,
                        "title": "The riders",
                        "broadcast_on": "2020-02-12",
                        "duration": 1260,
                        "url": "https://example.org/night-shifts/1/",
                        "synopsis": {"en": "Couriers at night."},
                    },
                    {"slug": "episode-2", "number": 2, "title": "The moderators"},
                ],
            }
        ],
        "narrators": [
            {
                "key": "moderator-dublin",
                "public_name": "Karim",
                "identity": "pseudonym",
                "descriptor": {"fr": "un modérateur", "en": "a content moderator"},
                "job_types": ["content-moderator"],
                "country": "IE",
                "region": "Leinster",
                "birth_decade": 1980,
                "reference_code": "ABCD-EFGH-JKLM-NPQR",
                "sensitive_terms": ["Falcon", "Marc Dupont"],
                "private": {
                    "legal_name": "Jean Exemple",
                    "contact": "jean@example.org",
                    "notes": "Prefers calls in the evening.",
                },
            },
            {
                "key": "courier-lyon",
                "public_name": "courier 2",
                "identity": "anonymous",
                "job_types": ["courier"],
                "country": "FR",
                "reference_code_hash": "sha256:" + "0123456789abcdef" * 4,
            },
        ],
        "testimonies": [
            {
                "slug": "moderating-violence",
                "title": "What I could not unsee",
                "narrator": "moderator-dublin",
                "language": "fr",
                "recorded_on": "2023-02-28",
                "place": "Dublin",
                "interviewer": "A. Interviewer",
                "summary": "A former moderator on the images he had to watch.",
                "themes": ["trauma"],
                "content_warnings": ["violence"],
                "status": "published",
                "published_at": "2023-06-01T09:30:00Z",
                "embargo_until": "2023-05-01T00:00:00+02:00",
                "consent": [
                    {"scope": "research", "media": "audio", "given_on": "2023-02-28"},
                    {
                        "scope": "public",
                        "media": "audio_video",
                        "given_on": "2023-04-02",
                        "note": "Agreed to publication after review.",
                    },
                ],
                "media": {"path": "media/moderating-violence.mp3", "kind": "audio"},
                "appearances": [
                    {
                        "episode": "night-shifts/episode-2",
                        "start": 60,
                        "end": 95.5,
                        "note": "Face blurred.",
                    }
                ],
                "segments": [
                    {
                        "start": 0,
                        "end": 12.5,
                        "speaker": "interviewer",
                        "text": "Comment avez-vous commencé ?",
                    },
                    {
                        "start": 12.5,
                        "end": 30,
                        "speaker": "narrator",
                        "text": SEGMENT_1_TEXT,
                    },
                    {
                        "start": 30,
                        "end": 41.25,
                        "speaker": "narrator",
                        "text": "Mon chef s'appelait Marc Dupont.",
                    },
                ],
                "redactions": [
                    {
                        "segment": 1,
                        "start": 5,
                        "end": 11,
                        "reason": "employer",
                        "label": "[employeur retiré]",
                        "note": "Project name.",
                    },
                    {"segment": 2, "start": 20, "end": 31, "reason": "third_party"},
                ],
                "curator_notes": "Checked against the recording.",
            },
            {
                "slug": "courier-nights",
                "title": "Nights on the bike",
                "narrator": "courier-lyon",
                "language": "en",
                "themes": [],
                "status": "draft",
                "consent": [],
                "appearances": [],
                "segments": [
                    {"start": 0, "end": 4, "speaker": "narrator", "text": "Hello."}
                ],
                "redactions": [],
            },
        ],
    }


def t0(bundle: dict) -> dict:
    return bundle["testimonies"][0]


def with_raw(placeholder_path, raw_value):
    """A case whose JSON text holds `raw_value` verbatim at one place."""

    def mutate(bundle):
        *parents, last = placeholder_path
        target = bundle
        for part in parents:
            target = target[part]
        target[last] = "@@RAW@@"
        return json.dumps(bundle).replace('"@@RAW@@"', raw_value)

    return mutate


def setter(*path, value):
    def mutate(bundle):
        *parents, last = path
        target = bundle
        for part in parents:
            target = target[part]
        target[last] = copy.deepcopy(value)

    return mutate


def deleter(*path):
    def mutate(bundle):
        *parents, last = path
        target = bundle
        for part in parents:
            target = target[part]
        del target[last]

    return mutate


def duplicate_testimony_slug(bundle):
    bundle["testimonies"][1]["slug"] = "moderating-violence"


def duplicate_job_type_slug(bundle):
    bundle["job_types"][1]["slug"] = "courier"


def silenced(index: int, start, end):
    """A mutation giving redaction ``index`` of the first testimony a silenced
    range; None leaves that end out."""

    def mutate(bundle):
        redaction = t0(bundle)["redactions"][index]
        for key, value in (("media_start", start), ("media_end", end)):
            if value is not None:
                redaction[key] = value

    return mutate


def with_duration(seconds, then):
    def mutate(bundle):
        t0(bundle)["media"]["duration"] = seconds
        return then(bundle)

    return mutate


def duplicate_narrator_key(bundle):
    bundle["narrators"][1]["key"] = "moderator-dublin"


def segments_out_of_order(bundle):
    t0(bundle)["segments"][2]["start"] = 10
    t0(bundle)["segments"][2]["end"] = 41.25


def segment_ends_before_start(bundle):
    t0(bundle)["segments"][1]["end"] = 12


def both_reference_codes(bundle):
    bundle["narrators"][0]["reference_code_hash"] = "sha256:" + "a" * 64


def consent_goes_back(bundle):
    t0(bundle)["consent"][1]["given_on"] = "2023-01-15"


def redaction_beyond_text(bundle):
    t0(bundle)["redactions"][0]["end"] = 41


def redaction_empty(bundle):
    t0(bundle)["redactions"][0]["start"] = 5
    t0(bundle)["redactions"][0]["end"] = 5


def duplicate_key_in_object(bundle):
    t0(bundle)["segments"][0]["start"] = "@@DUP@@"
    return json.dumps(bundle).replace('"start": "@@DUP@@"', '"start": 0, "start": 1')


def invalid_json(bundle):
    return '{\n  "format": "testimony-bundle/1",\n  "themes": [,]\n}'


def invalid_utf8(bundle):
    return b'{\n  "format": "testimony-bundle/1",\n  "x": "caf\xe9"\n}'


def two_errors_earlier_reported(bundle):
    t0(bundle)["segments"][0]["start"] = -1
    bundle["job_types"][1]["isco"] = "12345"


def duplicate_before_schema_error(bundle):
    # A semantic error early in the document beats a schema error later on.
    bundle["themes"][2]["slug"] = "unions"
    t0(bundle)["status"] = "online"


def unknown_key_first_in_object(bundle):
    testimony = t0(bundle)
    rebuilt = {"colour": "red", **testimony, "language": "FRA"}
    bundle["testimonies"][0] = rebuilt


def bad_value_before_unknown_key(bundle):
    t0(bundle)["language"] = "FRA"
    t0(bundle)["colour"] = "red"


CASES = [
    ("unknown-key-at-root", setter("colour", value="red"), "$", 'unknown key "colour"'),
    (
        "unknown-key-in-segment",
        setter("testimonies", 0, "segments", 1, "colour", value="red"),
        "testimonies[0].segments[1]",
        'unknown key "colour"',
    ),
    ("missing-format", deleter("format"), "$", 'required key "format" is missing'),
    (
        "wrong-format",
        setter("format", value="testimony-bundle/2"),
        "format",
        'must be "testimony-bundle/1", not "testimony-bundle/2"',
    ),
    (
        "missing-segment-text",
        deleter("testimonies", 0, "segments", 2, "text"),
        "testimonies[0].segments[2]",
        'required key "text" is missing',
    ),
    (
        "missing-name-en",
        deleter("themes", 1, "name", "en"),
        "themes[1].name",
        'required key "en" is missing',
    ),
    (
        "slug-uppercase",
        setter("job_types", 1, "slug", value="Content-Moderator"),
        "job_types[1].slug",
        "not a slug (lowercase letters, digits and -)",
    ),
    (
        "slug-with-space",
        setter("testimonies", 1, "slug", value="courier nights"),
        "testimonies[1].slug",
        "not a slug (lowercase letters, digits and -)",
    ),
    (
        "slug-with-trailing-newline",
        setter("themes", 2, "slug", value="trauma\n"),
        "themes[2].slug",
        "not a slug",
    ),
    (
        "narrator-key-uppercase",
        setter("narrators", 1, "key", value="Courier"),
        "narrators[1].key",
        "not a key (lowercase letters, digits and -)",
    ),
    (
        "duplicate-testimony-slug",
        duplicate_testimony_slug,
        "testimonies[1].slug",
        'duplicate slug "moderating-violence", already given at testimonies[0]',
    ),
    (
        "duplicate-job-type-slug",
        duplicate_job_type_slug,
        "job_types[1].slug",
        'duplicate slug "courier"',
    ),
    (
        "duplicate-narrator-key",
        duplicate_narrator_key,
        "narrators[1].key",
        'duplicate key "moderator-dublin"',
    ),
    (
        "duplicate-episode-number",
        setter("series", 0, "episodes", 1, "number", value=1),
        "series[0].episodes[1].number",
        "duplicate number 1",
    ),
    (
        "duplicate-theme-of-testimony",
        setter("testimonies", 0, "themes", value=["trauma", "trauma"]),
        "testimonies[0].themes[1]",
        '"trauma" is listed twice',
    ),
    (
        "theme-own-parent",
        setter("themes", 2, "parent", value="trauma"),
        "themes[2].parent",
        "cannot be its own parent",
    ),
    (
        "language-three-letters",
        setter("testimonies", 0, "language", value="FRA"),
        "testimonies[0].language",
        '"FRA" is not an ISO 639-1 language code',
    ),
    (
        "country-lowercase",
        setter("narrators", 1, "country", value="fr"),
        "narrators[1].country",
        '"fr" is not an ISO 3166-1 alpha-2 country code',
    ),
    (
        "time-too-large-for-a-float",
        with_raw(("testimonies", 0, "segments", 1, "start"), "1" + "0" * 400),
        "testimonies[0].segments[1].start",
        "must be a number >= 0",
    ),
    (
        "embargo-out-of-range-in-utc",
        setter("testimonies", 0, "embargo_until", value="0001-01-01T00:30:00+01:00"),
        "testimonies[0].embargo_until",
        "out of range in UTC",
    ),
    (
        "job-type-name-longer-than-its-column",
        setter("job_types", 0, "name", "fr", value="x" * 201),
        "job_types[0].name.fr",
        "must be at most 200 characters",
    ),
    (
        "birth-decade-not-a-decade",
        setter("narrators", 0, "birth_decade", value=1985),
        "narrators[0].birth_decade",
        "must be an integer multiple of 10 >= 1900, not 1985",
    ),
    (
        "isco-five-digits",
        setter("job_types", 0, "isco", value="12345"),
        "job_types[0].isco",
        "ISCO-08 code of 1 to 4 digits",
    ),
    (
        "episode-number-zero",
        setter("series", 0, "episodes", 0, "number", value=0),
        "series[0].episodes[0].number",
        "must be an integer >= 1, not 0",
    ),
    (
        "episode-number-fraction",
        setter("series", 0, "episodes", 0, "number", value=1.5),
        "series[0].episodes[0].number",
        "must be an integer >= 1, not 1.5",
    ),
    (
        "episode-number-bool",
        setter("series", 0, "episodes", 0, "number", value=True),
        "series[0].episodes[0].number",
        "must be an integer >= 1, not true",
    ),
    (
        "negative-start",
        setter("testimonies", 0, "segments", 0, "start", value=-1),
        "testimonies[0].segments[0].start",
        "must be a number >= 0, not -1",
    ),
    (
        "nan-time",
        with_raw(("testimonies", 0, "segments", 1, "start"), "NaN"),
        "testimonies[0].segments[1].start",
        "NaN is not allowed",
    ),
    (
        "infinity-time",
        with_raw(("testimonies", 0, "appearances", 0, "end"), "Infinity"),
        "testimonies[0].appearances[0].end",
        "Infinity is not allowed",
    ),
    (
        "minus-infinity-time",
        with_raw(("series", 0, "episodes", 0, "duration"), "-Infinity"),
        "series[0].episodes[0].duration",
        "-Infinity is not allowed",
    ),
    (
        "overflowing-time",
        with_raw(("testimonies", 0, "segments", 2, "end"), "1e400"),
        "testimonies[0].segments[2].end",
        "must be a number >= 0, not Infinity",
    ),
    (
        "string-time",
        setter("testimonies", 0, "segments", 2, "end", value="41.25"),
        "testimonies[0].segments[2].end",
        'must be a number >= 0, not "41.25"',
    ),
    (
        "bool-time",
        setter("testimonies", 0, "segments", 0, "start", value=True),
        "testimonies[0].segments[0].start",
        "must be a number >= 0, not true",
    ),
    (
        "null-media-duration",
        setter("testimonies", 0, "media", "duration", value=None),
        "testimonies[0].media.duration",
        "must be a number >= 0, not null",
    ),
    (
        "invalid-calendar-date",
        setter("testimonies", 0, "recorded_on", value="2023-02-30"),
        "testimonies[0].recorded_on",
        '"2023-02-30" is not a real calendar date',
    ),
    (
        "date-in-another-form",
        setter("series", 0, "episodes", 0, "broadcast_on", value="20200212"),
        "series[0].episodes[0].broadcast_on",
        "is not a date YYYY-MM-DD",
    ),
    (
        "naive-embargo",
        setter("testimonies", 0, "embargo_until", value="2030-01-01T00:00:00"),
        "testimonies[0].embargo_until",
        "with an offset or Z",
    ),
    (
        "impossible-datetime",
        setter("testimonies", 0, "published_at", value="2023-06-31T09:30:00Z"),
        "testimonies[0].published_at",
        "is not a real date and time",
    ),
    (
        "bad-status",
        setter("testimonies", 1, "status", value="public"),
        "testimonies[1].status",
        "must be one of draft, in_review, published, retired",
    ),
    (
        "bad-scope",
        setter("testimonies", 0, "consent", 1, "scope", value="everyone"),
        "testimonies[0].consent[1].scope",
        "must be one of public, research, archive, withdrawn",
    ),
    (
        "bad-consent-media",
        setter("testimonies", 0, "consent", 0, "media", value="video"),
        "testimonies[0].consent[0].media",
        "must be one of audio_video, audio, none",
    ),
    (
        "bad-media-kind",
        setter("testimonies", 0, "media", "kind", value="podcast"),
        "testimonies[0].media.kind",
        "must be one of audio, video",
    ),
    (
        "bad-speaker",
        setter("testimonies", 0, "segments", 1, "speaker", value="moderator"),
        "testimonies[0].segments[1].speaker",
        "must be one of narrator, interviewer, other",
    ),
    (
        "bad-redaction-reason",
        setter("testimonies", 0, "redactions", 1, "reason", value="secret"),
        "testimonies[0].redactions[1].reason",
        "must be one of person, third_party, employer, location, health, other",
    ),
    (
        "redaction-offset-not-integer",
        setter("testimonies", 0, "redactions", 0, "start", value=5.0),
        "testimonies[0].redactions[0].start",
        "must be an integer >= 0, not 5.0",
    ),
    (
        "redaction-beyond-text",
        redaction_beyond_text,
        "testimonies[0].redactions[0].end",
        "beyond the segment's text (41 > 37)",
    ),
    (
        "redaction-start-equals-end",
        redaction_empty,
        "testimonies[0].redactions[0].start",
        "must be less than end (5 >= 5)",
    ),
    (
        "redaction-segment-out-of-range",
        setter("testimonies", 0, "redactions", 1, "segment", value=7),
        "testimonies[0].redactions[1].segment",
        "no segment 7 (the testimony has 3)",
    ),
    (
        "segments-out-of-order",
        segments_out_of_order,
        "testimonies[0].segments[2].start",
        "segments must be listed in order of start (10 < 12.5,",
    ),
    (
        "segment-ends-before-start",
        segment_ends_before_start,
        "testimonies[0].segments[1].end",
        "must not be before start (12 < 12.5)",
    ),
    (
        "appearance-ends-before-start",
        setter("testimonies", 0, "appearances", 0, "end", value=30),
        "testimonies[0].appearances[0].end",
        "must not be before start (30 < 60)",
    ),
    (
        "both-reference-codes",
        both_reference_codes,
        "narrators[0]",
        '"reference_code" and "reference_code_hash" cannot both be given',
    ),
    (
        "bad-reference-code-hash",
        setter("narrators", 1, "reference_code_hash", value="sha256:ABC"),
        "narrators[1].reference_code_hash",
        "is not sha256: followed by 64 lowercase hexadecimal digits",
    ),
    (
        "consent-goes-back",
        consent_goes_back,
        "testimonies[0].consent[1].given_on",
        "goes back in time: 2023-01-15 is before 2023-02-28",
    ),
    (
        "translated-with-other-language",
        setter("job_types", 0, "description", value={"fr": "x", "de": "y"}),
        "job_types[0].description",
        'unknown key "de"',
    ),
    (
        "translated-empty",
        setter("series", 0, "description", value={}),
        "series[0].description",
        'needs "fr" or "en"',
    ),
    (
        "empty-content-warning",
        setter("testimonies", 0, "content_warnings", value=["violence", ""]),
        "testimonies[0].content_warnings[1]",
        "must not be empty",
    ),
    (
        "missing-nested-list",
        deleter("testimonies", 1, "redactions"),
        "testimonies[1]",
        'required key "redactions" is missing',
    ),
    (
        "segments-not-a-list",
        setter("testimonies", 1, "segments", value={"start": 0}),
        "testimonies[1].segments",
        "must be a list, not an object",
    ),
    (
        "segment-not-an-object",
        setter("testimonies", 1, "segments", 0, value="Hello."),
        "testimonies[1].segments[0]",
        'must be an object, not "Hello."',
    ),
    (
        "url-not-http",
        setter("series", 0, "url", value="javascript:alert(1)"),
        "series[0].url",
        "is not an http or https URL",
    ),
    (
        "nul-character",
        with_raw(("testimonies", 1, "segments", 0, "text"), r'"a\u0000b"'),
        "testimonies[1].segments[0].text",
        "contains \\u0000, which cannot be stored",
    ),
    (
        "lone-surrogate",
        with_raw(("testimonies", 0, "title"), r'"half \ud83d"'),
        "testimonies[0].title",
        "contains \\ud83d, which cannot be stored",
    ),
    (
        "duplicate-key-in-object",
        duplicate_key_in_object,
        "testimonies[0].segments[0]",
        'duplicate key "start"',
    ),
    (
        "invalid-json",
        invalid_json,
        "$",
        "invalid JSON at line 3, column 14: Expecting value",
    ),
    ("invalid-utf8", invalid_utf8, "$", "not valid UTF-8 at line 3, column 12"),
    ("root-not-an-object", lambda bundle: "[]", "$", "must be an object, not a list"),
    (
        "first-error-in-document-order",
        two_errors_earlier_reported,
        "job_types[1].isco",
        "ISCO-08",
    ),
    (
        "semantic-error-before-schema-error",
        duplicate_before_schema_error,
        "themes[2].slug",
        'duplicate slug "unions"',
    ),
    (
        "unknown-key-placed-before-bad-value",
        unknown_key_first_in_object,
        "testimonies[0]",
        'unknown key "colour"',
    ),
    (
        "bad-value-placed-before-unknown-key",
        bad_value_before_unknown_key,
        "testimonies[0].language",
        "ISO 639-1",
    ),
]


def check(raw: bytes | str) -> None:
    validate_bundle(load_bundle_json(raw))


def test_valid_bundle_passes():
    check(json.dumps(valid_bundle()))


def test_valid_bundle_passes_as_bytes_with_a_byte_order_mark():
    check(b"\xef\xbb\xbf" + json.dumps(valid_bundle(), ensure_ascii=False).encode())


def test_only_format_is_required_at_the_top():
    validate_bundle({"format": "testimony-bundle/1"})


def test_references_the_database_may_resolve_are_left_to_the_importer():
    bundle = valid_bundle()
    bundle["narrators"][0]["job_types"] = ["search-quality-rater"]
    bundle["themes"][0]["parent"] = "stored-theme"
    t0(bundle)["narrator"] = "stored-narrator"
    t0(bundle)["themes"] = ["surveillance"]
    t0(bundle)["appearances"][0]["episode"] = "other-series/episode-9"
    validate_bundle(bundle)


def test_silenced_ranges_within_the_declared_duration_are_accepted():
    bundle = valid_bundle()
    t0(bundle)["media"]["duration"] = 41.25
    t0(bundle)["redactions"][0].update(media_start=0, media_end=13.5)
    t0(bundle)["redactions"][1].update(media_start=30.5, media_end=41.25)
    validate_bundle(bundle)
    Draft202012Validator(json.loads(validate.SCHEMA_PATH.read_text("utf-8"))).validate(
        bundle
    )


def test_the_schema_alone_refuses_one_end_of_a_silenced_range():
    bundle = valid_bundle()
    t0(bundle)["redactions"][0]["media_end"] = 13.5
    schema = json.loads(validate.SCHEMA_PATH.read_text("utf-8"))
    assert not Draft202012Validator(schema).is_valid(bundle)


def test_equal_starts_and_same_day_consents_are_accepted():
    bundle = valid_bundle()
    t0(bundle)["segments"][2]["start"] = 12.5
    t0(bundle)["consent"][1]["given_on"] = "2023-02-28"
    validate_bundle(bundle)


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_malformed_bundle_names_the_first_bad_value(mutate, path, message):
    bundle = valid_bundle()
    raw = mutate(bundle)
    if raw is None:
        raw = json.dumps(bundle, ensure_ascii=False)

    with pytest.raises(BundleError) as caught:
        check(raw)

    assert caught.value.path == path
    assert message in caught.value.message
    assert str(caught.value) == f"{path}: {caught.value.message}"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            redaction_beyond_text,
            "testimonies[0].redactions[0].end: beyond the segment's text (41 > 37)",
        ),
        (
            redaction_empty,
            "testimonies[0].redactions[0].start: must be less than end (5 >= 5)",
        ),
        (
            setter("testimonies", 0, "redactions", 1, "segment", value=7),
            "testimonies[0].redactions[1].segment: no segment 7 (the testimony has 3)",
        ),
    ],
    ids=["beyond-text", "start-equals-end", "no-such-segment"],
)
def test_redaction_messages_are_exact(mutate, expected):
    bundle = valid_bundle()
    mutate(bundle)

    with pytest.raises(BundleError) as caught:
        validate_bundle(bundle)

    assert str(caught.value) == expected


BEYOND_FLOATS = "1" + "0" * 400  # written in the JSON text; 10**400 > 1.8e308
SHOWN_BEYOND_FLOATS = "1" + "0" * 56 + "..."
SHORT_CODE_MESSAGE = (
    "must hold at least 16 letters or digits once spaces and dashes are removed"
)


def with_reference_code(code):
    return setter("narrators", 0, "reference_code", value=code)


EXACT_CASES = [
    # A narrator that is not an object is reported as such, not as a crash of
    # the rule that forbids giving both reference codes.
    (
        "narrator-a-string",
        setter("narrators", 0, value="x"),
        'narrators[0]: must be an object, not "x"',
    ),
    (
        "narrator-a-number",
        setter("narrators", 1, value=1),
        "narrators[1]: must be an object, not 1",
    ),
    (
        "narrator-null",
        setter("narrators", 0, value=None),
        "narrators[0]: must be an object, not null",
    ),
    (
        "narrator-a-list",
        setter("narrators", 0, value=[]),
        "narrators[0]: must be an object, not a list",
    ),
    # Integers the database cannot store.
    (
        "birth-decade-beyond-float-range",
        with_raw(("narrators", 0, "birth_decade"), BEYOND_FLOATS),
        f"narrators[0].birth_decade: must be at most 2100, not {SHOWN_BEYOND_FLOATS}",
    ),
    (
        "birth-decade-negative-beyond-float-range",
        with_raw(("narrators", 0, "birth_decade"), "-" + BEYOND_FLOATS),
        "narrators[0].birth_decade: must be an integer multiple of 10 >= 1900, "
        f"not -{SHOWN_BEYOND_FLOATS[:-4]}...",
    ),
    (
        "birth-decade-after-2100",
        setter("narrators", 0, "birth_decade", value=2110),
        "narrators[0].birth_decade: must be at most 2100, not 2110",
    ),
    (
        "episode-number-beyond-float-range",
        with_raw(("series", 0, "episodes", 1, "number"), BEYOND_FLOATS),
        "series[0].episodes[1].number: must be at most 2147483647, "
        f"not {SHOWN_BEYOND_FLOATS}",
    ),
    (
        "episode-number-beyond-its-column",
        setter("series", 0, "episodes", 1, "number", value=2**31),
        "series[0].episodes[1].number: must be at most 2147483647, not 2147483648",
    ),
    (
        "redaction-segment-beyond-float-range",
        with_raw(("testimonies", 0, "redactions", 1, "segment"), BEYOND_FLOATS),
        "testimonies[0].redactions[1].segment: must be at most 2147483647, "
        f"not {SHOWN_BEYOND_FLOATS}",
    ),
    (
        "redaction-start-beyond-float-range",
        with_raw(("testimonies", 0, "redactions", 0, "start"), BEYOND_FLOATS),
        "testimonies[0].redactions[0].start: must be at most 2147483647, "
        f"not {SHOWN_BEYOND_FLOATS}",
    ),
    (
        "redaction-end-beyond-float-range",
        with_raw(("testimonies", 0, "redactions", 0, "end"), BEYOND_FLOATS),
        "testimonies[0].redactions[0].end: must be at most 2147483647, "
        f"not {SHOWN_BEYOND_FLOATS}",
    ),
    (
        # Reported by its bound rather than as beyond the segment's text.
        "redaction-end-beyond-its-column",
        setter("testimonies", 0, "redactions", 0, "end", value=2**31),
        "testimonies[0].redactions[0].end: must be at most 2147483647, not 2147483648",
    ),
    # The silenced range of a redaction (the testimony's media declares no
    # duration, the second one declares 60 s below).
    (
        "media-range-ends-before-it-starts",
        silenced(0, 20.5, 12),
        "testimonies[0].redactions[0].media_end: must be after media_start "
        "(12 <= 20.5)",
    ),
    (
        "media-range-of-no-length",
        silenced(0, 12, 12),
        "testimonies[0].redactions[0].media_end: must be after media_start (12 <= 12)",
    ),
    (
        "media-range-beyond-the-declared-duration",
        with_duration(60, silenced(1, 58, 61.5)),
        "testimonies[0].redactions[1].media_end: beyond the media's duration "
        "(61.5 > 60)",
    ),
    (
        "media-range-start-alone",
        silenced(0, 12, None),
        'testimonies[0].redactions[0].media_start: needs "media_end" beside it: '
        "a silenced range gives both ends, or neither",
    ),
    (
        "media-range-end-alone",
        silenced(1, None, 12),
        'testimonies[0].redactions[1].media_end: needs "media_start" beside it: '
        "a silenced range gives both ends, or neither",
    ),
    (
        "media-range-negative-start",
        silenced(0, -1, 12),
        "testimonies[0].redactions[0].media_start: must be a number >= 0, not -1",
    ),
    (
        "media-range-not-a-number",
        silenced(0, "12", 14),
        'testimonies[0].redactions[0].media_start: must be a number >= 0, not "12"',
    ),
    # Reference codes that normalise to too little, or to more than letters
    # and digits; the message never repeats the code.
    (
        "reference-code-a-hyphen",
        with_reference_code("-"),
        f"narrators[0].reference_code: {SHORT_CODE_MESSAGE}",
    ),
    (
        "reference-code-a-space",
        with_reference_code(" "),
        f"narrators[0].reference_code: {SHORT_CODE_MESSAGE}",
    ),
    (
        "reference-code-an-em-dash",
        with_reference_code("\u2014"),
        f"narrators[0].reference_code: {SHORT_CODE_MESSAGE}",
    ),
    (
        "reference-code-of-15-characters",
        with_reference_code("ABCD-EFGH-JKLM-NPQ"),
        f"narrators[0].reference_code: {SHORT_CODE_MESSAGE}",
    ),
    (
        "reference-code-with-full-stops",
        with_reference_code("ABCD.EFGH.JKLM.NPQR"),
        "narrators[0].reference_code: must hold only letters or digits once "
        "spaces and dashes are removed",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [case[1:] for case in EXACT_CASES],
    ids=[case[0] for case in EXACT_CASES],
)
def test_malformed_bundle_is_refused_with_an_exact_message(mutate, expected):
    bundle = valid_bundle()
    raw = mutate(bundle)
    if raw is None:
        raw = json.dumps(bundle, ensure_ascii=False)

    with pytest.raises(BundleError) as caught:
        check(raw)

    assert str(caught.value) == expected


@pytest.mark.parametrize("item", ['"x"', "1", "null", "[]"])
def test_narrator_that_is_not_an_object_in_a_minimal_bundle(item):
    raw = f'{{"format": "testimony-bundle/1", "narrators": [{item}]}}'
    shown = "a list" if item == "[]" else item

    with pytest.raises(BundleError) as caught:
        check(raw)

    assert str(caught.value) == f"narrators[0]: must be an object, not {shown}"


def test_an_integer_beyond_float_range_is_not_an_integer_to_the_schema():
    # jsonschema skips `minimum` and `maximum` for what is not a "number"; the
    # type check itself has to refuse what the database cannot store.
    checker = validate._BundleValidator({}).TYPE_CHECKER
    huge = int(BEYOND_FLOATS)

    assert checker.is_type(2**53 + 1, "integer")
    assert not checker.is_type(huge, "integer")
    assert not checker.is_type(-huge, "integer")
    assert not checker.is_type(huge, "number")


@pytest.mark.parametrize(
    "code",
    [
        "ABCD-EFGH-JKLM-NPQR",
        "abcd efgh jklm npqr",
        "ABCD\u2013EFGH\u2014JKLM\u2011NPQR",  # en dash, em dash, non-breaking hyphen
        "\uff21BCDEFGHJKLMNPQR",  # a full-width A, NFKC-normalised
        "0123456789ABCDEFGHJK",
    ],
)
def test_reference_codes_of_16_letters_or_digits_once_normalised_are_accepted(code):
    bundle = valid_bundle()
    bundle["narrators"][0]["reference_code"] = code

    validate_bundle(bundle)


def test_largest_storable_integers_are_accepted():
    bundle = valid_bundle()
    bundle["series"][0]["episodes"][1]["number"] = 2**31 - 1
    bundle["narrators"][0]["birth_decade"] = 2100

    validate_bundle(bundle)


def test_redaction_offsets_count_code_points_not_bytes():
    bundle = valid_bundle()
    t0(bundle)["redactions"][0]["end"] = len(SEGMENT_1_TEXT)
    validate_bundle(bundle)


def test_a_nan_from_python_is_refused_too():
    bundle = valid_bundle()
    t0(bundle)["segments"][1]["end"] = float("nan")

    with pytest.raises(BundleError) as caught:
        validate_bundle(bundle)

    assert caught.value.path == "testimonies[0].segments[1].end"
    assert caught.value.message == "must be a number >= 0, not NaN"


def test_bundle_error_survives_pickling():
    error = BundleError("testimonies[0].slug", "not a slug")

    copied = pickle.loads(pickle.dumps(error))

    assert (copied.path, copied.message) == (error.path, error.message)


def test_bundle_with_20000_segments_validates():
    bundle = valid_bundle()
    t0(bundle)["segments"] = [
        {
            "start": i * 2.5,
            "end": i * 2.5 + 2,
            "speaker": ("narrator", "interviewer")[i % 2],
            "text": f"Segment {i}: le livreur attend devant le restaurant.",
        }
        for i in range(20_000)
    ]
    t0(bundle)["redactions"] = [
        {"segment": i, "start": 0, "end": 7, "reason": "other"}
        for i in range(0, 20_000, 50)
    ]

    validate_bundle(load_bundle_json(json.dumps(bundle)))


# The segments are checked by hand for speed; these prove the hand check and the
# schema file say the same thing.


def test_schema_file_is_a_valid_draft_2020_12_schema():
    schema = json.loads(validate.SCHEMA_PATH.read_text(encoding="utf-8"))

    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(valid_bundle())) == []


def test_segment_subschema_is_the_shape_the_fast_path_was_written_for():
    # If this fails, change validate._plain_segment together with the schema.
    schema = json.loads(validate.SCHEMA_PATH.read_text(encoding="utf-8"))
    seconds = {"$ref": "#/$defs/seconds"}

    assert schema["$defs"]["segment"] == {
        "type": "object",
        "properties": {
            "start": seconds,
            "end": seconds,
            "speaker": {"enum": ["narrator", "interviewer", "other"]},
            "text": {"$ref": "#/$defs/text"},
        },
        "required": ["start", "end", "speaker", "text"],
        "additionalProperties": False,
    }
    assert schema["$defs"]["seconds"]["type"] == "number"
    assert schema["$defs"]["seconds"]["minimum"] == 0
    assert set(schema["$defs"]["seconds"]) == {"description", "type", "minimum"}
    assert schema["$defs"]["text"] == {"type": "string"}


SEGMENT_VARIANTS = [
    {"start": -1},
    {"start": "1"},
    {"start": True},
    {"start": None},
    {"end": float("nan")},
    {"end": float("inf")},
    {"speaker": "Narrator"},
    {"speaker": ["narrator"]},
    {"text": 12},
    {"text": None},
    {"colour": "red"},
]


@pytest.mark.parametrize("change", SEGMENT_VARIANTS, ids=repr)
@pytest.mark.parametrize("drop", [None, "text", "start"])
def test_fast_segment_check_agrees_with_the_schema(change, drop):
    bundle = valid_bundle()
    segment = t0(bundle)["segments"][1]
    segment.update(change)
    if drop:
        del segment[drop]

    fast = validate._schema_problems(bundle, fast=True)
    full = validate._schema_problems(bundle, fast=False)

    def first(problems):
        return min(problems, key=lambda p: validate._position(bundle, p))

    assert fast and first(fast) == first(full)

"""What a public rendition is made from: every redaction's range, the disguise of
an anonymous narrator, the sound alone where only it is released."""

import pytest
from django.test import override_settings

from testimonies import services
from testimonies.media.plan import rendition_plan
from testimonies.media.render import rendition_state
from testimonies.models import ConsentRecord, Redaction

from ..factories import NarratorFactory, TestimonyFactory
from .archive import stand_in_original

pytestmark = pytest.mark.django_db


def recorded(identity="pseudonym", kind="audio", release="audio_video"):
    testimony = TestimonyFactory(
        published=True, consent="public", narrator=NarratorFactory(identity=identity)
    )
    testimony.consent_records.update(media=release)
    return stand_in_original(testimony, kind)


def redacted(testimony, *ranges):
    """Two segments, [0, 3) and [3, 6), with a redaction in each; ``ranges``
    place them (None: unplaced)."""
    for position, start in enumerate((0.0, 3.0)):
        segment = services.segment_create(
            testimony=testimony,
            start=start,
            end=start + 3,
            speaker="narrator",
            text="Le chef Bartholoméo surveillait la plateforme.",
        )
        redaction = services.segment_redact(
            segment=segment, start=8, end=19, reason="third_party"
        )
        if ranges[position] is not None:
            Redaction.objects.filter(pk=redaction.pk).update(
                media_start=ranges[position][0], media_end=ranges[position][1]
            )
    return testimony


def test_every_redaction_silences_its_range_or_else_its_segments():
    testimony = redacted(recorded(), (1.2, 1.8), None)
    plan = rendition_plan(testimony)
    assert plan.silences == ((1.2, 1.8), (3.0, 6.0))
    assert plan.disguise is None
    assert plan.audio_only is False
    assert plan.state == rendition_state(
        original_sha256=testimony.media_sha256,
        silences=[(1.2, 1.8), (3.0, 6.0)],
        disguise=None,
        audio_only=False,
    )


@override_settings(MEDIA_DISGUISE_COEFFICIENT=0.85)
def test_an_anonymous_narrator_is_disguised_by_the_configured_coefficient():
    plan = rendition_plan(recorded(identity="anonymous"))
    assert plan.disguise == 0.85


@pytest.mark.parametrize("identity", ["named", "pseudonym"])
def test_a_narrator_who_is_not_anonymous_keeps_their_voice(identity):
    assert rendition_plan(recorded(identity=identity)).disguise is None


@pytest.mark.parametrize(
    "identity, kind, release, audio_only",
    [
        ("pseudonym", "video", "audio_video", False),
        ("pseudonym", "video", "audio", True),
        ("pseudonym", "audio", "audio", False),
        # Video of an anonymous narrator is never served: its sound at most.
        ("anonymous", "video", "audio_video", True),
        ("anonymous", "video", "audio", True),
    ],
)
def test_the_sound_alone_is_made_where_the_media_rule_offers_only_it(
    identity, kind, release, audio_only
):
    plan = rendition_plan(recorded(identity, kind, release))
    assert plan.audio_only is audio_only


def test_nothing_is_made_where_nothing_is_offered():
    assert rendition_plan(recorded(release="none")) is None
    unrecorded = TestimonyFactory(published=True, consent="public")
    assert rendition_plan(unrecorded) is None


def test_the_state_changes_with_each_thing_a_rendition_is_made_from():
    testimony = redacted(recorded(), None, None)
    states = {rendition_plan(testimony).state}
    Redaction.objects.filter(segment__position=0).update(media_start=0.5, media_end=1.0)
    states.add(rendition_plan(testimony).state)
    testimony.segments.filter(position=1).update(end=5.5)
    states.add(rendition_plan(testimony).state)
    testimony.narrator.identity = "anonymous"
    testimony.narrator.save()
    states.add(rendition_plan(testimony).state)
    testimony.media_sha256 = "f" * 64
    testimony.save()
    states.add(rendition_plan(testimony).state)
    assert len(states) == 5


def test_a_consent_that_keeps_the_release_keeps_the_state():
    testimony = recorded()
    before = rendition_plan(testimony).state
    ConsentRecord.objects.create(
        testimony=testimony,
        scope="research",
        media="audio_video",
        given_on="2024-01-01",
    )
    assert rendition_plan(testimony).state == before

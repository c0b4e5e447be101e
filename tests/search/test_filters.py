"""The media filter and facet: media present and released by the consent in force."""

import pytest

from testimonies import search
from testimonies.models import Testimony

from ..factories import TestimonyFactory


@pytest.fixture
def testimonies(db):
    return {
        "released": TestimonyFactory(media="testimonies/a.mp3", consent="public"),
        "no-release": TestimonyFactory(media="testimonies/b.mp3", consent="public"),
        "no-consent": TestimonyFactory(media="testimonies/c.mp3"),
        "no-media": TestimonyFactory(consent="public"),
    }


def _slugs(results, testimonies):
    names = {t.pk: name for name, t in testimonies.items()}
    return {names[hit.testimony.pk] for hit in results.hits}


def test_media_filter_keeps_media_released_by_the_consent_in_force(testimonies):
    record = testimonies["no-release"].consent_records.get()
    record.media = "none"
    record.save()
    staff_view = Testimony.objects.all()
    with_media = search.search("", staff_view, search.Filters(media=True))
    without = search.search("", staff_view, search.Filters(media=False))
    assert _slugs(with_media, testimonies) == {"released"}
    # No consent record (a draft, seen by staff only) is no release: not dropped.
    assert _slugs(without, testimonies) == {"no-release", "no-consent", "no-media"}
    counts = {v.value: v.count for v in with_media.facets["media"]}
    assert counts == {True: 1}
    everything = search.search("", staff_view)
    counts = {v.value: v.count for v in everything.facets["media"]}
    assert counts == {True: 1, False: 3}

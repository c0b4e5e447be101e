import pytest

from testimonies.models import Testimony

from .factories import TestimonyFactory


@pytest.mark.django_db
def test_published_public_testimony_is_visible_to_anonymous(anonymous):
    shown = TestimonyFactory(published=True, consent="public")
    TestimonyFactory(published=True)
    assert list(Testimony.objects.visible_to(anonymous)) == [shown]

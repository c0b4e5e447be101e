import os

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.utils import translation
from hypothesis import HealthCheck, settings

from .factories import JobTypeFactory, NarratorFactory, UserFactory, indexed_testimony

# CI runs a fixed, derandomised profile: a property test never flakes there.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def anonymous():
    return AnonymousUser()


@pytest.fixture
def member(db):
    """A signed-in visitor in no group: the public tier."""
    return UserFactory()


@pytest.fixture
def researcher(db):
    return UserFactory(groups=["researchers"])


@pytest.fixture
def curator(db):
    return UserFactory(groups=["curators"])


@pytest.fixture
def archivist(db):
    return UserFactory(groups=["archivists"])


@pytest.fixture
def english():
    """Messages read in English, for tests that check what a message names
    (places, figures) rather than the language it is written in."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: rate limits count from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request under /en/ leaves
    English active in the thread, and reverse() would follow it."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture
def search_archive(db):
    """A small archive, indexed through the services, for the search's channels:
    a public testimony with a passage redacted, a research-only one and a draft.
    Returns the public one."""
    from testimonies import services

    narrator = NarratorFactory(legal_name="Zelie Marchetti")
    narrator.job_types.set([JobTypeFactory(slug="courier")])
    public = indexed_testimony(
        "pluie",
        "La plateforme notait chaque course <script>alert(1)</script> sous la pluie.",
        start=61,
        narrator=narrator,
    )
    secret = services.segment_create(
        testimony=public,
        start=130,
        end=180,
        speaker="interviewer",
        text="Le chef Bartholoméo surveillait la plateforme.",
    )
    services.segment_redact(segment=secret, start=8, end=19, reason="third_party")
    indexed_testimony(
        "recherche", "Une plateforme pour chercheurs seulement.", consent="research"
    )
    indexed_testimony("brouillon", "Une plateforme en brouillon.", published=False)
    return public

"""Factories per model, with traits for the states of consent."""

import datetime as dt

import factory
from django.contrib.auth.models import Group, User

from testimonies.models import (
    ConsentRecord,
    Episode,
    JobType,
    Narrator,
    NarratorRequest,
    Segment,
    Series,
    Testimony,
    Theme,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or []:
            self.groups.add(Group.objects.get(name=name))


class JobTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobType
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"job-{n}")
    name_fr = factory.LazyAttribute(lambda o: f"Métier {o.slug}")
    name_en = factory.LazyAttribute(lambda o: f"Job {o.slug}")


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"theme-{n}")
    name_fr = factory.LazyAttribute(lambda o: f"Thème {o.slug}")
    name_en = factory.LazyAttribute(lambda o: f"Theme {o.slug}")


class SeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Series

    slug = factory.Sequence(lambda n: f"series-{n}")
    title = factory.Sequence(lambda n: f"Series {n}")


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    series = factory.SubFactory(SeriesFactory)
    number = factory.Sequence(lambda n: n + 1)
    slug = factory.LazyAttribute(lambda o: f"episode-{o.number}")
    title = factory.LazyAttribute(lambda o: f"Episode {o.number}")


class NarratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Narrator

    key = factory.Sequence(lambda n: f"narrator-{n}")
    public_name = factory.Sequence(lambda n: f"Pseudonyme {n}")
    identity = Narrator.Identity.PSEUDONYM
    descriptor_fr = "une livreuse, Île-de-France"
    descriptor_en = "a courier, Île-de-France"
    country = "FR"
    region = "Île-de-France"
    legal_name = "Jeanne-Marie Durandal"
    contact = "jeanne.durandal@example.org"


class TestimonyFactory(factory.django.DjangoModelFactory):
    """A testimony; ``published`` with ``consent="public"`` is what anyone sees."""

    class Meta:
        model = Testimony
        skip_postgeneration_save = True

    class Params:
        published = factory.Trait(
            status=Testimony.Status.PUBLISHED,
            published_at=factory.LazyFunction(
                lambda: dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
            ),
        )

    slug = factory.Sequence(lambda n: f"testimony-{n}")
    title = factory.Sequence(lambda n: f"Témoignage {n}")
    narrator = factory.SubFactory(NarratorFactory)
    language = "fr"
    summary = "Un témoignage sur le travail du clic."
    status = Testimony.Status.DRAFT

    @factory.post_generation
    def consent(self, create, extracted, **kwargs):
        """consent="public" or ["research", "public"]: the history, oldest first."""
        scopes = [extracted] if isinstance(extracted, str) else list(extracted or [])
        for scope in scopes:
            ConsentRecord.objects.create(
                testimony=self,
                scope=scope,
                media=ConsentRecord.MediaRelease.AUDIO_VIDEO,
                given_on=dt.date(2023, 1, 1),
            )


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    testimony = factory.SubFactory(TestimonyFactory)
    position = factory.Sequence(lambda n: n)
    start = factory.LazyAttribute(lambda o: float(o.position * 60))
    end = factory.LazyAttribute(lambda o: o.start + 60)
    speaker = Segment.Speaker.NARRATOR
    text = "Je livrais des repas à vélo, dix heures par jour."
    public_text = factory.LazyAttribute(lambda o: o.text)


class NarratorRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NarratorRequest

    narrator = factory.SubFactory(NarratorFactory)
    reference_code_hash = "sha256:" + "0" * 64
    kind = NarratorRequest.Kind.WITHDRAW


def indexed_testimony(slug, text, *, consent="public", start=60, **fields):
    """A published testimony (unless told) holding one segment, written through
    the services so that the search index holds it too."""
    from testimonies import services

    fields.setdefault("published", True)
    testimony = TestimonyFactory(
        slug=slug, title=f"Title {slug}", consent=consent, **fields
    )
    services.segment_create(
        testimony=testimony, start=start, end=start + 45, speaker="narrator", text=text
    )
    return testimony

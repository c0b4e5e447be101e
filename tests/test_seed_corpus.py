"""The synthetic corpus for benchmarks: its shape, its determinism, its writing."""

import io
import math
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from benchmarks import corpus
from benchmarks.corpus import (
    FUNCTION_WORDS,
    VOCABULARY_SIZE,
    CorpusGenerator,
    build_vocabulary,
)
from testimonies import gate, search
from testimonies.models import (
    ConsentRecord,
    JobType,
    Narrator,
    Segment,
    Testimony,
    Theme,
)

from .factories import TestimonyFactory
from .search.index import assert_index_exact

WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# The moment the corpus's fixed dates are judged from, as the tests run any day.
NOW = datetime(2026, 7, 1, tzinfo=UTC)


def seed(*arguments: str) -> str:
    out = io.StringIO()
    call_command("seed_corpus", *arguments, verbosity=0, stdout=out)
    return out.getvalue()


def texts(generator: CorpusGenerator) -> dict[str, list[str]]:
    return {
        t.slug: [s.text for s in segments] for t, segments in generator.transcripts()
    }


def archive_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (JobType, Theme, Narrator, Testimony, ConsentRecord, Segment)
    }


def zipf_slope(counts: Counter, ranks: int = 300) -> float:
    """The least-squares slope of log frequency over log rank."""
    ranked = [n for _, n in counts.most_common(ranks)]
    xs = [math.log(rank) for rank in range(1, len(ranked) + 1)]
    ys = [math.log(n) for n in ranked]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


# --- The generator, without the database ---------------------------------------


def test_the_same_seed_gives_the_same_corpus_and_another_seed_another():
    first = CorpusGenerator(testimonies=4, minutes=3, seed=1)
    again = CorpusGenerator(testimonies=4, minutes=3, seed=1)
    other = CorpusGenerator(testimonies=4, minutes=3, seed=2)
    assert first.narrators == again.narrators
    assert first.testimonies == again.testimonies
    assert texts(first) == texts(again)
    assert list(texts(other).values()) != list(texts(first).values())
    assert [t.title for t in other.testimonies] != [t.title for t in first.testimonies]


def test_word_frequencies_follow_zipfs_law_in_both_languages():
    generator = CorpusGenerator(testimonies=10, minutes=60, seed=3)
    counts = {"fr": Counter(), "en": Counter()}
    for testimony, segments in generator.transcripts():
        for segment in segments:
            counts[testimony.language].update(WORD.findall(segment.text.lower()))
    for language, expected_first in (("fr", "de"), ("en", "the")):
        ranked = counts[language].most_common()
        assert sum(counts[language].values()) > 40_000
        assert ranked[0][0] == expected_first
        # Zipf with an exponent near 1: the 100th word about 100 times rarer.
        assert 50 < ranked[0][1] / ranked[99][1] < 250
        assert -1.2 < zipf_slope(counts[language]) < -0.85


@pytest.mark.parametrize("language", ["fr", "en"])
def test_vocabulary_is_frequent_words_then_click_work_then_made_up_words(language):
    import random

    vocabulary = build_vocabulary(language, random.Random(1))
    words = vocabulary.words
    assert len(words) == len(set(words)) == VOCABULARY_SIZE
    assert all(WORD.fullmatch(word) for word in words)
    function_words = FUNCTION_WORDS[language].split()
    assert list(words[: len(function_words)]) == function_words
    trade = {"fr": ["livreur", "modérateurs", "confidentialité", "micro-tâche"]}
    trade["en"] = ["courier", "moderator", "confidentiality", "annotation"]
    rank = {word: index for index, word in enumerate(words)}
    assert all(len(function_words) <= rank[word] < 1000 for word in trade[language])
    if language == "fr":
        assert sum(bool(re.search("[éèêàâç]", word)) for word in words) > 2000


def test_segments_are_minutes_of_sentences_of_about_150_words():
    generator = CorpusGenerator(testimonies=3, minutes=20, seed=1)
    speakers = Counter()
    for _testimony, segments in generator.transcripts():
        assert [s.position for s in segments] == list(range(20))
        for segment in segments:
            assert segment.start == 60.0 * segment.position
            assert segment.end == segment.start + 60
            assert 120 <= len(segment.text.split()) <= 180
            assert segment.text[0].isupper()
            assert segment.text[-1] in ".?"
            speakers[segment.speaker] += 1
    assert speakers["narrator"] > 3 * speakers["interviewer"] > 0


def test_corpus_mixes_languages_identities_consents_statuses_and_embargoes():
    generator = CorpusGenerator(testimonies=300, minutes=1, seed=1)
    testimonies = generator.testimonies
    assert len(testimonies) == 300
    assert 300 / 3 <= len(generator.narrators) <= 300
    assert {n.identity for n in generator.narrators} == {
        "anonymous",
        "pseudonym",
        "named",
    }
    assert len({n.country for n in generator.narrators}) >= 10
    assert all(1950 <= n.birth_decade <= 2000 for n in generator.narrators)
    french = sum(t.language == "fr" for t in testimonies) / len(testimonies)
    assert 0.55 < french < 0.75
    assert all(2015 <= t.recorded_on.year <= 2025 for t in testimonies)
    assert all(1 <= len(t.themes) <= 3 for t in testimonies)
    statuses = Counter(t.status for t in testimonies)
    assert set(statuses) == {"published", "draft", "in_review", "retired"}
    assert 0.7 < statuses["published"] / len(testimonies) < 0.9
    for testimony in testimonies:
        shown = testimony.status in ("published", "retired")
        assert (testimony.published_at is not None) == shown
    in_force = Counter(t.consents[-1].scope for t in testimonies if t.consents)
    assert set(in_force) == {"public", "research", "archive", "withdrawn"}
    assert in_force.most_common(1)[0][0] == "public"
    assert any(len(t.consents) == 2 for t in testimonies)
    embargoes = [t.embargo_until for t in testimonies if t.embargo_until]
    assert any(e > NOW for e in embargoes) and any(e < NOW for e in embargoes)


# --- The command ---------------------------------------------------------------


@pytest.mark.django_db
def test_command_writes_the_testimonies_and_minutes_asked_for():
    out = seed("--testimonies", "4", "--minutes", "3")
    testimonies = Testimony.objects.filter(slug__startswith="corpus-1-")
    assert testimonies.count() == 4
    assert 2 <= Narrator.objects.filter(key__startswith="corpus-1-").count() <= 4
    assert Segment.objects.filter(testimony__in=testimonies).count() == 12
    assert all(t.consent_records.exists() or t.status == "draft" for t in testimonies)
    words = sum(len(s.text.split()) for s in Segment.objects.all())
    assert "4 testimonies" in out
    assert f"12 segments, {words:,} words" in out


@pytest.mark.django_db
def test_stored_corpus_is_the_generators_one_minute_segments_with_public_text():
    seed("--testimonies", "4", "--minutes", "3", "--seed", "7")
    expected = texts(CorpusGenerator(testimonies=4, minutes=3, seed=7))
    stored: dict[str, list[str]] = {}
    for segment in Segment.objects.select_related("testimony").order_by(
        "testimony__slug", "position"
    ):
        stored.setdefault(segment.testimony.slug, []).append(segment.text)
        assert segment.public_text == segment.text
        assert segment.start == 60.0 * segment.position
        assert segment.end == segment.start + 60
        assert 120 <= len(segment.text.split()) <= 180
    assert stored == expected


@pytest.mark.django_db
def test_stored_consent_in_force_and_statuses_are_mixed_as_planned():
    seed("--testimonies", "40", "--minutes", "1")
    plan = {t.slug: t for t in CorpusGenerator(testimonies=40, minutes=1).testimonies}
    scopes = set()
    for testimony in Testimony.objects.all():
        planned = plan[testimony.slug]
        record = testimony.consent_in_force()
        assert (record.scope if record else None) == (
            planned.consents[-1].scope if planned.consents else None
        )
        assert testimony.status == planned.status
        scopes.add(record.scope if record else None)
    assert len(scopes) >= 3
    assert len(set(Testimony.objects.values_list("status", flat=True))) >= 3
    assert set(Testimony.objects.values_list("language", flat=True)) == {"fr", "en"}


@pytest.mark.django_db
def test_a_slug_already_taken_fails_naming_it_and_writes_nothing():
    TestimonyFactory(slug="corpus-1-00002")
    before = archive_counts()
    with pytest.raises(CommandError, match="'corpus-1-00002'"):
        seed("--testimonies", "4", "--minutes", "3")
    assert archive_counts() == before


@pytest.mark.django_db
def test_a_failure_while_indexing_leaves_the_archive_as_it_was(monkeypatch):
    before = archive_counts()

    def fail(self, ids):
        raise RuntimeError("index unavailable")

    backend = type(corpus.search.get_backend())
    monkeypatch.setattr(backend, "_write_segments", fail)
    with pytest.raises(RuntimeError, match="index unavailable"):
        seed("--testimonies", "3", "--minutes", "2")
    assert archive_counts() == before


@pytest.mark.django_db
def test_seeds_beside_the_demo_data_reusing_its_job_types_and_themes():
    call_command("seed_demo", "--no-renditions", verbosity=0)
    courier = JobType.objects.get(slug="courier")
    themes = set(Theme.objects.values_list("slug", "pk"))
    seed("--testimonies", "6", "--minutes", "2")
    assert JobType.objects.get(slug="courier") == courier
    assert courier.name_fr == JobType.objects.get(pk=courier.pk).name_fr
    assert themes <= set(Theme.objects.values_list("slug", "pk"))
    assert Testimony.objects.filter(slug__startswith="corpus-1-").count() == 6
    # A second corpus beside the first, with another seed.
    seed("--testimonies", "2", "--minutes", "1", "--seed", "2")
    assert Testimony.objects.filter(slug__startswith="corpus-2-").count() == 2
    unions = Theme.objects.get(slug="unions")
    assert unions.parent.slug == "organising"


@pytest.mark.django_db
def test_seeded_testimonies_are_indexed_and_found_by_search():
    seed("--testimonies", "8", "--minutes", "3")
    assert_index_exact()
    kept = list(Testimony.objects.searchable())
    assert kept
    counts = Counter()
    for segment in Segment.objects.all():
        counts.update(set(WORD.findall(segment.text.lower())))
    function_words = {w.lower() for ws in FUNCTION_WORDS.values() for w in ws.split()}
    for testimony in kept[:3]:
        words = {
            word
            for segment in testimony.segments.all()
            for word in WORD.findall(segment.text.lower())
            if word not in function_words and len(word) > 4
        }
        rarest = min(sorted(words), key=lambda word: counts[word])
        results = search.search(rarest, Testimony.objects.all(), page_size=100)
        assert testimony.pk in {hit.testimony.pk for hit in results.hits}, rarest


@pytest.mark.django_db
def test_published_corpus_testimonies_pass_the_publication_gate():
    seed("--testimonies", "12", "--minutes", "2")
    published = Testimony.objects.filter(status="published")
    assert published.exists()
    assert any(n.sensitive_terms for n in Narrator.objects.all())
    for testimony in published:
        assert gate.publication_hits(testimony) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--testimonies", "0", "--minutes", "3"], "--testimonies"),
        (["--testimonies", "2", "--minutes", "-1"], "--minutes"),
        (["--testimonies", "many", "--minutes", "3"], "--testimonies"),
        (["--testimonies", "2", "--minutes", "1.5"], "--minutes"),
        (["--testimonies", "2", "--minutes", "1", "--seed", "-4"], "--seed"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(arguments, named):
    with pytest.raises(CommandError, match=named):
        seed(*arguments)
    assert not Testimony.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "named"),
    [({"minutes": 0}, "--minutes"), ({"minutes": 1, "seed": -1}, "--seed")],
)
def test_bad_values_passed_by_keyword_are_refused_naming_the_argument(values, named):
    with pytest.raises(CommandError, match=named):
        call_command("seed_corpus", testimonies=2, verbosity=0, **values)

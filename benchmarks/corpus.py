"""A synthetic archive for benchmarks: deterministic, realistically shaped, fast.

``CorpusGenerator`` plans narrators and testimonies and writes their transcripts
from a Zipf-distributed vocabulary per language, all from one
``random.Random(seed)``; ``corpus_seed`` writes a corpus in one transaction with
bulk inserts and indexes it for search. Every date is fixed, not relative to
today, so that the same seed gives the same archive on any day.
"""

import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from django.db import transaction

from testimonies import search
from testimonies.gate import fold
from testimonies.importers.bundle import insert_segment_rows
from testimonies.models import (
    ConsentRecord,
    JobType,
    Narrator,
    Segment,
    Testimony,
    Theme,
)

from .words import (
    BIRTH_DECADES,
    CONSENT_NOTES,
    CONTENT_WARNINGS,
    COUNTRIES_BY_LANGUAGE,
    COUNTRY_NAMES,
    EARLIER_SCOPE,
    FUNCTION_WORDS,
    GENERAL_WORDS,
    IDENTITIES,
    INTERVIEWERS,
    JOB_DESCRIPTORS,
    JOB_TYPES,
    JOBS_BY_COUNTRY,
    MEDIA_RELEASES,
    NAMES,
    PLATFORM_TRADES,
    REGIONS,
    SCOPES,
    STATUSES,
    SYLLABLES,
    THEMES,
    THEMES_OF_JOB,
    TITLE_LINKS,
    TOPIC_WORDS,
    WARNING_ODDS,
)

ZIPF_EXPONENT = 1.05
VOCABULARY_SIZE = 25_000
# How much more often a testimony says the words of its narrator's trade.
TOPIC_BOOST = 5.0
WORDS_PER_MINUTE = (120, 180)
SEGMENT_SECONDS = 60
FIRST_RECORDING = date(2015, 1, 1)
LAST_RECORDING = date(2025, 12, 31)
# Publications, later consent records and past embargoes end here; future
# embargoes start after it.
LAST_EVENT = date(2026, 6, 30)
FUTURE_EMBARGOES = (date(2027, 1, 1), date(2030, 12, 31))
SUMMARY_MARKER = {
    "fr": "Témoignage synthétique (corpus de test).",
    "en": "Synthetic testimony (test corpus).",
}
SEGMENT_BATCH = 5_000
LOOKUP_BATCH = 500

# Letters of made-up words, by kind, for each language.
_SYLLABLE_PARTS = {
    language: {key: value.split() for key, value in parts.items()}
    for language, parts in SYLLABLES.items()
}

_WORD_RE = re.compile(r"[^\W\d_]+")
_PUBLIC_WORDS = (
    NAMES,
    REGIONS,
    COUNTRY_NAMES,
    JOB_TYPES,
    JOB_DESCRIPTORS,
    THEMES,
    CONTENT_WARNINGS,
    SUMMARY_MARKER,
    INTERVIEWERS,
)


def _weighted(table: dict) -> tuple[list, list[float]]:
    """A table of weights as a population and its cumulative weights."""
    return list(table), list(accumulate(table.values()))


def _pick(rng: random.Random, table: dict):
    population, cum_weights = _weighted(table)
    return rng.choices(population, cum_weights=cum_weights)[0]


# --- Vocabulary -------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """One language's words by rank, most frequent first, with each trade's words."""

    language: str
    words: tuple[str, ...]
    function_count: int
    topics: dict[str, frozenset[int]]

    def weights(self, job: str | None = None) -> list[float]:
        """Zipf weights by rank, the words of ``job``'s trade said more often."""
        weights = [1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(self.words))]
        for rank in self.topics.get(job, ()):
            weights[rank] *= TOPIC_BOOST
        return weights


def pseudo_word(rng: random.Random, language: str) -> str:
    """A pronounceable word of letters only, shaped like the language's words."""
    parts = _SYLLABLE_PARTS[language]
    count = rng.choices((1, 2, 3, 4), cum_weights=(15, 65, 95, 100))[0]
    word = []
    for index in range(count):
        if index or rng.random() < 0.8:
            word.append(rng.choice(parts["onsets"]))
        word.append(rng.choice(parts["vowels"]))
        # Inside a word only a liquid or a nasal closes a syllable.
        if index == count - 1:
            if rng.random() < 0.4:
                word.append(rng.choice(parts["codas"]))
        elif rng.random() < 0.2:
            word.append(rng.choice("rln"))
    if rng.random() < 0.3:
        word.append(rng.choice(parts["suffixes"]))
    return "".join(word)


def build_vocabulary(
    language: str, rng: random.Random, size: int = VOCABULARY_SIZE
) -> Vocabulary:
    """Real frequent words, then click work's, then a deterministic long tail."""
    ranks: dict[str, int] = {}
    for word in FUNCTION_WORDS[language].split():
        ranks.setdefault(word, len(ranks))
    function_count = len(ranks)
    for word in GENERAL_WORDS[language].split():
        ranks.setdefault(word, len(ranks))
    # The trades' words in turns, so that no trade has only rare words.
    topic_lists = {job: words.split() for job, words in TOPIC_WORDS[language].items()}
    for turn in range(max(len(words) for words in topic_lists.values())):
        for words in topic_lists.values():
            if turn < len(words):
                ranks.setdefault(words[turn], len(ranks))
    topics = {
        job: frozenset(ranks[word] for word in words)
        for job, words in topic_lists.items()
    }
    while len(ranks) < size:
        word = pseudo_word(rng, language)
        if len(word) > 3:
            ranks.setdefault(word, len(ranks))
    return Vocabulary(language, tuple(ranks), function_count, topics)


@dataclass(frozen=True)
class _Sampler:
    words: tuple[str, ...]
    cum_weights: list[float]
    content: tuple[str, ...]
    content_cum_weights: list[float]


def _sampler(vocabulary: Vocabulary, job: str) -> _Sampler:
    weights = vocabulary.weights(job)
    cut = vocabulary.function_count
    return _Sampler(
        vocabulary.words,
        list(accumulate(weights)),
        vocabulary.words[cut:],
        list(accumulate(weights[cut:])),
    )


# --- Plans --------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentPlan:
    scope: str
    media: str
    given_on: date
    note: str = ""


@dataclass(frozen=True)
class NarratorPlan:
    key: str
    public_name: str
    identity: str
    language: str
    country: str
    region: str
    birth_decade: int
    job_types: tuple[str, ...]
    descriptor_fr: str = ""
    descriptor_en: str = ""
    sensitive_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestimonyPlan:
    slug: str
    title: str
    narrator: str
    job: str
    language: str
    recorded_on: date
    place: str
    interviewer: str
    summary: str
    themes: tuple[str, ...]
    content_warnings: tuple[str, ...]
    status: str
    published_at: datetime | None
    embargo_until: datetime | None
    consents: tuple[ConsentPlan, ...]


@dataclass(frozen=True)
class SegmentPlan:
    position: int
    start: float
    end: float
    speaker: str
    text: str


class CorpusGenerator:
    """Narrators, testimonies and transcripts, all drawn from ``Random(seed)``.

    ``narrators`` and ``testimonies`` are planned at once; transcripts are
    drawn by ``segments`` testimony after testimony, which must be asked for
    in order for the corpus to be the same from one run to the next.
    """

    def __init__(self, *, testimonies: int, minutes: int, seed: int = 1) -> None:
        self.seed = seed
        self.minutes = minutes
        self.rng = random.Random(seed)
        self.vocabularies = {
            language: build_vocabulary(language, self.rng) for language in ("fr", "en")
        }
        self._samplers = {
            (language, job): _sampler(vocabulary, job)
            for language, vocabulary in self.vocabularies.items()
            for job in JOB_TYPES
        }
        self._sentence_lengths, self._sentence_cum_weights = _weighted(
            # Mostly 8 to 16 words, a few short answers and long runs.
            {n: 10 - abs(n - 12) * 0.6 for n in range(3, 28)}
        )
        width = max(5, len(str(testimonies)))
        self._slug = f"corpus-{seed}-{{:0{width}d}}"
        self._key = f"corpus-{seed}-n{{:0{width}d}}"
        self.narrators: list[NarratorPlan] = []
        self.testimonies: list[TestimonyPlan] = []
        self._plan(testimonies)

    # --- people and testimonies ---------------------------------------------

    def _plan(self, count: int) -> None:
        rng = self.rng
        # Every word a public field of the corpus may hold.
        taken = {fold(word) for v in self.vocabularies.values() for word in v.words}
        taken.update(fold(word) for word in _WORD_RE.findall(repr(_PUBLIC_WORDS)))
        while len(self.testimonies) < count:
            narrator = self._narrator(len(self.narrators) + 1, taken)
            self.narrators.append(narrator)
            interviews = rng.choices((1, 2, 3), cum_weights=(50, 80, 100))[0]
            interviews = min(interviews, count - len(self.testimonies))
            recorded_on = FIRST_RECORDING + timedelta(
                days=rng.randrange((date(2024, 6, 30) - FIRST_RECORDING).days)
            )
            for _ in range(interviews):
                recorded_on = min(recorded_on, LAST_RECORDING)
                self.testimonies.append(
                    self._testimony(len(self.testimonies) + 1, narrator, recorded_on)
                )
                recorded_on += timedelta(days=rng.randint(180, 900))

    def _narrator(self, number: int, taken: set[str]) -> NarratorPlan:
        rng = self.rng
        language = "fr" if rng.random() < 0.65 else "en"
        country = _pick(rng, COUNTRIES_BY_LANGUAGE[language])
        region = rng.choice(list(REGIONS[country]))
        jobs = JOBS_BY_COUNTRY.get(country, PLATFORM_TRADES)
        job_types = [_pick(rng, jobs)]
        if rng.random() < 0.15:
            other = _pick(rng, PLATFORM_TRADES)
            if other not in job_types:
                job_types.append(other)
        identity = _pick(rng, IDENTITIES)
        woman = rng.random() < 0.5
        men, women, surnames = NAMES[country]
        first = rng.choice((women if woman else men).split())
        surname = rng.choice(surnames.split())
        descriptor_fr = descriptor_en = ""
        if identity == Narrator.Identity.NAMED:
            public_name = f"{first} {surname}"
        elif identity == Narrator.Identity.PSEUDONYM:
            public_name = first if rng.random() < 0.5 else f"{first} {surname[0]}."
        else:
            masculine, feminine, english = JOB_DESCRIPTORS[job_types[0]]
            country_fr, country_en = COUNTRY_NAMES[country]
            descriptor_fr = (
                f"{feminine if woman else masculine}, {region} ({country_fr})"
            )
            descriptor_en = f"{english}, {region} ({country_en})"
            # An internal label, never shown: the descriptor stands in for it.
            public_name = f"{JOB_TYPES[job_types[0]][1]} {number:05d}"
        terms = []
        for _ in range(rng.choices((0, 1, 2, 3), cum_weights=(30, 60, 85, 100))[0]):
            # Colleagues' names and project names: never a word the corpus says.
            term = pseudo_word(rng, language).capitalize()
            if fold(term) not in taken and len(term) > 3:
                terms.append(term)
                taken.add(fold(term))
        return NarratorPlan(
            key=self._key.format(number),
            public_name=public_name,
            identity=identity,
            language=language,
            country=country,
            region=region,
            birth_decade=_pick(rng, BIRTH_DECADES),
            job_types=tuple(job_types),
            descriptor_fr=descriptor_fr,
            descriptor_en=descriptor_en,
            sensitive_terms=tuple(terms),
        )

    def _testimony(
        self, number: int, narrator: NarratorPlan, recorded_on: date
    ) -> TestimonyPlan:
        rng = self.rng
        language = narrator.language
        job = narrator.job_types[0]
        place = rng.choice(REGIONS[narrator.country][narrator.region])
        status = _pick(rng, STATUSES)
        published_at = None
        if status in (Testimony.Status.PUBLISHED, Testimony.Status.RETIRED):
            published_on = min(
                recorded_on + timedelta(days=rng.randint(30, 540)), LAST_EVENT
            )
            published_at = datetime.combine(published_on, datetime.min.time(), UTC)
            published_at += timedelta(minutes=rng.randrange(8 * 60, 19 * 60))
        embargo_until = None
        if rng.random() < 0.1:
            if rng.random() < 0.5:
                start, end = FUTURE_EMBARGOES
            else:
                start, end = recorded_on, LAST_EVENT
            day = start + timedelta(days=rng.randint(0, max(0, (end - start).days)))
            embargo_until = datetime.combine(day, datetime.min.time(), UTC)
        preferred = THEMES_OF_JOB[job]
        pool = preferred if rng.random() < 0.85 else list(THEMES)
        themes = rng.sample(pool, rng.choices((1, 2, 3), cum_weights=(35, 75, 100))[0])
        warnings: list[str] = []
        choices = CONTENT_WARNINGS[language].get(job)
        if choices and rng.random() < WARNING_ODDS.get(job, 0.1):
            warnings = rng.sample(choices, rng.randint(1, min(3, len(choices))))
        return TestimonyPlan(
            slug=self._slug.format(number),
            title=self._title(language, job, place),
            narrator=narrator.key,
            job=job,
            language=language,
            recorded_on=recorded_on,
            place=place,
            interviewer=_pick(rng, INTERVIEWERS[language]),
            summary=" ".join(
                [
                    SUMMARY_MARKER[language],
                    self._prose(
                        self._words(language, job, rng.randint(25, 50)), "narrator"
                    ),
                ]
            ),
            themes=tuple(themes),
            content_warnings=tuple(warnings),
            status=status,
            published_at=published_at,
            embargo_until=embargo_until,
            consents=self._consents(language, status, recorded_on),
        )

    def _title(self, language: str, job: str, place: str) -> str:
        rng = self.rng
        sampler = self._samplers[language, job]
        words = rng.choices(
            sampler.content, cum_weights=sampler.content_cum_weights, k=3
        )
        links = TITLE_LINKS[language]
        title = f"{words[0].capitalize()} {rng.choice(links)} {words[1]}"
        if rng.random() < 0.4:
            title += f", {words[2]}"
        if rng.random() < 0.3:
            title += f", à {place}" if language == "fr" else f", in {place}"
        return title

    def _consents(
        self, language: str, status: str, recorded_on: date
    ) -> tuple[ConsentPlan, ...]:
        rng = self.rng
        if status == Testimony.Status.DRAFT and rng.random() < 0.25:
            return ()  # not yet asked
        scope = _pick(rng, SCOPES)
        given_on = recorded_on + timedelta(days=rng.randint(0, 30))
        media = _pick(rng, MEDIA_RELEASES)
        if scope != ConsentRecord.Scope.WITHDRAWN and rng.random() >= 0.12:
            return (ConsentPlan(scope, media, given_on),)
        later = min(given_on + timedelta(days=rng.randint(60, 900)), LAST_EVENT)
        return (
            ConsentPlan(EARLIER_SCOPE[scope], media, given_on),
            ConsentPlan(
                scope, media, max(later, given_on), CONSENT_NOTES[language][scope]
            ),
        )

    # --- transcripts ----------------------------------------------------------

    def _words(self, language: str, job: str, count: int) -> list[str]:
        sampler = self._samplers[language, job]
        return self.rng.choices(sampler.words, cum_weights=sampler.cum_weights, k=count)

    def _prose(self, words: list[str], speaker: str) -> str:
        """Sentences of these words: a capital first, a few commas, a full stop."""
        rng = self.rng
        random_ = rng.random
        asks = speaker == Segment.Speaker.INTERVIEWER
        lengths = rng.choices(
            self._sentence_lengths,
            cum_weights=self._sentence_cum_weights,
            k=len(words) // 3 + 1,
        )
        sentences = []
        start, total = 0, len(words)
        for length in lengths:
            end = start + length
            if total - end < 3:
                end = total  # no sentence of one or two words at the end
            sentence = words[start:end]
            if len(sentence) >= 8 and random_() < 0.5:
                sentence[rng.randrange(2, len(sentence) - 3)] += ","
            sentence[0] = sentence[0].capitalize()
            mark = "?" if asks and random_() < 0.6 else "."
            sentences.append(" ".join(sentence) + mark)
            start = end
            if start >= total:
                break
        return " ".join(sentences)

    def segments(self, testimony: TestimonyPlan) -> list[SegmentPlan]:
        """The testimony's transcript: one segment a minute, about 150 words each."""
        rng = self.rng
        low, high = WORDS_PER_MINUTE
        counts = [rng.randint(low, high) for _ in range(self.minutes)]
        words = self._words(testimony.language, testimony.job, sum(counts))
        segments = []
        offset = 0
        for position, count in enumerate(counts):
            draw = rng.random()
            if position == 0 or draw < 0.1:
                speaker = Segment.Speaker.INTERVIEWER.value
            elif draw < 0.11:
                speaker = Segment.Speaker.OTHER.value
            else:
                speaker = Segment.Speaker.NARRATOR.value
            start = float(position * SEGMENT_SECONDS)
            segments.append(
                SegmentPlan(
                    position,
                    start,
                    start + SEGMENT_SECONDS,
                    speaker,
                    self._prose(words[offset : offset + count], speaker),
                )
            )
            offset += count
        return segments

    def transcripts(self) -> Iterator[tuple[TestimonyPlan, list[SegmentPlan]]]:
        """Every testimony with its segments, in order."""
        for testimony in self.testimonies:
            yield testimony, self.segments(testimony)


# --- Writing ----------------------------------------------------------------------


class CorpusError(Exception):
    """A corpus that cannot be written; nothing was."""


@dataclass
class SeedReport:
    testimonies: int = 0
    narrators: int = 0
    segments: int = 0
    words: int = 0
    job_types_created: int = 0
    themes_created: int = 0
    seconds: float = 0.0
    generation_seconds: float = 0.0
    index_seconds: float = 0.0
    testimony_ids: list[int] = field(default_factory=list, repr=False)


def _batches(items: list, size: int = LOOKUP_BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing(model, field_name: str, values: list[str]) -> list[str]:
    found: list[str] = []
    for chunk in _batches(values):
        found += model.objects.filter(**{f"{field_name}__in": chunk}).values_list(
            field_name, flat=True
        )
    return sorted(found)


def _ids(model, field_name: str, values: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _batches(values):
        ids.update(
            model.objects.filter(**{f"{field_name}__in": chunk}).values_list(
                field_name, "pk"
            )
        )
    return ids


def _ensure_taxonomy(report: SeedReport) -> tuple[dict[str, int], dict[str, int]]:
    """The ids of the corpus's job types and themes: stored ones as they are."""
    job_types = dict(
        JobType.objects.filter(slug__in=JOB_TYPES).values_list("slug", "pk")
    )
    for slug, (name_fr, name_en, isco) in JOB_TYPES.items():
        if slug not in job_types:
            job_types[slug] = JobType.objects.create(
                slug=slug, name_fr=name_fr, name_en=name_en, isco=isco
            ).pk
            report.job_types_created += 1
    themes = dict(Theme.objects.filter(slug__in=THEMES).values_list("slug", "pk"))
    for slug, (name_fr, name_en, parent) in THEMES.items():
        if slug not in themes:
            themes[slug] = Theme.objects.create(
                slug=slug,
                name_fr=name_fr,
                name_en=name_en,
                parent_id=themes[parent] if parent else None,
            ).pk
            report.themes_created += 1
    return job_types, themes


def corpus_seed(
    *,
    testimonies: int,
    minutes: int,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
    indexing: Callable[[], None] | None = None,
) -> SeedReport:
    """Write a synthetic corpus and index it, in one transaction: all or nothing."""
    if testimonies < 1 or minutes < 1 or seed < 0:
        raise CorpusError("testimonies and minutes must be at least 1, seed at least 0")
    began = time.perf_counter()
    generator = CorpusGenerator(testimonies=testimonies, minutes=minutes, seed=seed)
    report = SeedReport(
        testimonies=len(generator.testimonies), narrators=len(generator.narrators)
    )
    slugs = [t.slug for t in generator.testimonies]
    keys = [n.key for n in generator.narrators]
    for model, field_name, values, what in (
        (Testimony, "slug", slugs, "testimony"),
        (Narrator, "key", keys, "narrator"),
    ):
        if taken := _existing(model, field_name, values):
            more = f" and {len(taken) - 1} more" if len(taken) > 1 else ""
            raise CorpusError(
                f"the archive already holds a {what} {taken[0]!r}{more} from a "
                f"corpus of seed {seed}; choose another seed. Nothing was written."
            )
    generation = time.perf_counter() - began
    with transaction.atomic():
        job_types, themes = _ensure_taxonomy(report)
        Narrator.objects.bulk_create(
            (
                Narrator(
                    key=n.key,
                    public_name=n.public_name,
                    identity=n.identity,
                    descriptor_fr=n.descriptor_fr,
                    descriptor_en=n.descriptor_en,
                    country=n.country,
                    region=n.region,
                    birth_decade=n.birth_decade,
                    sensitive_terms=list(n.sensitive_terms),
                )
                for n in generator.narrators
            ),
            batch_size=1000,
        )
        narrator_ids = _ids(Narrator, "key", keys)
        Narrator.job_types.through.objects.bulk_create(
            (
                Narrator.job_types.through(
                    narrator_id=narrator_ids[n.key], jobtype_id=job_types[slug]
                )
                for n in generator.narrators
                for slug in n.job_types
            ),
            batch_size=1000,
        )
        Testimony.objects.bulk_create(
            (
                Testimony(
                    slug=t.slug,
                    title=t.title,
                    narrator_id=narrator_ids[t.narrator],
                    language=t.language,
                    recorded_on=t.recorded_on,
                    place=t.place,
                    interviewer=t.interviewer,
                    summary=t.summary,
                    content_warnings=list(t.content_warnings),
                    status=t.status,
                    published_at=t.published_at,
                    embargo_until=t.embargo_until,
                )
                for t in generator.testimonies
            ),
            batch_size=500,
        )
        testimony_ids = _ids(Testimony, "slug", slugs)
        report.testimony_ids = [testimony_ids[slug] for slug in slugs]
        Testimony.themes.through.objects.bulk_create(
            (
                Testimony.themes.through(
                    testimony_id=testimony_ids[t.slug], theme_id=themes[slug]
                )
                for t in generator.testimonies
                for slug in t.themes
            ),
            batch_size=1000,
        )
        # The record in force is the last by primary key: each round of
        # records is inserted after the one before it.
        for round_ in range(max(len(t.consents) for t in generator.testimonies)):
            ConsentRecord.objects.bulk_create(
                (
                    ConsentRecord(
                        testimony_id=testimony_ids[t.slug],
                        scope=c.scope,
                        media=c.media,
                        given_on=c.given_on,
                        note=c.note,
                    )
                    for t in generator.testimonies
                    if len(t.consents) > round_
                    for c in [t.consents[round_]]
                ),
                batch_size=1000,
            )
        rows: list[tuple] = []
        done = 0
        drawn = time.perf_counter()
        for testimony, segments in generator.transcripts():
            pk = testimony_ids[testimony.slug]
            for s in segments:
                rows.append((pk, s.position, s.start, s.end, s.speaker, s.text, s.text))
                report.words += s.text.count(" ") + 1
            report.segments += len(segments)
            done += 1
            if len(rows) >= SEGMENT_BATCH:
                generation += time.perf_counter() - drawn
                insert_segment_rows(rows)
                drawn = time.perf_counter()
                rows = []
                if progress:
                    progress(done)
                    done = 0
        generation += time.perf_counter() - drawn
        if rows:
            insert_segment_rows(rows)
        if progress and done:
            progress(done)
        if indexing:
            indexing()
        indexed = time.perf_counter()
        # A bulk write: the index is rebuilt whole, which builds its text
        # indexes in bulk and lets the planner see the new sizes.
        search.get_backend().rebuild()
        report.index_seconds = time.perf_counter() - indexed
    report.generation_seconds = generation
    report.seconds = time.perf_counter() - began
    return report

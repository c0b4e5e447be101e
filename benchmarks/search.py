"""How fast the public search answers a fixed mix of queries, with two references.

Used by ``manage.py benchmark_search``. The queries come from the database
itself: a bounded, evenly spread sample of public segments, read through the
engine's own analyser (``analyse``) so that every chosen word is a real index
term. Every random choice draws from ``random.Random(SEED)`` over sorted
inputs, so the same database gives the same mix.

Three things are timed with ``time.perf_counter``, results fully materialised:

- ``search``: ``search.search`` on ``visible_to(AnonymousUser())``: rank, hits,
  snippets, counts and facets, as a page of results needs them;
- ``floor``: the bare SQL of our own first page of 20 (``floor_statement``)
  through the cursor: on PostgreSQL the one statement the search runs, with its
  ranking, total, headlines and facets; what no Python layer can beat;
- ``ranking``: the same statement without headlines and facets, to show what
  they cost (on SQLite, whose search runs several statements, both references
  are the ranking statement);
- ``naive``: the same question as Django ``icontains`` over segments, as a small
  site would ask it; a full scan, so only on a subset and once each.
"""

import hashlib
import math
import os
import random
import re
import statistics
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection, connections
from django.db.models import Count, Q, QuerySet

import testimonies.search
from testimonies.models import Segment, Testimony
from testimonies.search import Filters, get_backend, parse, postgres, search

SEED = 0
# The mix of 100 queries; other totals are shared out in these proportions.
CLASS_WEIGHTS = {
    "very_common": 10,
    "common": 15,
    "rare": 15,
    "and2": 12,
    "and3": 8,
    "phrase": 12,
    "or": 8,
    "not": 8,
    "filtered": 12,
}
CLASSES = tuple(CLASS_WEIGHTS)
# Bounds on the sampling, whatever the size of the archive.
SAMPLE_SEGMENTS = 3000
HEAD_WORDS = 2000  # most frequent words per language, all analysed
RARE_CANDIDATES = 400  # and this many of the rarest, drawn at random
RARE_MAX = 3  # occurrences in the sample
VERY_COMMON_RANKS = (0, 10)
COMMON_RANKS = (50, 300)
MIN_WORD = 2
ATTEMPTS = 30
TOP = 20
# Letters only: digits and underscores make no query anyone types.
WORD = re.compile(r"[^\W\d_]+")

Progress = Callable[[str], None]


class BenchmarkError(Exception):
    """The benchmark cannot run on this database or with these settings."""


@dataclass(frozen=True)
class BenchQuery:
    id: int
    kind: str
    text: str
    filters: dict = field(default_factory=dict)

    def narrowing(self) -> Filters:
        return Filters(**self.filters)


# --- statistics -----------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: always one of the measured values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict:
    """n, p50, p95 and p99 of some latencies (ms)."""
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
    }


def per_class(queries: list[BenchQuery], values: dict[int, float]) -> dict:
    """``summary`` of one value per query, for each class and for all."""
    out = {}
    for kind in CLASSES:
        out[kind] = summary([values[q.id] for q in queries if q.kind == kind])
    out["all"] = summary([values[q.id] for q in queries if q.id in values])
    return out


def class_sizes(total: int) -> dict[str, int]:
    """How many queries of each class make ``total``: one each, the rest by weight."""
    if total < len(CLASSES):
        raise BenchmarkError(f"at least {len(CLASSES)} queries: one per class")
    weight = sum(CLASS_WEIGHTS.values())
    spare = total - len(CLASSES)
    shares = {k: spare * w / weight for k, w in CLASS_WEIGHTS.items()}
    sizes = {k: 1 + int(s) for k, s in shares.items()}
    by_remainder = sorted(CLASSES, key=lambda k: (-(shares[k] % 1), CLASSES.index(k)))
    for kind in by_remainder[: total - sum(sizes.values())]:
        sizes[kind] += 1
    return sizes


# --- the engine's words ------------------------------------------------------------


def analyse(text: str, language: str) -> list[str]:
    """The terms the search index holds for ``text`` in ``language`` (stop words
    give none), in order of first appearance."""
    if get_backend().vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, %s))"
                " ORDER BY positions[1]",
                [postgres.config_for(language), text],
            )
            return [row[0] for row in cursor.fetchall()]
    # FTS5's unicode61 with remove_diacritics 2: letters and digits, folded and
    # unaccented.
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    terms: list[str] = []
    for term in re.findall(r"[^\W_]+", plain):
        if term not in terms:
            terms.append(term)
    return terms


# --- the query mix ----------------------------------------------------------------


def visible() -> QuerySet:
    return Testimony.objects.visible_to(AnonymousUser())


@dataclass
class Corpus:
    testimonies: int
    visible_testimonies: int
    segments: int
    visible_segments: int
    sample: list[tuple[str, str]]  # (language, public text), by segment id

    @property
    def words(self) -> int:
        """Approximate words: mean words of the sampled segments × all segments."""
        if not self.sample:
            return 0
        mean = statistics.fmean(len(text.split()) for _, text in self.sample)
        return round(mean * self.segments)


def read_corpus(limit: int = SAMPLE_SEGMENTS) -> Corpus:
    """Counts, and the public text of every k-th visible segment by id."""
    ids = list(
        Segment.objects.filter(testimony__in=visible().values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    chosen = ids[:: max(1, math.ceil(len(ids) / limit))]
    sample = []
    for offset in range(0, len(chosen), 500):
        sample += (
            Segment.objects.filter(pk__in=chosen[offset : offset + 500])
            .order_by("pk")
            .values_list("testimony__language", "public_text")
        )
    return Corpus(
        testimonies=Testimony.objects.count(),
        visible_testimonies=visible().count(),
        segments=Segment.objects.count(),
        visible_segments=len(ids),
        sample=sample,
    )


class Vocabulary:
    """The sample's index terms per language, by frequency, as their commonest word."""

    def __init__(self, sample: list[tuple[str, str]], rng: random.Random) -> None:
        self._terms: dict[tuple[str, str], tuple[str, ...]] = {}
        counts: dict[str, Counter] = {}
        for language, text in sample:
            counts.setdefault(language, Counter()).update(
                w.lower() for w in WORD.findall(text)
            )
        self.share = {lang: sum(c.values()) for lang, c in sorted(counts.items())}
        self.ranked: dict[str, list[str]] = {}
        self.rank: dict[str, dict[str, int]] = {}
        self.frequency: dict[str, dict[str, int]] = {}
        for language, words in sorted(counts.items()):
            by_count = sorted(words.items(), key=lambda wc: (-wc[1], wc[0]))
            head = [w for w, _ in by_count[:HEAD_WORDS]]
            # Rare words are the long tail: a random few of it are analysed, so
            # that the work stays bounded however large the vocabulary. A term
            # also reached by unanalysed tail words is undercounted, but those
            # are rare too.
            tail = [w for w, c in by_count[HEAD_WORDS:] if c <= RARE_MAX and len(w) > 2]
            tail = rng.sample(tail, min(RARE_CANDIDATES, len(tail)))
            term_count: Counter = Counter()
            surface: dict[str, str] = {}
            for word in head + tail:
                terms = self.terms(language, word)
                if len(terms) != 1:
                    continue
                term_count[terms[0]] += words[word]
                surface.setdefault(terms[0], word)
            ranked = sorted(term_count.items(), key=lambda tc: (-tc[1], tc[0]))
            self.ranked[language] = [surface[t] for t, _ in ranked]
            self.rank[language] = {w: i for i, w in enumerate(self.ranked[language])}
            self.frequency[language] = {surface[t]: c for t, c in ranked}

    def terms(self, language: str, word: str) -> tuple[str, ...]:
        """The index terms of a word; none for stop words and unusable words."""
        key = (language, word)
        if key not in self._terms:
            usable = len(word) >= MIN_WORD and word != "or"  # "or" is the operator
            self._terms[key] = tuple(analyse(word, language)) if usable else ()
        return self._terms[key]

    def band(self, language: str, kind: str) -> list[str]:
        """A language's words of one frequency class, never empty if it has words."""
        ranked = self.ranked[language]
        if kind == "very_common":
            chosen = ranked[slice(*VERY_COMMON_RANKS)]
        elif kind == "common":
            chosen = ranked[slice(*COMMON_RANKS)]
        else:
            common = set(ranked[: COMMON_RANKS[1]])
            chosen = [
                w
                for w in ranked
                if self.frequency[language][w] <= RARE_MAX
                and len(w) > 2
                and w not in common
            ]
        # A small archive has few terms: the lower two thirds stand in.
        return chosen or ranked[len(ranked) // 3 :] or ranked

    def languages(self) -> list[str]:
        return [lang for lang in self.share if self.ranked[lang]]


class MixBuilder:
    """Draws the queries of each class; every choice from one seeded generator."""

    def __init__(self, corpus: Corpus, rng: random.Random) -> None:
        self.rng = rng
        self.vocabulary = Vocabulary(corpus.sample, rng)
        self.languages = self.vocabulary.languages()
        if not self.languages:
            raise BenchmarkError("the public testimonies hold no searchable text")
        self.sample = [(lang, t) for lang, t in corpus.sample if lang in self.languages]
        self.filter_choices = most_common_filters()

    def language(self) -> str:
        weights = [self.vocabulary.share[lang] for lang in self.languages]
        return self.rng.choices(self.languages, weights)[0]

    def word(self, kind: str, language: str | None = None) -> str:
        if language not in self.languages:
            language = self.language()
        return self.rng.choice(self.vocabulary.band(language, kind))

    def segment(self, language: str | None) -> tuple[str, str]:
        sample = [s for s in self.sample if s[0] == language] or self.sample
        return self.rng.choice(sample)

    def segment_words(self, count: int, language: str | None) -> str | None:
        """``count`` words of one segment, so found together: all but one common."""
        language, text = self.segment(language)
        rank = self.vocabulary.rank[language]
        words = sorted(
            {
                w
                for w in (w.lower() for w in WORD.findall(text))
                if rank.get(w, -1) >= VERY_COMMON_RANKS[1]
            }
        )
        common = [w for w in words if rank[w] < COMMON_RANKS[1]]
        if len(common) < count - 1:
            return None
        chosen = self.rng.sample(common, count - 1)
        rest = [w for w in words if w not in chosen]
        if not rest:
            return None
        return " ".join([*chosen, self.rng.choice(rest)])

    def phrase(self, language: str | None) -> str | None:
        language, text = self.segment(language)
        chunks = text.split()
        length = self.rng.choice((2, 3))
        if len(chunks) < length:
            return None
        start = self.rng.randrange(len(chunks) - length + 1)
        words = [c.lower() for c in chunks[start : start + length]]
        # Whole words only, so that the phrase is also found as written by a
        # plain substring scan; each a term, so it is no phrase of stop words.
        if all(WORD.fullmatch(w) and self.vocabulary.terms(language, w) for w in words):
            return '"' + " ".join(words) + '"'
        return None

    def text(self, kind: str, language: str | None = None) -> str | None:
        """A query of one class, in ``language`` if given, else in any."""
        if kind in ("very_common", "common", "rare"):
            return self.word(kind, language)
        if kind == "and2":
            return self.segment_words(2, language)
        if kind == "and3":
            return self.segment_words(3, language)
        if kind == "phrase":
            return self.phrase(language)
        language = language or self.language()
        if kind == "or":
            other = self.rng.choice(("common", "rare"))
            first, second = self.word("common", language), self.word(other, language)
            return f"{first} or {second}" if first != second else None
        if kind == "not":
            first = self.word(self.rng.choice(("very_common", "common")), language)
            second = self.word("common", language)
            return f"{first} -{second}" if first != second else None
        raise ValueError(kind)

    def build(self, total: int) -> list[BenchQuery]:
        sizes = class_sizes(total)
        queries: list[BenchQuery] = []
        seen: set[tuple] = set()
        bases = [k for k in CLASSES if k != "filtered"]
        narrowings = [
            {name: (value,)} for name, value in self.filter_choices.items() if value
        ]
        for kind in CLASSES:
            for n in range(sizes[kind]):
                base = bases[n % len(bases)] if kind == "filtered" else kind
                filters = narrowings[n % len(narrowings)] if kind == "filtered" else {}
                text = None
                for _ in range(ATTEMPTS):
                    # Under a language filter, words of that language.
                    drawn = self.text(base, (filters.get("language") or (None,))[0])
                    if drawn and (drawn, repr(filters)) not in seen:
                        text = drawn
                        break
                # A tiny archive may run out of distinct queries: repeat one.
                text = text or drawn or self.word("common")
                seen.add((text, repr(filters)))
                queries.append(BenchQuery(len(queries), kind, text, filters))
        return queries


def most_common_filters() -> dict:
    """The most frequent language, job type and decade among visible testimonies."""
    shown = visible()
    languages = (
        shown.values("language").annotate(n=Count("pk")).order_by("-n", "language")
    )
    jobs = (
        shown.exclude(narrator__job_types__slug=None)
        .values("narrator__job_types__slug")
        .annotate(n=Count("pk"))
        .order_by("-n", "narrator__job_types__slug")
    )
    decades = Counter(
        d.year // 10 * 10
        for d in shown.exclude(recorded_on=None).values_list("recorded_on", flat=True)
    )
    return {
        "language": languages[0]["language"] if languages else None,
        "job_type": jobs[0]["narrator__job_types__slug"] if jobs else None,
        "decade": min(decades, key=lambda d: (-decades[d], d)) if decades else None,
    }


# --- the three ways of asking -----------------------------------------------------


def run_search(query: BenchQuery) -> int:
    """The whole search, as the results page needs it; returns the total."""
    # Hits, snippets, counts and facets come back as built lists and strings:
    # nothing is left for a template to fetch.
    return search(query.text, visible(), query.narrowing()).total


def floor_statement(query: BenchQuery, whole: bool = True) -> tuple[str, list]:
    """The bare SQL of the first page, for the same scope as the search: all
    of it, or (``whole=False``) the ranking alone.

    On PostgreSQL, the one statement the search sends, or its steps read for
    the total and the testimonies shown alone; on SQLite, whose search runs
    several statements, its ranking statement either way."""
    backend = get_backend()
    parsed = parse(query.text)
    scope = query.narrowing().apply(visible()).order_by()
    if backend.vendor != "postgresql":
        statement, params = backend.rank_sql(parsed, scope)
        return f"{statement} LIMIT {TOP}", params
    if whole:
        return backend.search_sql(parsed, scope, 0, TOP)
    steps = backend.page_steps(parsed, scope, 0, TOP, facets=False)
    return postgres.statement(steps, f"SELECT {postgres.TOTAL}, {postgres.SHOWN}")


def asked_configurations(query: BenchQuery) -> list[str]:
    """The text configurations in which the search finds this query's
    testimonies by asking each testimony for a match rather than reading every
    match from the index (on PostgreSQL; SQLite has one way)."""
    backend = get_backend()
    parsed = parse(query.text)
    if backend.vendor != "postgresql" or parsed.is_empty or parsed.finds_nothing:
        return []
    scope = query.narrowing().apply(visible()).order_by()
    steps = backend.page_steps(parsed, scope, facets=False)
    statement, params = postgres.statement(
        steps, "SELECT row_to_json(dense) FROM dense"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        flags = cursor.fetchone()[0]
    return [c for c in postgres.CONFIGS if flags[c]]


def naive_condition(text: str) -> Q:
    """The query as ``icontains`` over a segment's public text."""
    parsed = parse(text)
    condition = Q()
    for clause in parsed.clauses:
        alternatives = Q()
        for item in clause:
            alternatives |= Q(public_text__icontains=item.text)
        condition &= alternatives
    for item in parsed.exclusions:
        condition &= ~Q(public_text__icontains=item.text)
    return condition


def run_naive(query: BenchQuery) -> tuple[int, list[int]]:
    """What a small Django site does: scan, count testimonies, list the first 20."""
    scope = query.narrowing().apply(visible()).order_by()
    segments = Segment.objects.filter(
        naive_condition(query.text), testimony__in=scope.values("pk")
    )
    total = segments.values("testimony").distinct().count()
    first = list(
        segments.order_by("testimony")
        .values_list("testimony", flat=True)
        .distinct()[:TOP]
    )
    return total, first


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = call()
    return (time.perf_counter() - start) * 1000, value


# --- measurements -----------------------------------------------------------------


def measure_cold(queries: list[BenchQuery]) -> tuple[dict[int, float], dict[int, int]]:
    """Each query once, first on a fresh database connection (opened untimed)."""
    times, totals = {}, {}
    for query in queries:
        connection.close()
        connection.ensure_connection()
        times[query.id], totals[query.id] = timed(lambda q=query: run_search(q))
    return times, totals


def _client(
    queries: list[BenchQuery], start: int, runs: int, barrier: threading.Barrier
) -> tuple[dict[int, list[float]], float, float]:
    """One client on its own connection: every query ``runs`` times from ``start``."""
    samples: dict[int, list[float]] = {q.id: [] for q in queries}
    try:
        try:
            connection.ensure_connection()
        except BaseException:
            barrier.abort()
            raise
        barrier.wait(timeout=120)
        began = time.perf_counter()
        for _ in range(runs):
            for i in range(len(queries)):
                query = queries[(start + i) % len(queries)]
                samples[query.id].append(timed(lambda q=query: run_search(q))[0])
        return samples, began, time.perf_counter()
    finally:
        connections.close_all()


def measure_warm(queries: list[BenchQuery], clients: int, runs: int) -> dict:
    """Each query's median latency with ``clients`` threads on their own connections."""
    # Every client runs the whole list, from rotated starts so that they do not
    # ask the same question at once; all start together at the barrier.
    barrier = threading.Barrier(clients)
    step = len(queries) / clients
    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [
            pool.submit(_client, queries, round(i * step), runs, barrier)
            for i in range(clients)
        ]
        outcomes = [f.result() for f in futures]
    samples = {q.id: [t for s, _, _ in outcomes for t in s[q.id]] for q in queries}
    wall = max(end for _, _, end in outcomes) - min(b for _, b, _ in outcomes)
    return {
        "median": {pk: statistics.median(ts) for pk, ts in samples.items()},
        "samples": samples,
        "throughput": len(queries) * runs * clients / wall if wall else None,
        "wall_s": wall,
    }


def measure_floor(
    queries: list[BenchQuery], runs: int, whole: bool = True
) -> dict[int, float]:
    """Each query's median time of the bare SQL, executed and fetched."""
    medians = {}
    for query in queries:
        statement, params = floor_statement(query, whole)
        times = []
        with connection.cursor() as cursor:
            for _ in range(runs):
                started = time.perf_counter()
                cursor.execute(statement, params)
                cursor.fetchall()
                times.append((time.perf_counter() - started) * 1000)
        medians[query.id] = statistics.median(times)
    return medians


def naive_subset(queries: list[BenchQuery], size: int) -> list[BenchQuery]:
    """``size`` queries spread over the classes: their first ones, in turns."""
    by_class = [[q for q in queries if q.kind == kind] for kind in CLASSES]
    chosen: list[BenchQuery] = []
    depth = 0
    while len(chosen) < min(size, len(queries)):
        for group in by_class:
            if depth < len(group) and len(chosen) < size:
                chosen.append(group[depth])
        depth += 1
    return sorted(chosen, key=lambda q: q.id)


def measure_naive(queries: list[BenchQuery]) -> tuple[dict, dict]:
    times, totals = {}, {}
    for query in queries:
        times[query.id], (totals[query.id], _) = timed(lambda q=query: run_naive(q))
    return times, totals


# --- the whole run ----------------------------------------------------------------


def run(
    *,
    total: int = 100,
    runs: int = 5,
    clients: tuple[int, ...] = (1, 4),
    naive_sample: int = 20,
    progress: Progress | None = None,
) -> dict:
    """Build the mix, measure it every way, and return everything as plain data."""
    say = progress or (lambda message: None)
    began = time.perf_counter()
    load_before = _load()
    code = search_code_digest()
    phases: dict[str, float] = {}

    def phase(name: str, started: float) -> None:
        phases[name] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    say("sampling the corpus and drawing the queries")
    corpus = read_corpus()
    builder = MixBuilder(corpus, random.Random(SEED))
    queries = builder.build(total)
    phase("queries", started)

    started = time.perf_counter()
    say(f"cold: {len(queries)} queries, each on a fresh connection")
    cold, totals = measure_cold(queries)
    phase("cold", started)

    warm = {}
    for count in clients:
        started = time.perf_counter()
        say(f"warm: {count} client(s) × {runs} runs of {len(queries)} queries")
        warm[count] = measure_warm(queries, count, runs)
        phase(f"warm_{count}", started)

    started = time.perf_counter()
    say(f"floor: {runs} runs of the search's own SQL")
    floor = measure_floor(queries, runs)
    phase("floor", started)

    started = time.perf_counter()
    say(f"ranking: {runs} runs of its SQL without headlines and facets")
    ranking = measure_floor(queries, runs, whole=False)
    phase("ranking", started)

    started = time.perf_counter()
    subset = naive_subset(queries, naive_sample)
    say(f"naive: {len(subset)} icontains scans, once each")
    naive, naive_totals = measure_naive(subset)
    phase("naive", started)

    asked = {query.id: asked_configurations(query) for query in queries}
    reference = warm[clients[0]]["median"]
    search_all = per_class(queries, reference)["all"]["p50"]
    floor_all = per_class(queries, floor)["all"]["p50"]
    ranking_all = per_class(queries, ranking)["all"]["p50"]
    naive_p50 = percentile(list(naive.values()), 50)
    search_subset = percentile([reference[pk] for pk in naive], 50)
    return {
        "database": {
            "vendor": connection.vendor,
            "name": str(connection.settings_dict["NAME"]),
            "debug": settings.DEBUG,
            "testimonies": corpus.testimonies,
            "visible_testimonies": corpus.visible_testimonies,
            "segments": corpus.segments,
            "visible_segments": corpus.visible_segments,
            "words": corpus.words,
            "words_method": (
                f"mean whitespace-separated words of {len(corpus.sample)} "
                "sampled segments × segments"
            ),
        },
        "settings": {
            "queries": len(queries),
            "runs": runs,
            "clients": list(clients),
            "naive_sample": len(subset),
            "seed": SEED,
            "percentiles": "nearest rank",
            "unit": "ms",
        },
        "classes": class_sizes(total),
        "filters": builder.filter_choices,
        "queries": [
            {
                **asdict(query),
                "total": totals[query.id],
                "cold_ms": cold[query.id],
                "warm_ms": {str(c): warm[c]["median"][query.id] for c in clients},
                "floor_ms": floor[query.id],
                "ranking_ms": ranking[query.id],
                "naive_ms": naive.get(query.id),
                "naive_total": naive_totals.get(query.id),
                "asked": asked[query.id],
                "samples_ms": {str(c): warm[c]["samples"][query.id] for c in clients},
            }
            for query in queries
        ],
        "search": {
            **{f"warm_{c}": per_class(queries, warm[c]["median"]) for c in clients},
            "cold": per_class(queries, cold),
        },
        "throughput_qps": {str(c): warm[c]["throughput"] for c in clients},
        "floor": per_class(queries, floor),
        "ranking": per_class(queries, ranking),
        "naive": per_class([q for q in queries if q.id in naive], naive),
        "ratios": {
            "naive_over_search_p50": _ratio(naive_p50, search_subset),
            "naive_p50": naive_p50,
            "search_p50_on_naive_subset": search_subset,
            "search_over_floor_p50": _ratio(search_all, floor_all),
            "search_over_ranking_p50": _ratio(search_all, ranking_all),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "database_speed_ms": database_speed(),
            "load_before": load_before,
            "load_after": _load(),
        },
        "search_code": code,
        "phases_s": phases,
        "elapsed_s": round(time.perf_counter() - began, 3),
    }


def search_code_digest() -> str:
    """A short digest of the search package's sources, to tell runs' code apart."""
    digest = hashlib.sha256()
    for path in sorted(Path(testimonies.search.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# A fixed piece of work for the database alone: what it takes on this machine
# tells how its figures compare with another machine's.
SPEED_ROWS = 1_000_000


def database_speed(runs: int = 3) -> float:
    """Median milliseconds the database takes to count SPEED_ROWS generated rows."""
    statement = (
        f"SELECT count(*) FROM generate_series(1, {SPEED_ROWS})"
        if connection.vendor == "postgresql"
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        f" WHERE i < {SPEED_ROWS}) SELECT count(*) FROM n"
    )
    times = []
    with connection.cursor() as cursor:
        for _ in range(runs):
            started = time.perf_counter()
            cursor.execute(statement)
            cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _load() -> float | None:
    # The machine may be shared: its load says how far to trust the figures.
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# --- the printed report -------------------------------------------------------------

TARGETS = (
    # (label, where to read it, comparison, target)
    ("search p50 ≤ 25 ms", ("search", "all", "p50"), "le", 25),
    ("search p95 ≤ 60 ms", ("search", "all", "p95"), "le", 60),
    ("very common words p95 ≤ 150 ms", ("search", "very_common", "p95"), "le", 150),
    ("naive scan / search at p50 ≥ 50×", ("ratio", "naive_over_search_p50"), "ge", 50),
    ("search / floor at p50 ≤ 1.5×", ("ratio", "search_over_floor_p50"), "le", 1.5),
)


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 1000 else f"{value:.1f}"


def _words(value: int) -> str:
    return f"{value / 1e6:.1f} M" if value >= 1e6 else f"{value:,}"


def format_report(report: dict) -> str:
    """The report as a table to read."""
    db, cfg = report["database"], report["settings"]
    clients = cfg["clients"]
    lines = [
        f"Search benchmark on {db['vendor']} ({db['name']}): "
        f"{db['testimonies']:,} testimonies ({db['visible_testimonies']:,} public), "
        f"{db['segments']:,} segments ({db['visible_segments']:,} public), "
        f"≈{_words(db['words'])} words ({db['words_method']})"
        + ("; DEBUG on (Django logs every query)" if db["debug"] else ""),
        f"{cfg['queries']} queries: "
        + ", ".join(f"{k} {n}" for k, n in report["classes"].items())
        + f"; filters {_filters_text(report['filters'])}",
        f"warm: each query's median over {cfg['runs']} runs of each client; cold: "
        "its first run, on a fresh connection; percentiles by nearest rank over "
        "queries; ms",
        "",
    ]
    groups = [(f"warm {c} client{'s' if c > 1 else ''}", f"warm_{c}") for c in clients]
    groups.append(("cold", "cold"))
    head = f"{'class':<12}{'n':>4} |"
    sub = f"{'':<16} |"
    for title, _ in groups:
        head += f" {title:^23} |"
        sub += f" {'p50':>7}{'p95':>8}{'p99':>8} |"
    head += f" {'floor (own SQL)':^23} | ranking | search/floor"
    sub += f" {'p50':>7}{'p95':>8}{'p99':>8} | {'p50':>7} | at p50"
    lines += [head, sub, "-" * len(sub)]
    for kind in (*CLASSES, "all"):
        first = report["search"][groups[0][1]][kind]
        row = f"{kind:<12}{first['n']:>4} |"
        for _, key in groups:
            s = report["search"][key][kind]
            row += f" {_ms(s['p50']):>7}{_ms(s['p95']):>8}{_ms(s['p99']):>8} |"
        f = report["floor"][kind]
        row += f" {_ms(f['p50']):>7}{_ms(f['p95']):>8}{_ms(f['p99']):>8} |"
        row += f" {_ms(report['ranking'][kind]['p50']):>7} |"
        ratio = _ratio(first["p50"], f["p50"])
        row += f" {ratio:.2f}×" if ratio is not None else " -"
        if kind == "all":
            lines.append("-" * len(sub))
        lines.append(row)
    lines.append(
        "throughput: "
        + ", ".join(
            f"{c} client{'s' if int(c) > 1 else ''} {q:.1f} queries/s"
            for c, q in report["throughput_qps"].items()
            if q is not None
        )
    )
    if asked := [q for q in report["queries"] if q.get("asked")]:
        lines.append(
            f"found by asking the testimonies, from their words (in"
            f" {', '.join(sorted({c for q in asked for c in q['asked']}))}):"
            f" {len(asked)} of {len(report['queries'])} queries; the rest read every"
            " match from the index"
        )
    r = report["ratios"]
    naive = report["naive"]["all"]
    lines += [
        "",
        f"naive icontains scan over segments, {naive['n']} queries spread over the "
        f"classes, once each: p50 {_ms(naive['p50'])}, p95 {_ms(naive['p95'])}, "
        f"p99 {_ms(naive['p99'])}",
        f"  search (warm, {clients[0]} client) on the same queries: p50 "
        f"{_ms(r['search_p50_on_naive_subset'])} → naive/search "
        + (
            f"{r['naive_over_search_p50']:.0f}×"
            if r["naive_over_search_p50"] is not None
            else "-"
        ),
        "  search/floor over all queries at p50: "
        + _times(r["search_over_floor_p50"])
        + "; search/ranking SQL alone (no headlines, no facets): "
        + _times(r["search_over_ranking_p50"]),
        "",
        f"targets of the issue (PostgreSQL, 1000×120; warm, {clients[0]} client):",
    ]
    for label, where, comparison, target in TARGETS:
        if where[0] == "search":
            value = report["search"][groups[0][1]][where[1]][where[2]]
        else:
            value = r[where[1]]
        if value is None:
            verdict = "not measured"
        else:
            met = value <= target if comparison == "le" else value >= target
            verdict = f"{value:.2f}: {'met' if met else 'MISSED'}"
        lines.append(f"  {label:<36} {verdict}")
    phases = ", ".join(f"{k} {v:.1f}" for k, v in report["phases_s"].items())
    machine = report["machine"]
    lines += [
        "",
        f"run took {report['elapsed_s']:.1f} s ({phases}); load average "
        f"{machine['load_before']} → {machine['load_after']} on {machine['cpus']} "
        f"CPUs; the database counts {SPEED_ROWS:,} generated rows in "
        f"{_ms(machine['database_speed_ms'])} ms (to compare machines); "
        f"search code {report['search_code']}",
    ]
    return "\n".join(lines)


def _times(ratio: float | None) -> str:
    return f"{ratio:.2f}×" if ratio is not None else "-"


def _filters_text(filters: dict) -> str:
    shown = [f"{k}={v}" for k, v in filters.items() if v is not None]
    return ", ".join(shown) or "none available"

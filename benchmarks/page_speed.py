"""How long the server takes to make a two-hour testimony's page.

    python benchmarks/page_speed.py [--segments 120] [--repeat 50]

Builds, in a throwaway database (SQLite, or a database of its own next to the
one ``DATABASE_URL`` names), a published testimony of ``--segments`` one-minute
segments of about 150 words each, with 40 redactions, content warnings, themes,
job types and appearances in episodes, among 200 other testimonies; then asks
for its page, its WebVTT captions and its text transcript through Django's test
client, ``--repeat`` times each after a warm-up, and prints the median and the
95th percentile of the time each request takes inside the server (URL
resolution, middleware, queries, template), and the number of queries.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 50

# Words of speech in their rough order of frequency; each segment draws from
# them with Zipf weights, so that texts have the length and the repetitions of
# speech (the page's cost does not depend on which words they are).
SPEECH = """
    de la le et les à des en un une du que qui il je on est pas pour dans ce au ne
    sur se plus par avec mais nous vous ils elle a son sa tout comme y fait été aussi
    ou leur même bien sont très ça lui donc alors quand encore après avant où moi
    mon ma mes jamais toujours déjà peu beaucoup trop moins sans chez depuis parce
    travail plateforme application course livraison vélo client restaurant compte
    note algorithme images vidéos modération contrat silence équipe chef journée
    nuit pluie soir semaine mois argent tarif prime tâche annotation données
"""
WORDS = SPEECH.split()


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    if not os.environ.get("DATABASE_URL", "").strip():
        folder = tempfile.mkdtemp(prefix="page-speed-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    import django

    django.setup()


def speech(rng: random.Random, words: int) -> str:
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    return " ".join(rng.choices(WORDS, weights, k=words)).capitalize() + "."


def build(segments: int) -> str:
    """The archive to measure; returns the slug of the testimony measured."""
    from testimonies import services
    from testimonies.models import (
        ConsentRecord,
        Episode,
        JobType,
        Narrator,
        Series,
        Testimony,
        Theme,
    )

    rng = random.Random(7)
    series = Series.objects.create(slug="invisibles", title="Invisibles")
    episodes = [
        Episode.objects.create(series=series, slug=f"e{n}", number=n, title=f"É {n}")
        for n in range(1, 5)
    ]
    themes = [
        Theme.objects.create(slug=f"theme-{n}", name_fr=f"Thème {n}", name_en=f"T {n}")
        for n in range(8)
    ]
    jobs = [
        JobType.objects.create(slug=f"job-{n}", name_fr=f"Métier {n}", name_en=f"J {n}")
        for n in range(6)
    ]
    narrator = Narrator.objects.create(
        key="measured", slug="measured", public_name="Karim", identity="pseudonym"
    )
    narrator.job_types.set(jobs[:2])

    def testimony(slug: str, count: int) -> Testimony:
        made = Testimony.objects.create(
            slug=slug,
            title=f"Témoignage {slug}",
            narrator=narrator,
            language="fr",
            summary=speech(rng, 60),
            content_warnings=["violence", "accident"],
        )
        made.themes.set(rng.sample(themes, 3))
        ConsentRecord.objects.create(
            testimony=made, scope="public", media="audio", given_on="2024-01-01"
        )
        for position in range(count):
            services.segment_create(
                testimony=made,
                start=60.0 * position,
                end=60.0 * position + 59.5,
                speaker="narrator" if position % 4 else "interviewer",
                text=speech(rng, rng.randint(120, 180)),
            )
        for episode in episodes[:2]:
            services.appearance_add(testimony=made, episode=episode, start=30, end=95)
        return made

    measured = testimony("measured", segments)
    for segment in measured.segments.order_by("position")[:40]:
        services.segment_redact(segment=segment, start=0, end=12, reason="person")
    services.testimony_publish(testimony=measured)
    for number in range(200):
        other = testimony(f"other-{number}", 2)
        services.testimony_publish(testimony=other)
    return measured.slug


def measure(client, url: str, repeat: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return times, len(captured.captured_queries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    _setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment
    from django.urls import reverse

    setup_test_environment()
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    try:
        slug = build(args.segments)
        client = Client()
        print(
            f"a testimony of {args.segments} one-minute segments "
            f"({connection.vendor}), {args.repeat} requests each after a warm-up"
        )
        print(f"{'page':<14} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for name in ("detail", "captions", "transcript"):
            url = reverse(f"testimonies:{name}", args=[slug])
            times, queries = measure(client, url, args.repeat)
            p95 = statistics.quantiles(times, n=20)[-1]
            median = statistics.median(times)
            print(f"{name:<14} {median:>10.1f} {p95:>8.1f} {queries:>8}")
        print(f"target for the page: under {TARGET_MS} ms")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    return 0


if __name__ == "__main__":
    sys.exit(main())

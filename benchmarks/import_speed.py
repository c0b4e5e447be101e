"""How fast a large bundle is imported, beside the bare floor of the same work.

    python benchmarks/import_speed.py [--testimonies 1000] [--segments 120] [--repeat 3]

The bundle has the shape of the real work: testimonies of two hours, cut into
one-minute segments of 120 to 180 words drawn with the real word frequencies of
French (three testimonies in four) and English, from the ``wordfreq`` package;
about 3% of the segments carry a redaction of one of the narrator's sensitive
terms, and every testimony is published with public consent and passes the
publication gate. Smaller ``--testimonies`` or ``--segments`` run faster, but
their figures say nothing about the target.

Each repeat, taken in turns on the same database:

- **the floor**: the segments' text copied (``COPY``) into a bare table whose
  ``tsvector`` column is generated in the testimony's configuration, then one
  ``CREATE INDEX ... USING gin`` over it: the least any import of that text
  into a text index can cost on this machine (PostgreSQL only);
- **the import**: the bundle's file imported into an empty archive with
  ``bundle_import_file``, as ``manage.py import_bundle`` does it: read, parse,
  validate, gate, write, index, in one transaction.

The headline is the median of the ratios of import to floor, pair by pair.

Runs with no environment set: the settings default to ``tests.settings`` and the
database to a throwaway SQLite file. With ``DATABASE_URL`` set (PostgreSQL),
Django's test-database machinery creates a separate database named after it
with ``_bench_<pid>`` appended and drops it at the end.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 2.0  # the import within twice the floor, from the issue
VOCABULARY_SIZE = 30_000
SEGMENT_SECONDS = 60.0
REDACTED_SHARE = 0.03
REASONS = ("person", "third_party", "employer", "location", "health", "other")
# Made-up names and terms: none is a word of either language, so that the
# gate finds them only where a redaction hides them.
FIRST_NAMES = ("Odilane", "Gasparou", "Maëlysse", "Théodrin", "Ysalinde", "Corvenin")
LAST_NAMES = ("Quérouilh", "Bastardoz", "Ferrandizq", "Kerhervöe", "Loubatièrx")
TERMS = ("Zorbello", "Quintessa", "Varnholtz", "Plumetisq", "Oxydanex", "Brisquetz")
# French elided words, which wordfreq counts apart: written before the next word.
ELIDED = {"l", "d", "j", "qu", "n", "s", "c", "m", "t", "jusqu", "lorsqu", "puisqu"}


class Speech:
    """Words of a language drawn by their frequency in real use."""

    def __init__(self, language: str) -> None:
        from wordfreq import top_n_list, word_frequency

        words = [
            w
            for w in top_n_list(language, VOCABULARY_SIZE)
            if w.isalpha() and w.lower() not in _FORBIDDEN
        ]
        self.language = language
        self.words = words
        self.cumulative = list(accumulate(word_frequency(w, language) for w in words))

    def sentence(self, rng: random.Random, count: int) -> str:
        drawn = rng.choices(self.words, cum_weights=self.cumulative, k=count)
        if self.language != "fr":
            return " ".join(drawn)
        out: list[str] = []
        glue = False
        for word in drawn:
            if glue:
                out[-1] += word
            else:
                out.append(word)
            glue = word in ELIDED
            if glue:
                out[-1] += "'"
        return " ".join(out).rstrip("'")


_FORBIDDEN = {
    part.lower()
    for name in (*FIRST_NAMES, *LAST_NAMES, *TERMS)
    for part in (name, name + "ix")
}


def generate_bundle(testimonies: int, segments: int, seed: int = 1) -> dict:
    """A valid bundle, the same for the same arguments."""
    rng = random.Random(seed)
    speech = {"fr": Speech("fr"), "en": Speech("en")}
    narrators = []
    for n in range(max(1, testimonies // 2)):
        narrators.append(
            {
                "key": f"narrator-{n:04d}",
                "public_name": f"Pseudonyme {n:04d}",
                "identity": "pseudonym",
                "job_types": ["courier"],
                "country": "FR",
                "region": "Île-de-France",
                "reference_code": f"BENCH-{n:012d}",
                "sensitive_terms": [rng.choice(TERMS), rng.choice(TERMS) + "ix"],
                "private": {
                    "legal_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    "contact": f"06 00 00 {n // 100 % 100:02d} {n % 100:02d}",
                },
            }
        )
    items = []
    for t in range(testimonies):
        language = "fr" if t % 4 else "en"
        narrator = narrators[t % len(narrators)]
        transcript, redactions = [], []
        for position in range(segments):
            text = speech[language].sentence(rng, rng.randint(120, 180))
            if rng.random() < REDACTED_SHARE:
                # One of the narrator's sensitive terms, redacted where it stands.
                term = rng.choice(narrator["sensitive_terms"])
                spaces = [i for i, c in enumerate(text) if c == " "]
                at = rng.choice(spaces) + 1
                text = f"{text[:at]}{term} {text[at:]}"
                redactions.append(
                    {
                        "segment": position,
                        "start": at,
                        "end": at + len(term),
                        "reason": rng.choice(REASONS),
                    }
                )
            start = position * SEGMENT_SECONDS
            transcript.append(
                {
                    "start": start,
                    "end": start + SEGMENT_SECONDS,
                    "speaker": "narrator" if position % 6 else "interviewer",
                    "text": text[0].upper() + text[1:] + ".",
                }
            )
        items.append(
            {
                "slug": f"temoignage-{t:04d}",
                "title": f"Témoignage {t:04d}",
                "narrator": narrator["key"],
                "language": language,
                "recorded_on": "2023-05-04",
                "place": "Île-de-France",
                "summary": "Un témoignage généré pour mesurer l'import.",
                "themes": ["algorithmic-management"],
                "status": "published",
                "consent": [
                    {"scope": "public", "media": "audio", "given_on": "2023-05-04"}
                ],
                "appearances": [],
                "segments": transcript,
                "redactions": redactions,
            }
        )
    return {
        "format": "testimony-bundle/1",
        "job_types": [
            {"slug": "courier", "name": {"fr": "Livreur", "en": "Courier"}},
        ],
        "themes": [
            {
                "slug": "algorithmic-management",
                "name": {
                    "fr": "Management algorithmique",
                    "en": "Algorithmic management",
                },
            }
        ],
        "narrators": narrators,
        "testimonies": items,
    }


def _setup_django() -> str | None:
    """Set Django up; the temporary folder made for SQLite, if any."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    folder = None
    if not os.environ.get("DATABASE_URL", "").strip():
        folder = tempfile.mkdtemp(prefix="archive-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    import django

    django.setup()
    return folder


def _empty_archive() -> None:
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def floor(bundle: dict) -> float:
    """Seconds to copy the segments' text into a bare table with a generated
    vector, and to build one text index over it (PostgreSQL)."""
    from django.db import connection, transaction

    from testimonies.search.postgres import config_for

    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_floor (id bigint, config regconfig, text text,"
            " vector tsvector GENERATED ALWAYS AS (to_tsvector(config, text)) STORED)"
        )
        raw = cursor.connection  # psycopg's own connection, for COPY
        with raw.cursor().copy(
            "COPY bench_floor (id, config, text) FROM STDIN"
        ) as copy:
            number = 0
            for item in bundle["testimonies"]:
                config = config_for(item["language"])
                for segment in item["segments"]:
                    number += 1
                    copy.write_row((number, config, segment["text"]))
        cursor.execute(
            "CREATE INDEX bench_floor_vector ON bench_floor USING gin (vector)"
        )
    elapsed = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--testimonies", type=int, default=1000)
    parser.add_argument("--segments", type=int, default=120, help="per testimony")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    folder = _setup_django()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from testimonies.importers.bundle import bundle_import_file
    from testimonies.models import Redaction, Segment

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        test_name = str(Path(settings["NAME"]).with_name("bench-test.sqlite3"))
    else:
        test_name = f"{settings['NAME']}_bench_{os.getpid()}"
    settings.setdefault("TEST", {})["NAME"] = test_name

    began = time.perf_counter()
    bundle = generate_bundle(args.testimonies, args.segments, seed=args.seed)
    generated = time.perf_counter() - began
    raw = json.dumps(bundle, ensure_ascii=False).encode("utf-8")
    segments = sum(len(t["segments"]) for t in bundle["testimonies"])
    redactions = sum(len(t["redactions"]) for t in bundle["testimonies"])
    words = sum(
        len(s["text"].split()) for t in bundle["testimonies"] for s in t["segments"]
    )
    now = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

    setup_test_environment()
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    bundle_folder = tempfile.mkdtemp(prefix="archive-bench-bundle-")
    postgres = connection.vendor == "postgresql"
    ratios = []
    try:
        bundle_path = Path(bundle_folder) / "bundle.json"
        bundle_path.write_bytes(raw)
        print(
            f"database: {connection.vendor} ({connection.settings_dict['NAME']})\n"
            f"bundle: {len(bundle['testimonies'])} testimonies, {segments:,} segments "
            f"({words / segments:.0f} words each), {redactions:,} redactions, "
            f"{len(raw) / 1_000_000:.0f} MB of JSON (generated in {generated:.0f} s)"
        )
        del raw
        floors, imports = [], []
        for run in range(1, args.repeat + 1):
            line = f"run {run}:"
            if postgres:
                floors.append(floor(bundle))
                line += f" floor {floors[-1]:.1f} s,"
            _empty_archive()
            began = time.perf_counter()
            bundle_import_file(bundle_path, now=now)
            imports.append(time.perf_counter() - began)
            # The work was done, all of it.
            assert Segment.objects.count() == segments
            assert Redaction.objects.count() == redactions
            rate = segments / imports[-1]
            line += f" import {imports[-1]:.1f} s ({rate:,.0f} segments/s)"
            if postgres:
                ratios.append(imports[-1] / floors[-1])
                line += f", import/floor {ratios[-1]:.2f}"
            print(line, flush=True)
        median_import = statistics.median(imports)
        print(
            f"import, end to end: median {median_import:.1f} s, "
            f"{segments / median_import:,.0f} segments/s"
        )
        if postgres:
            print(
                f"floor (COPY with a generated vector, one GIN index): median "
                f"{statistics.median(floors):.1f} s\n"
                f"import/floor, pair by pair: median {statistics.median(ratios):.2f} "
                f"(min {min(ratios):.2f}, max {max(ratios):.2f}); "
                f"target {TARGET_RATIO:.1f}"
            )
        else:
            print("floor: measured on PostgreSQL only")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        shutil.rmtree(bundle_folder, ignore_errors=True)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    if postgres and statistics.median(ratios) > TARGET_RATIO:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

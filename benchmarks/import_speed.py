"""How fast the import command takes a large bundle, in segments per second.

    python benchmarks/import_speed.py [--segments 20000] [--repeat 5]

Runs with no environment set: the settings default to ``tests.settings`` and the
database to a throwaway SQLite file in a temporary folder. With ``DATABASE_URL``
set (PostgreSQL), Django's test-database machinery creates a separate database
named after it with ``_bench_<pid>`` appended, and drops it at the end; the
database the URL names is never written to.

The bundle is generated deterministically: testimonies of 200 segments of about
40 French words, about 5% of them carrying a redaction of a sensitive term, all
published with public consent and passing the publication gate. It is written to
a file in a temporary folder, and each repeat imports that file into an empty
archive with `bundle_import_file`, as `manage.py import_bundle` does: reading,
parsing, validating and importing, end to end. The headline figure is the median
over the repeats; parsing alone and validation alone are timed apart, for
comparison (both are included in the end-to-end time).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIRED_RATE = 10_000  # segments per second, from the issue

_SPEECH = (
    "je livrais des repas à vélo dix heures par jour sous la pluie et "
    "l'application décidait de tout le prix de la course la zone les horaires "
    "on ne savait jamais pourquoi un compte était désactivé il fallait accepter "
    "vite sinon la note baissait les clients attendaient le restaurant aussi "
    "mon téléphone chauffait la batterie tombait le soir je comptais les courses "
    "payées à la tâche parfois trois euros parfois moins la plateforme parlait "
    "d'indépendance mais nous étions surveillés minute par minute les images "
    "restaient dans la tête après le travail nous annotions des photos pour "
    "entraîner une machine qui devait nous remplacer un jour on écoutait des "
    "enregistrements privés des conversations entières sans que personne le "
    "sache le contrat interdisait d'en parler même à la famille alors nous "
    "avons créé un syndicat puis une coopérative pour reprendre la main"
)
WORDS = _SPEECH.split()
REASONS = ("person", "third_party", "employer", "location", "health", "other")
FIRST_NAMES = ("Odile", "Gaspard", "Maëlys", "Théodore", "Ysaline", "Corentin")
LAST_NAMES = ("Quérouil", "Bastardot", "Ferrandiz", "Kerhervé", "Loubatières")
TERMS = ("Zorbello", "Quintessa", "Varnholt", "Plumetis", "Oxydane", "Brisquet")


def generate_bundle(segments: int, per_testimony: int = 200, seed: int = 1) -> dict:
    """A valid bundle of ``segments`` segments, the same for the same arguments."""
    rng = random.Random(seed)
    testimonies_count = max(1, -(-segments // per_testimony))
    narrators = []
    for n in range(max(1, testimonies_count // 5)):
        narrators.append(
            {
                "key": f"narrator-{n:03d}",
                "public_name": f"Pseudonyme {n:03d}",
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
    testimonies = []
    remaining = segments
    for t in range(testimonies_count):
        count = min(per_testimony, remaining)
        remaining -= count
        narrator = narrators[t % len(narrators)]
        transcript, redactions = [], []
        clock = 0.0
        for position in range(count):
            words = [rng.choice(WORDS) for _ in range(rng.randint(34, 46))]
            redaction = None
            if rng.random() < 0.05:
                # The narrator's sensitive term, redacted where it stands.
                at = rng.randrange(len(words))
                term = rng.choice(narrator["sensitive_terms"])
                words.insert(at, term)
                text = " ".join(words)
                start = len(" ".join(words[:at])) + (1 if at else 0)
                redaction = {
                    "segment": position,
                    "start": start,
                    "end": start + len(term),
                    "reason": rng.choice(REASONS),
                }
                if rng.random() < 0.5:
                    redaction["label"] = "[mot retiré]"
            else:
                text = " ".join(words)
            length = round(rng.uniform(4.0, 20.0), 2)
            transcript.append(
                {
                    "start": round(clock, 2),
                    "end": round(clock + length, 2),
                    "speaker": "narrator" if position % 4 else "interviewer",
                    "text": text[0].upper() + text[1:] + ".",
                }
            )
            if redaction is not None:
                redactions.append(redaction)
            clock += length
        testimonies.append(
            {
                "slug": f"temoignage-{t:04d}",
                "title": f"Témoignage {t:04d}",
                "narrator": narrator["key"],
                "language": "fr",
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
        "testimonies": testimonies,
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    folder = _setup_django()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from testimonies.importers.bundle import bundle_import_file
    from testimonies.importers.validate import load_bundle_json, validate_bundle
    from testimonies.models import Redaction, Segment

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        # A file, like the archive's own database, rather than an in-memory one.
        test_name = str(Path(settings["NAME"]).with_name("bench-test.sqlite3"))
    else:
        test_name = f"{settings['NAME']}_bench_{os.getpid()}"
    settings.setdefault("TEST", {})["NAME"] = test_name

    bundle = generate_bundle(args.segments, seed=args.seed)
    raw = json.dumps(bundle, ensure_ascii=False).encode("utf-8")
    size = len(raw)
    segments = sum(len(t["segments"]) for t in bundle["testimonies"])
    redactions = sum(len(t["redactions"]) for t in bundle["testimonies"])
    now = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

    setup_test_environment()
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    bundle_folder = tempfile.mkdtemp(prefix="archive-bench-bundle-")
    try:
        bundle_path = Path(bundle_folder) / "bundle.json"
        bundle_path.write_bytes(raw)
        del raw
        print(
            f"database: {connection.vendor} ({connection.settings_dict['NAME']})\n"
            f"bundle: {len(bundle['testimonies'])} testimonies, {segments} segments, "
            f"{redactions} redactions, {size / 1_000_000:.1f} MB of JSON "
            f"in {bundle_path}"
        )
        rates, times, parsing, validation = [], [], [], []
        for run in range(1, args.repeat + 1):
            # Parsing and validation alone, apart from the measured import.
            began = time.perf_counter()
            parsed = load_bundle_json(bundle_path.read_bytes())
            parsing.append(time.perf_counter() - began)
            began = time.perf_counter()
            validate_bundle(parsed)
            validation.append(time.perf_counter() - began)
            del parsed
            _empty_archive()
            began = time.perf_counter()
            bundle_import_file(bundle_path, now=now)
            elapsed = time.perf_counter() - began
            # The work was done, all of it.
            assert Segment.objects.count() == segments
            assert Redaction.objects.count() == redactions
            times.append(elapsed)
            rates.append(segments / elapsed)
            print(
                f"run {run}: {elapsed:.2f} s end to end, {rates[-1]:,.0f} "
                f"segments/s (read and parse alone {parsing[-1]:.2f} s, "
                f"validation alone {validation[-1]:.2f} s)"
            )
        median = statistics.median(rates)
        print(
            f"end to end (read, parse, validate, import): median "
            f"{median:,.0f} segments/s, {statistics.median(times):.2f} s; "
            f"min {min(rates):,.0f}, max {max(rates):,.0f} segments/s\n"
            f"read and parse alone: median {statistics.median(parsing):.2f} s; "
            f"validation alone: median {statistics.median(validation):.2f} s"
        )
        verdict = "meets" if median >= REQUIRED_RATE else "is BELOW"
        print(f"{verdict} the required {REQUIRED_RATE:,} segments/s, end to end")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        shutil.rmtree(bundle_folder, ignore_errors=True)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    return 0 if median >= REQUIRED_RATE else 1


if __name__ == "__main__":
    sys.exit(main())

"""How long a long transcript takes to import, per format, end to end.

    python benchmarks/transcript_speed.py [--cues 3000] [--repeat 5]

Runs with no environment set: a throwaway SQLite database in a temporary
folder, or, with ``DATABASE_URL`` set (PostgreSQL), a database named after it
with ``_bench_<pid>`` appended, dropped at the end.

The same generated interview (``--cues`` turns of 30 to 50 French words, 3 to
20 s each, the interviewer and the narrator in turn) is written as WebVTT, SRT,
timecoded text and an OHMS line transcript (one sync point a minute). Each
repeat imports each file into a published testimony as ``import_transcript
--replace`` does: the format recognised, the file parsed, the segments written
with their search entries, the publication gate passed. Parsing alone is timed
apart (it is included in the end-to-end time). Figures are medians over the
repeats, with the fastest and slowest run.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SPEECH = (
    "je livrais des repas à vélo dix heures par jour sous la pluie et "
    "l'application décidait de tout le prix de la course la zone les horaires "
    "on ne savait jamais pourquoi un compte était désactivé il fallait accepter "
    "vite sinon la note baissait nous annotions des photos pour entraîner une "
    "machine le contrat interdisait d'en parler alors nous avons créé un syndicat"
)
WORDS = _SPEECH.split()


def interview(cues: int, seed: int = 1) -> list[tuple[float, float, str, str]]:
    """(start, end, label, text) of each turn, the same for the same arguments."""
    rng = random.Random(seed)
    clock, turns = 0.0, []
    for index in range(cues):
        length = round(rng.uniform(3.0, 20.0), 3)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 50)))
        label = "Intervieweuse" if index % 2 == 0 else "Lina"
        turns.append((round(clock, 3), round(clock + length, 3), label, text))
        clock += length
    return turns


def clock(seconds: float, separator: str = ".") -> str:
    milliseconds = round(seconds * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{separator}{rest % 1000:03d}"


def files(turns) -> dict[str, bytes]:
    """The interview in each format."""
    vtt = ["WEBVTT", ""]
    srt, text = [], []
    for number, (start, end, label, words) in enumerate(turns, start=1):
        vtt += [f"{clock(start)} --> {clock(end)}", f"<v {label}>{words}", ""]
        srt += [str(number), f"{clock(start, ',')} --> {clock(end, ',')}"]
        srt += [f"{label.upper()}: {words}", ""]
        text.append(f"[{clock(start)[:8]}] {label} : {words}")
    # OHMS: a paragraph per turn, its words wrapped ten to a line, and at each
    # minute the line and word reached (words spread evenly over their turn).
    lines, marks, minute = [], [], 60.0
    for start, end, label, words in turns:
        spoken = [f"{label.upper()}:", *words.split()]
        for index, word in enumerate(spoken):
            if index % 10 == 0:
                lines.append("")
            lines[-1] = f"{lines[-1]} {word}".strip()
            while start + (end - start) * index / len(spoken) >= minute:
                marks.append(f"{len(lines)}({index % 10 + 1})")
                minute += 60
        lines.append("")
    ohms = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ROOT xmlns="https://www.weareavp.com/nunncenter/ohms"><record>'
        f"<sync>1:|{'|'.join(marks)}</sync>"
        f"<transcript>{chr(10).join(lines)}</transcript></record></ROOT>\n"
    )
    return {
        "webvtt": "\n".join(vtt).encode(),
        "srt": "\n".join(srt).encode(),
        "text": "\n".join(text).encode(),
        "ohms": ohms.encode(),
    }


def _setup_django() -> str | None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    folder = None
    if not os.environ.get("DATABASE_URL", "").strip():
        folder = tempfile.mkdtemp(prefix="archive-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    import django

    django.setup()
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cues", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    folder = _setup_django()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    from testimonies import services
    from testimonies.importers.transcripts import read_transcript
    from testimonies.models import Segment
    from tests.factories import TestimonyFactory

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        test_name = str(Path(settings["NAME"]).with_name("bench-test.sqlite3"))
    else:
        test_name = f"{settings['NAME']}_bench_{os.getpid()}"
    settings.setdefault("TEST", {})["NAME"] = test_name
    setup_test_environment()
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    try:
        testimony = TestimonyFactory(
            slug="long", consent="public", published=True, interviewer="Intervieweuse"
        )
        generated = files(interview(args.cues))
        print(f"database: {connection.vendor}; {args.cues} turns of 30 to 50 words")
        for name, data in generated.items():
            parsing, totals = [], []
            for _run in range(args.repeat):
                began = time.perf_counter()
                read_transcript(data)
                parsing.append(time.perf_counter() - began)
                began = time.perf_counter()
                _chosen, pieces = read_transcript(data)
                services.transcript_import(
                    testimony=testimony, pieces=pieces, replace=True
                )
                totals.append(time.perf_counter() - began)
            count = Segment.objects.filter(testimony=testimony).count()
            median = statistics.median(totals)
            print(
                f"{name:7} {len(data) / 1e6:5.2f} MB, {count:5d} segments: end to "
                f"end median {median * 1000:7.1f} ms (min {min(totals) * 1000:.1f}, "
                f"max {max(totals) * 1000:.1f}), {count / median:8,.0f} segments/s; "
                f"parsing alone {statistics.median(parsing) * 1000:6.1f} ms"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

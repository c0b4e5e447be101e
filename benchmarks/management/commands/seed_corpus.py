import argparse
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ...corpus import CorpusError, corpus_seed


def _integer_from(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or number < minimum:
            raise argparse.ArgumentTypeError(
                f"must be an integer of at least {minimum} (got {value!r})"
            )
        return number

    return parse


class Command(BaseCommand):
    help = (
        "Add a synthetic corpus for benchmarks: French and English testimonies of "
        "one-minute segments, the same for the same seed, written in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--testimonies",
            type=_integer_from(1),
            required=True,
            help="how many testimonies to write",
        )
        parser.add_argument(
            "--minutes",
            type=_integer_from(1),
            required=True,
            help="minutes of transcript per testimony, one segment a minute",
        )
        parser.add_argument(
            "--seed",
            type=_integer_from(0),
            default=1,
            help="the same seed gives the same corpus; slugs start corpus-SEED- "
            "(default 1)",
        )

    def handle(self, *args, testimonies, minutes, seed, verbosity, **options):
        # call_command passes keyword values past argparse: checked again here.
        for name, value, minimum in (
            ("--testimonies", testimonies, 1),
            ("--minutes", minutes, 1),
            ("--seed", seed, 0),
        ):
            if not isinstance(value, int) or value < minimum:
                raise CommandError(
                    f"{name} must be an integer of at least {minimum} (got {value!r})"
                )
        bar = tqdm(total=testimonies, unit="testimony", disable=verbosity < 1)

        def indexing() -> None:
            bar.close()
            if verbosity > 0:
                self.stdout.write("Rebuilding the search index…")

        try:
            report = corpus_seed(
                testimonies=testimonies,
                minutes=minutes,
                seed=seed,
                progress=bar.update,
                indexing=indexing,
            )
        except CorpusError as error:
            raise CommandError(str(error)) from error
        finally:
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {report.testimonies:,} testimonies, {report.narrators:,} "
                f"narrators, {report.segments:,} segments, {report.words:,} words "
                f"in {report.seconds:.1f} s (search index: "
                f"{report.index_seconds:.1f} s)."
            )
        )
        if verbosity > 1:
            inserts = report.seconds - report.generation_seconds - report.index_seconds
            self.stdout.write(
                f"Generation {report.generation_seconds:.1f} s, inserts and commit "
                f"{inserts:.1f} s; created {report.job_types_created} job types and "
                f"{report.themes_created} themes."
            )

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ... import search as benchmark


def _clients(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise CommandError(f"--clients takes counts such as 1,4 (got {value!r})")
    return counts


class Command(BaseCommand):
    help = (
        "Time the public search on the current database: a fixed mix of queries "
        "drawn from its text, cold and warm, with concurrent clients, against the "
        "bare ranking SQL (the floor) and a naive icontains scan."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", help="also write every figure to this file")
        parser.add_argument(
            "--queries", type=int, default=100, help="size of the mix (default 100)"
        )
        parser.add_argument(
            "--runs", type=int, default=5, help="warm runs per query (default 5)"
        )
        parser.add_argument(
            "--clients", default="1,4", help="concurrent clients (default 1,4)"
        )
        parser.add_argument(
            "--naive-sample",
            type=int,
            default=20,
            help="queries also run as a naive icontains scan (default 20)",
        )

    def handle(self, *args, **options):
        minimum = len(benchmark.CLASSES)
        if options["queries"] < minimum:
            raise CommandError(f"--queries must be {minimum} or more: one per class")
        if options["runs"] < 1 or options["naive_sample"] < 0:
            raise CommandError("--runs must be 1 or more, --naive-sample 0 or more")
        verbose = options["verbosity"] > 0
        try:
            report = benchmark.run(
                total=options["queries"],
                runs=options["runs"],
                clients=_clients(options["clients"]),
                naive_sample=options["naive_sample"],
                progress=(lambda m: self.stderr.write(m)) if verbose else None,
            )
        except benchmark.BenchmarkError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(benchmark.format_report(report))
        if options["json"]:
            Path(options["json"]).write_text(
                json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
            )

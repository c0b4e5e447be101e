import time

from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from ... import search
from ...models import Testimony


class Command(BaseCommand):
    help = "Rebuild the search index from public text, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar"
        )

    def handle(self, *args, no_progress, **options):
        backend = search.get_backend()
        started = time.perf_counter()
        # Searches keep seeing the old index until the new one is committed.
        with transaction.atomic():
            testimonies = Testimony.objects.searchable().count()
            with tqdm(
                total=testimonies,
                unit=" testimonies",
                disable=no_progress,
                file=self.stderr,
            ) as bar:
                segments = backend.rebuild(progress=bar.update)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Indexed {segments:,} segments of {testimonies:,} testimonies "
            f"in {elapsed:.1f} s"
        )

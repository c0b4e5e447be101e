from django.core.management.base import BaseCommand, CommandError

from ...media.jobs import pending_renditions, rendition_make, renditions_follow
from ...models import Rendition, Testimony


class Command(BaseCommand):
    help = (
        "Make every pending public rendition now, and return when they are done: "
        "each testimony's current state is given one first, where it lacks it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="try again the renditions that failed (after their cause is fixed)",
        )

    def handle(self, *args, retry_failed=False, **options):
        if retry_failed:
            Rendition.objects.filter(status=Rendition.Status.FAILED).update(
                status=Rendition.Status.PENDING, attempts=0, finished_at=None
            )
        with_media = Testimony.objects.exclude(media="").values_list("pk", flat=True)
        for testimony_id in with_media:
            # The jobs are run here: none is queued for the worker.
            renditions_follow(testimony_id=testimony_id, enqueue=False)
        made, failed = 0, []
        # A failed attempt leaves its rendition pending until its attempts run
        # out, so this ends: each pass makes each one once more at most.
        while todo := list(pending_renditions().values_list("pk", flat=True)):
            for rendition_id in todo:
                outcome = rendition_make(rendition_id=rendition_id)
                if outcome == "ready":
                    made += 1
                elif outcome == "failed":
                    failed.append(rendition_id)
        if options["verbosity"]:
            self.stdout.write(f"Renditions made: {made}.")
        if failed:
            raise CommandError(
                "Renditions failed (see their error in the admin): "
                + ", ".join(str(pk) for pk in failed)
            )

import json
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...exporters.bundle import bundle_export_with_report
from ...media.plan import ready_rendition
from ...media.storage import renditions
from ...models import ConsentRecord, Testimony


def _media_source(testimony: Testimony, *, public: bool):
    """The file to copy: the original for a backup; for the public, the ready
    rendition of the current state, never the original."""
    if not public:
        # From the originals' storage, where the recording is kept.
        return testimony.media.open("rb")
    rendition = ready_rendition(testimony)
    if rendition is None:
        raise CommandError(
            f"{testimony.slug}: its public rendition changed during the export; "
            "export again"
        )
    return renditions().open(rendition.name, "rb")


def _offered_slugs() -> set[str]:
    """The testimonies whose media the public may get, made ready or not."""
    return set(
        Testimony.objects.visible_to(None)
        .with_media_offer()
        .exclude(media_offer=ConsentRecord.MediaRelease.NONE)
        .values_list("slug", flat=True)
    )


class Command(BaseCommand):
    help = (
        "Write the archive as a testimony-bundle/1 JSON file, media beside it. "
        "Without --public it is a staff backup holding private fields: keep it safe."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the JSON file to write")
        parser.add_argument(
            "--public",
            action="store_true",
            help="only what the public may see: public text, no private fields",
        )

    def handle(self, *args, path, public, **options):
        target = Path(path)
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent}: no such folder")
        document, held = bundle_export_with_report(public=public)
        slugs = {item["slug"] for item in document["testimonies"] if "media" in item}
        for testimony in Testimony.objects.filter(slug__in=slugs):
            destination = target.parent / next(
                item["media"]["path"]
                for item in document["testimonies"]
                if item["slug"] == testimony.slug
            )
            destination.parent.mkdir(parents=True, exist_ok=True)
            with (
                _media_source(testimony, public=public) as source,
                destination.open("wb") as out,
            ):
                shutil.copyfileobj(source, out)
        # Write to a temporary name first: a failed export never leaves half a file.
        temporary = target.with_name(target.name + ".partial")
        try:
            with temporary.open("w", encoding="utf-8") as out:
                json.dump(document, out, ensure_ascii=False, indent=1)
                out.write("\n")
            temporary.replace(target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {len(document['testimonies'])} testimonies to {target}"
                + (" (public)" if public else " (full backup, private fields included)")
            )
        )
        if held:
            self.stdout.write(
                self.style.WARNING(
                    "A pause or withdrawal request is pending for the narrators of "
                    f"{', '.join(held)}: the export holds their publication with an "
                    "archive-only consent record, so a restore stays closed."
                )
            )
        waiting = sorted(_offered_slugs() - slugs) if public else []
        if waiting:
            self.stdout.write(
                self.style.WARNING(
                    f"The public renditions of {', '.join(waiting)} are not ready: "
                    "their media is left out. Run process_media, then export again."
                )
            )

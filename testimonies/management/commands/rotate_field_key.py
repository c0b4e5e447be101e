from django.core.management.base import BaseCommand
from django.db import transaction

from ...models import Narrator

ENCRYPTED_FIELDS = ["legal_name", "contact", "private_notes"]


class Command(BaseCommand):
    help = (
        "Re-encrypt narrators' private identities with the first key of "
        "ARCHIVE_FIELD_KEY. Put the new key first, the old one after it, run this, "
        "then drop the old key."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for narrator in Narrator.objects.select_for_update().only(
                "pk", *ENCRYPTED_FIELDS
            ):
                # Reading decrypts with any listed key; saving encrypts with the first.
                narrator.save(update_fields=ENCRYPTED_FIELDS)
                count += 1
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} narrators."))

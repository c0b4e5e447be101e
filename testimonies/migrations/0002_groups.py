"""The groups of the access policy: researchers, curators, archivists."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CURATOR_CODENAMES = [
    f"{action}_{model}"
    for model in (
        "testimony",
        "consentrecord",
        "segment",
        "redaction",
        "appearance",
        "narrator",
        "narratorrequest",
        "jobtype",
        "theme",
        "series",
        "episode",
    )
    for action in ("add", "change", "view")
]


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; the groups need them now.
    app_config = apps.get_app_config("testimonies")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    curator_permissions = list(
        Permission.objects.filter(
            content_type__app_label="testimonies", codename__in=CURATOR_CODENAMES
        )
    )
    identity = Permission.objects.get(
        content_type__app_label="testimonies", codename="view_identity"
    )
    Group.objects.get_or_create(name="researchers")
    curators, _ = Group.objects.get_or_create(name="curators")
    curators.permissions.add(*curator_permissions)
    archivists, _ = Group.objects.get_or_create(name="archivists")
    archivists.permissions.add(*curator_permissions, identity)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["researchers", "curators", "archivists"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("testimonies", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]

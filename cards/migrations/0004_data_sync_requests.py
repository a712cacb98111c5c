"""SINKRONISASI is a data-synchronisation request, not a phone-number link (issue 13): NumberLinkRequest becomes
DataSyncRequest in a table of its own name, with who asked (a messaging contact), a documents step and one
open request per NIK and office.

Existing rows: a confirmed number link counts as done (synchronised, with a note saying what it was); of two
open requests for the same NIK at an office the oldest stays open and the others are closed as refused
duplicates (nobody is messaged by a migration). The permissions keep their groups and users: they are renamed
in place (view/add/change/delete/decide_numberlinkrequest → …_datasyncrequest).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Concat, Left

OPEN = ("received", "documents_requested")
PERMISSIONS = {
    "view_numberlinkrequest": ("view_datasyncrequest", "Can view permohonan sinkronisasi data"),
    "add_numberlinkrequest": ("add_datasyncrequest", "Can add permohonan sinkronisasi data"),
    "change_numberlinkrequest": ("change_datasyncrequest", "Can change permohonan sinkronisasi data"),
    "delete_numberlinkrequest": ("delete_datasyncrequest", "Can delete permohonan sinkronisasi data"),
    "decide_numberlinkrequest": ("decide_datasyncrequest", "Boleh memproses sinkronisasi data"),
}


def rows_and_permissions_forward(apps, schema_editor):
    DataSyncRequest = apps.get_model("cards", "DataSyncRequest")
    DataSyncRequest.objects.filter(status="confirmed").update(
        status="synchronised", note=Left(Concat(models.Value("(dulu: nomor WhatsApp dihubungkan) "), "note"), 300)
    )
    seen: set[tuple[int, str]] = set()
    for pk, office_id, nik in (
        DataSyncRequest.objects.filter(status__in=OPEN)
        .order_by("received_at", "id")
        .values_list("pk", "office_id", "nik")
    ):
        if (office_id, nik) in seen:
            DataSyncRequest.objects.filter(pk=pk).update(status="refused", note="Duplikat permohonan yang lebih awal")
        seen.add((office_id, nik))

    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type = ContentType.objects.filter(app_label="cards", model="datasyncrequest").first()
    for old, (new, name) in PERMISSIONS.items():
        permission = Permission.objects.filter(content_type__app_label="cards", codename=old).first()
        if permission is None:
            continue  # a fresh database: post_migrate creates the new ones
        existing = Permission.objects.filter(content_type__app_label="cards", codename=new).first()
        if existing is not None:
            # Both exist (created by an earlier post_migrate): move the holders to the new one.
            for group in permission.group_set.all():
                group.permissions.add(existing)
            for user in permission.user_set.all():
                user.user_permissions.add(existing)
            permission.delete()
            continue
        permission.codename, permission.name = new, name
        if content_type is not None:
            permission.content_type = content_type
        permission.save()


def rows_and_permissions_backward(apps, schema_editor):
    DataSyncRequest = apps.get_model("cards", "DataSyncRequest")
    DataSyncRequest.objects.filter(status="synchronised").update(status="confirmed")
    DataSyncRequest.objects.filter(status="documents_requested").update(status="received")
    Permission = apps.get_model("auth", "Permission")
    for old, (new, _name) in PERMISSIONS.items():
        Permission.objects.filter(content_type__app_label="cards", codename=new).update(codename=old)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cards", "0003_cardrequestevent_resident_moved"),
        ("messaging", "0002_outbox_contacts_numbers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel(old_name="NumberLinkRequest", new_name="DataSyncRequest"),
        migrations.AlterModelTable(name="datasyncrequest", table=None),
        migrations.RenameIndex(
            model_name="datasyncrequest", new_name="datasync_office_queue", old_name="numberlink_office_queue"
        ),
        migrations.RenameField(model_name="datasyncrequest", old_name="decision_note", new_name="note"),
        migrations.AlterModelOptions(
            name="datasyncrequest",
            options={
                "ordering": ["received_at", "id"],
                "permissions": [("decide_datasyncrequest", "Boleh memproses sinkronisasi data")],
                "verbose_name": "permohonan sinkronisasi data",
                "verbose_name_plural": "permohonan sinkronisasi data",
            },
        ),
        migrations.AlterField(
            model_name="datasyncrequest",
            name="phone",
            field=models.CharField(blank=True, max_length=20, verbose_name="nomor yang dikabari"),
        ),
        migrations.AlterField(
            model_name="datasyncrequest",
            name="status",
            field=models.CharField(
                choices=[
                    ("received", "Menunggu pemeriksaan"),
                    ("documents_requested", "Menunggu dokumen"),
                    ("synchronised", "Sudah disinkronkan"),
                    ("refused", "Ditolak"),
                ],
                default="received",
                max_length=20,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="datasyncrequest",
            name="contact",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="messaging.contact",
                verbose_name="pengirim",
            ),
        ),
        migrations.AddField(
            model_name="datasyncrequest",
            name="documents_note",
            field=models.CharField(blank=True, max_length=500, verbose_name="dokumen yang diminta"),
        ),
        migrations.AddField(
            model_name="datasyncrequest",
            name="documents_requested_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="dokumen diminta"),
        ),
        migrations.AddField(
            model_name="datasyncrequest",
            name="documents_requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="dokumen diminta oleh",
            ),
        ),
        migrations.RunPython(rows_and_permissions_forward, rows_and_permissions_backward),
        migrations.AddConstraint(
            model_name="datasyncrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["received", "documents_requested"])),
                fields=("office", "nik"),
                name="datasync_one_open_per_nik",
            ),
        ),
    ]
